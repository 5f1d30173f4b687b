"""Files under DATA_DIR: datasets (Parquet), models, documents.

Writes are atomic (a temporary file renamed into place), so a failed import
leaves nothing half-written behind. When DATA_DIR is an s3:// bucket URL, the folder here is the local
working copy (DATA_CACHE_DIR): a finished file in a shared area (datasets, models, documents) is then
published to the bucket before `atomic_path` returns, a missing one is fetched back by `absolute` and
`local`, and `remove_tree` deletes both copies (see `core.objectstore`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core import objectstore
from core.config import get_settings
from core.errors import Conflict, InvalidInput

_NAME_RE = re.compile(r"^[\w][\w .()+,-]{0,199}$", re.UNICODE)


def data_dir() -> Path:
    """The configured data folder, created if missing."""
    path = get_settings().data_dir.resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def area(name: str) -> Path:
    """A sub-folder of DATA_DIR (datasets, models, documents, tmp), created if missing."""
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_name(name: str, *, what: str = "name") -> str:
    """Return `name` stripped, or raise InvalidInput when it could escape a folder or is unusable."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInput(f"The {what} is empty.", hint="Give it a short name such as 'sales_2024'.")
    if ".." in cleaned or "/" in cleaned or "\\" in cleaned or "\x00" in cleaned:
        raise InvalidInput(
            f"The {what} {cleaned!r} contains a path ('..', '/' or '\\').",
            hint="Use letters, digits, spaces, '_', '-' or '.' only.",
        )
    if not _NAME_RE.match(cleaned):
        raise InvalidInput(
            f"The {what} {cleaned!r} has characters that are not allowed.",
            hint="Use letters, digits, spaces, '_', '-' or '.' only (at most 200 characters).",
        )
    return cleaned


def inside(base: Path, path: Path) -> Path:
    """Resolve `path` and make sure it lies inside `base`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(base.resolve()):
        raise InvalidInput(f"The path {path} lies outside the data folder.")
    return resolved


def dataset_dir(dataset_id: uuid.UUID | str) -> Path:
    return area("datasets") / str(dataset_id)


def dataset_file(dataset_id: uuid.UUID | str, version: int = 1) -> Path:
    """Where version `version` of a dataset's Parquet file lives."""
    return dataset_dir(dataset_id) / f"v{version}.parquet"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it into place on success, delete it on error."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
        _publish(target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _publish(target: Path) -> None:
    """Upload a finished file in a shared area to the bucket; on failure remove the local file too."""
    rel = relative(target)
    if not objectstore.shared(rel):
        return
    try:
        objectstore.publish(target, rel)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def publish_new(target: Path) -> None:
    """Publish a file that must not replace one another machine already stored (a new dataset version).

    Raises Conflict when the bucket already holds that path; the local file is removed on any failure.
    """
    rel = relative(target)
    if objectstore.shared(rel) and objectstore.exists(rel):
        target.unlink(missing_ok=True)
        raise Conflict("Another change to this dataset was saved at the same time.",
                       hint="Reload the page and apply the step again.")
    _publish(target)


def local(path: Path) -> Path:
    """`path` (inside DATA_DIR), fetched from the bucket first when it is shared and not here yet."""
    path = inside(data_dir(), path)
    if not path.exists() and objectstore.shared(rel := str(path.relative_to(data_dir()))):
        objectstore.fetch(rel, path)
    return path


def remove_tree(path: Path) -> None:
    """Delete a file or folder inside DATA_DIR if it exists."""
    path = inside(data_dir(), path)
    if objectstore.shared(rel := str(path.relative_to(data_dir()))):
        objectstore.remove(rel)
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def relative(path: Path) -> str:
    """A path relative to DATA_DIR, as stored in the database (portable across machines)."""
    return str(inside(data_dir(), path).relative_to(data_dir()))


def absolute(stored: str) -> Path:
    """Turn a stored relative path back into an absolute one inside DATA_DIR."""
    return local(data_dir() / stored)
