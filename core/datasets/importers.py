"""Imports: a local or uploaded file, an http(s) URL, or a file of a Kaggle dataset.

Every import reads into a pyarrow Table (`core.readers`) and hands it to `store.store_table`, which
writes the Parquet file and the rows or nothing. Remote imports download into DATA_DIR/tmp first
(URLs through `download`, which refuses internal addresses; Kaggle through its client), with the
MAX_UPLOAD_MB cap enforced while streaming; the temporary download is removed whatever happens.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from core import readers, storage
from core.config import get_settings
from core.datasets.download import check_url, download
from core.datasets.store import check_size, default_name, store_parquet, store_table
from core.errors import ConnectionFailed, IngestError, InvalidInput, NotFound
from core.models.dataset import Dataset

log = logging.getLogger(__name__)


def detect_file(path: str | Path, filename: str | None = None, **options: object) -> readers.Detected:
    """What a file looks like (format, delimiter, encoding, header, sheets; the first rows of delimited text,
    read with `options`) before importing it."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}.")
    check_size(path.stat().st_size, what=f"The file {filename or path.name}")
    return readers.detect(path, filename, **options)


def ingest_file(path: str | Path, *, name: str | None = None, **options: object) -> Dataset:
    """Import a local file as a new dataset.

    The format is detected from the content: CSV/TSV/TXT, Excel (.xlsx/.xls), JSON (records, columns,
    JSON Lines), Parquet, Feather, optionally inside .gz or a single-file .zip. Options: delimiter,
    encoding, header, quotechar, escape, comment, skip_rows, decimal, skip_bad_rows (text; 'none' turns a
    quote, escape or comment character off), sheet, password, member; `filename` names
    the original file when `path` is a temporary copy.
    Raises IngestError (empty, unreadable, too big once read), UnsupportedFormat, TooLarge, InvalidInput
    (bad name), Conflict (name taken).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}.")
    filename = str(options.pop("filename", None) or path.name)
    check_size(path.stat().st_size, what=f"The file {filename}")
    source = str(options.pop("source", "upload"))
    detail = str(options.pop("source_detail", "") or filename)
    if readers.sniff_format(path, filename) == "csv":
        return _ingest_csv(path, name=name or default_name(filename), filename=filename, source=source,
                           detail=detail, **options)
    result = readers.read(path, filename=filename, **options)
    return store_table(result.table, name=name or default_name(filename), source=source,
                       source_detail=detail, fmt=result.format, notes=result.notes)


def _ingest_csv(path: Path, *, name: str, filename: str, source: str, detail: str, **options: object) -> Dataset:
    """Delimited text streamed by DuckDB straight into the dataset's Parquet file (bounded memory at any size)."""
    notes: list[str] = []
    return store_parquet(lambda tmp: readers.csv_to_parquet(path, tmp, filename, notes, **options), name=name,
                         source=source, source_detail=detail, fmt="csv", notes=notes)


def ingest_upload(data: bytes, filename: str, *, name: str | None = None, **options: object) -> Dataset:
    """Import bytes received from an upload widget; `filename` gives the default name."""
    safe = storage.check_name(Path(filename).name if "/" not in filename and "\\" not in filename else filename,
                              what="file name")
    check_size(len(data), what=f"The file {safe}")
    tmp = storage.area("tmp") / f"{uuid.uuid4().hex}-{safe}"
    try:
        tmp.write_bytes(data)
        return ingest_file(tmp, name=name or default_name(safe), filename=safe, **options)
    finally:
        tmp.unlink(missing_ok=True)


def import_url(url: str, *, name: str | None = None, **options: object) -> Dataset:
    """Download an http(s) URL and import it; the type is detected from the content.

    Internal addresses are refused (InvalidInput) unless URL_ALLOW_PRIVATE or URL_ALLOWED_HOSTS
    allow them; see `core.datasets.download`.
    """
    url = check_url(url)
    with fetched_url(url) as (tmp, filename):
        return ingest_file(tmp, name=name or default_name(filename), filename=filename, source="url",
                           source_detail=url, **options)


@contextmanager
def fetched_url(url: str) -> Iterator[tuple[Path, str]]:
    """Download `url` into DATA_DIR/tmp and yield (file, file name); the file is removed afterwards.

    Refused addresses, HTML and empty bodies raise (see `download`); a scheduled refresh reads the
    same bytes an import would."""
    tmp = storage.area("tmp") / f"url-{uuid.uuid4().hex}"
    try:
        filename, _ctype = download(check_url(url), tmp)
        if tmp.stat().st_size == 0:
            raise IngestError(f"{url} answered with an empty body.", hint="Check the link.")
        yield tmp, filename
    finally:
        tmp.unlink(missing_ok=True)


# ---------------------------------------------------------------- Kaggle

def _kaggle_api() -> object:
    """A KaggleApi with our credentials, pointed at KAGGLE_API_URL when set (imported lazily: it logs in on import)."""
    settings = get_settings()
    key = settings.kaggle_key.get_secret_value() if settings.kaggle_key else ""
    if not settings.kaggle_username or not key:
        raise IngestError("Kaggle credentials are missing.",
                          hint="Set KAGGLE_USERNAME and KAGGLE_KEY (from kaggle.com > Settings > API) and restart.")
    from kaggle.api.kaggle_api_extended import KaggleApi

    base = settings.kaggle_api_url.rstrip("/")

    class WorkbenchKaggleApi(KaggleApi):
        def build_kaggle_client(self):
            client = super().build_kaggle_client()
            if base:  # the SDK has no endpoint setting; production calls go to {endpoint}/v1/...
                client._http_client._endpoint = base
            return client

    api = WorkbenchKaggleApi()
    api.config_values = {api.CONFIG_NAME_USER: settings.kaggle_username, api.CONFIG_NAME_KEY: key}
    return api


def check_slug(slug: str) -> str:
    slug = (slug or "").strip().strip("/")
    if slug.startswith("https://"):
        slug = urlparse(slug).path.removeprefix("/datasets/").strip("/")
    parts = slug.split("/")
    if len(parts) != 2 or not all(p and all(ch.isalnum() or ch in "-_." for ch in p) for p in parts):
        raise InvalidInput(f"{slug!r} is not a Kaggle dataset reference.", hint="Write it as owner/dataset-name.")
    return slug


def kaggle_files(slug: str) -> list[str]:
    """The file names of a Kaggle dataset."""
    slug = check_slug(slug)
    api = _kaggle_api()
    response = _kaggle_call(lambda: api.dataset_list_files(slug, page_size=200), slug)
    if getattr(response, "error_message", None):
        raise IngestError(f"Kaggle: {response.error_message}", hint="Check the dataset reference.")
    return [f.name for f in response.dataset_files or [] if f is not None]


def _kaggle_call(fn: object, slug: str) -> object:
    import requests

    try:
        return fn()  # type: ignore[operator]
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise ConnectionFailed("Kaggle refused the credentials (wrong user name or key).",
                                   hint="Check KAGGLE_USERNAME and KAGGLE_KEY; create a new API token if needed.") from exc
        if status == 404:
            raise IngestError(f"Kaggle has no dataset or file {slug!r}.", hint="Check the reference owner/dataset.") from exc
        raise ConnectionFailed(f"Kaggle answered an error: {exc}", hint="Try again later.") from exc
    except requests.RequestException as exc:
        raise ConnectionFailed(f"Kaggle could not be reached: {exc}", hint="Check the network or KAGGLE_API_URL.") from exc


def import_kaggle(slug: str, *, file: str | None = None, name: str | None = None, **options: object) -> Dataset:
    """Import one file of a Kaggle dataset ('owner/dataset'); `file` is needed when it has several."""
    slug = check_slug(slug)
    if not file:
        files = kaggle_files(slug)
        if not files:
            raise IngestError(f"The Kaggle dataset {slug} has no files.")
        if len(files) > 1:
            raise InvalidInput(f"The Kaggle dataset {slug} has {len(files)} files: {', '.join(files[:15])}.",
                               hint="Choose which file to import.")
        file = files[0]
    with fetched_kaggle_file(slug, file) as got:
        return ingest_file(got, name=name or default_name(file), filename=got.name, source="kaggle",
                           source_detail=f"{slug}/{file}", **options)


@contextmanager
def fetched_kaggle_file(slug: str, file: str) -> Iterator[Path]:
    """Download one file of a Kaggle dataset into DATA_DIR/tmp and yield it; removed afterwards."""
    api = _kaggle_api()
    folder = storage.area("tmp") / f"kaggle-{uuid.uuid4().hex}"
    try:
        _kaggle_call(lambda: api.dataset_download_file(slug, file, path=str(folder), force=True, quiet=True), slug)
        downloaded = [p for p in folder.rglob("*") if p.is_file()]
        if not downloaded:
            raise IngestError(f"Kaggle sent nothing for {slug}/{file}.", hint="Try again later.")
        yield downloaded[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
