"""The shared object store behind DATA_DIR=s3://bucket/prefix, through pyarrow's S3 file system.

Files are still written and read on local disk (DATA_CACHE_DIR), so DuckDB, pyarrow and every reader
keep working on paths; this module publishes a finished local file to the bucket and fetches a missing
one back. Stored files are immutable once published (a dataset version, a model, a document, a profile
of one version), so a local copy never goes stale. Publishing uploads to a temporary key and then copies
it to the final key in one server-side call: another machine sees the whole object or nothing, never a
half-uploaded one, whatever happens to this process mid-upload.
"""

from __future__ import annotations

import logging
import os
import uuid
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from core.config import get_settings
from core.errors import StorageUnavailable

log = logging.getLogger(__name__)

RETRIES = 3  # attempts per request (the AWS default); each waits longer than the one before
SHARED_AREAS = ("datasets", "models", "documents")  # the rest (tmp, uploads, chroma) is per machine
_HINT = "Check DATA_DIR, S3_ENDPOINT_URL and the S3 credentials, and that the bucket exists."


def enabled() -> bool:
    """True when DATA_DIR is a bucket URL."""
    return bool(get_settings().data_store)


def shared(relative: str) -> bool:
    """True when a path relative to DATA_DIR belongs in the bucket (not a per-machine area)."""
    return enabled() and relative.split("/", 1)[0] in SHARED_AREAS


def _root() -> str:
    """'bucket/prefix' without slashes at either end."""
    return get_settings().data_store[5:].strip("/")


def key(relative: str) -> str:
    """The bucket key of a path relative to DATA_DIR."""
    return f"{_root()}/{relative.strip('/')}"


def filesystem() -> pafs.S3FileSystem:
    """The S3 file system for the configured endpoint and credentials (one per setting values)."""
    s = get_settings()
    secret = s.s3_secret_access_key.get_secret_value() if s.s3_secret_access_key else ""
    return _filesystem(s.s3_endpoint_url, s.s3_region, s.s3_access_key_id, secret)


@lru_cache(maxsize=4)
def _filesystem(endpoint: str, region: str, access_key: str, secret: str) -> pafs.S3FileSystem:
    options: dict[str, object] = {"region": region, "connect_timeout": 10, "request_timeout": 60,
                                  "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=RETRIES)}
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        options.update(endpoint_override=host.rstrip("/") if host else endpoint, scheme=scheme if host else "https")
    if access_key:
        options.update(access_key=access_key, secret_key=secret)
    return pafs.S3FileSystem(**options)


def publish(local: Path, relative: str) -> None:
    """Upload a finished local file to its key: a temporary key first, then one copy onto the final key."""
    fs, final = filesystem(), key(relative)
    tmp = key(f"tmp/.upload-{uuid.uuid4().hex}")
    try:
        _upload(fs, local, tmp)
        fs.copy_file(tmp, final)
    except (OSError, pa.ArrowException) as exc:
        raise StorageUnavailable(f"Could not save {relative} to the shared store: {_short(exc)}", hint=_HINT) from exc
    finally:
        _forget(fs, tmp)


def _upload(fs: pafs.S3FileSystem, local: Path, target: str) -> None:
    with local.open("rb") as src, fs.open_output_stream(target) as out:
        while chunk := src.read(8 * 1024 * 1024):
            out.write(chunk)


def _forget(fs: pafs.S3FileSystem, target: str) -> None:
    try:
        fs.delete_file(target)
    except (OSError, pa.ArrowException) as exc:  # a stray temporary key is harmless; the final key is whole
        log.debug("temporary key %s not deleted: %s", target, exc)


def exists(relative: str) -> bool:
    """True when the bucket holds a file at this path."""
    try:
        return filesystem().get_file_info(key(relative)).type == pafs.FileType.File
    except (OSError, pa.ArrowException) as exc:
        raise StorageUnavailable(f"Could not reach the shared store: {_short(exc)}", hint=_HINT) from exc


def fetch(relative: str, local: Path) -> bool:
    """Download the file (or every file under the folder) at `relative` to `local`; False when there is none.

    Each file is downloaded beside its target and renamed into place, so a reader never sees half a file.
    """
    fs = filesystem()
    try:
        info = fs.get_file_info(key(relative))
        if info.type == pafs.FileType.File:
            _download(fs, info.path, local)
            return True
        if info.type != pafs.FileType.Directory:
            return False
        for item in fs.get_file_info(pafs.FileSelector(info.path, recursive=True)):
            if item.type == pafs.FileType.File:
                _download(fs, item.path, local / item.path[len(info.path):].lstrip("/"))
        return True
    except (OSError, pa.ArrowException) as exc:
        raise StorageUnavailable(f"Could not read {relative} from the shared store: {_short(exc)}", hint=_HINT) from exc


def _download(fs: pafs.S3FileSystem, source: str, local: Path) -> None:
    local.parent.mkdir(parents=True, exist_ok=True)
    tmp = local.with_name(f".fetch-{uuid.uuid4().hex}-{local.name}")
    try:
        with fs.open_input_stream(source) as src, tmp.open("wb") as out:
            while chunk := src.read(8 * 1024 * 1024):
                out.write(chunk)
        os.replace(tmp, local)
    finally:
        tmp.unlink(missing_ok=True)


def remove(relative: str) -> None:
    """Delete the file or every file under the folder at `relative` (nothing when there is none)."""
    fs, target = filesystem(), key(relative)
    try:
        info = fs.get_file_info(target)
        if info.type == pafs.FileType.File:
            fs.delete_file(target)
        elif info.type == pafs.FileType.Directory:
            fs.delete_dir(target)
    except (OSError, pa.ArrowException) as exc:
        raise StorageUnavailable(f"Could not delete {relative} from the shared store: {_short(exc)}",
                                 hint=_HINT) from exc


def _short(exc: BaseException) -> str:
    """The first line of a pyarrow/AWS error (they can run to many lines of request details)."""
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
