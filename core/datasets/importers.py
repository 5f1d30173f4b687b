"""Remote imports: a file from an http(s) URL, or from a Kaggle dataset.

Both download into DATA_DIR/tmp with the MAX_UPLOAD_MB cap enforced while streaming, then hand the
file to `datasets.ingest_file`, which detects the type from the content. The temporary download is
removed whatever happens.
"""

from __future__ import annotations

import email.message
import logging
import shutil
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from core import storage
from core.config import get_settings
from core.datasets import default_name, ingest_file
from core.errors import ConnectionFailed, IngestError, InvalidInput, TooLarge, UnsupportedFormat
from core.models.dataset import Dataset

log = logging.getLogger(__name__)

USER_AGENT = "workbench-importer/1.0"
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def check_url(url: str) -> str:
    """Return the URL stripped, or raise InvalidInput unless it is http(s) with a host."""
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc:
        raise InvalidInput(f"{url or 'The URL'!r} is not an http(s) address.",
                           hint="Paste a link starting with https:// that downloads a data file.")
    return url


def download(url: str, target: Path) -> tuple[str, str]:
    """Stream `url` into `target` under the size cap, timeout and redirect limit; return (filename, content type)."""
    settings = get_settings()
    limit = settings.max_upload_mb * 1024 * 1024
    deadline = time.monotonic() + settings.url_timeout_s
    try:
        with httpx.Client(follow_redirects=True, max_redirects=settings.url_max_redirects,
                          timeout=settings.url_timeout_s, headers={"User-Agent": USER_AGENT}) as client, \
                client.stream("GET", url) as response:
            _check_response(response, url)
            declared = int(response.headers.get("content-length") or 0)
            if declared > limit:
                raise _too_large(declared, settings.max_upload_mb)
            _stream(response, target, limit, deadline, settings.url_timeout_s)
            return _filename(response), response.headers.get("content-type", "")
    except httpx.TooManyRedirects as exc:
        raise ConnectionFailed(f"{url} redirects more than {settings.url_max_redirects} times.",
                               hint="Use the final download link, or raise URL_MAX_REDIRECTS.") from exc
    except httpx.TimeoutException as exc:
        raise ConnectionFailed(f"{url} did not answer within {settings.url_timeout_s:g} s.",
                               hint="Try again later, or raise URL_TIMEOUT_S.") from exc
    except httpx.UnsupportedProtocol as exc:
        raise InvalidInput(f"{url} redirected to an address that is not http(s).") from exc
    except httpx.HTTPError as exc:
        raise ConnectionFailed(f"{url} could not be reached: {exc}", hint="Check the address and your network.") from exc


def _check_response(response: httpx.Response, url: str) -> None:
    if response.status_code >= 400:
        reason = response.reason_phrase or "error"
        hint = "Check the address." if response.status_code == 404 else "The link may need a login or be expired."
        raise ConnectionFailed(f"The server answered {response.status_code} {reason} for {url}.", hint=hint)
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in _HTML_TYPES:
        raise UnsupportedFormat(f"{url} answered with a web page (HTML), not a data file.",
                                hint="Open the page, copy the direct download link of the file and paste that.")


def _stream(response: httpx.Response, target: Path, limit: int, deadline: float, timeout_s: float) -> None:
    written = 0
    with target.open("wb") as out:
        for chunk in response.iter_bytes(1 << 20):
            written += len(chunk)
            if written > limit:
                raise _too_large(written, limit // (1024 * 1024), partial=True)
            if time.monotonic() > deadline:
                raise ConnectionFailed(f"The download took longer than {timeout_s:g} s and was stopped.",
                                       hint="Try a smaller file or raise URL_TIMEOUT_S.")
            out.write(chunk)


def _too_large(size: int, limit_mb: int, *, partial: bool = False) -> TooLarge:
    what = "more than" if partial else ""
    return TooLarge(f"The download is {what} {size / 1024 / 1024:.1f} MB, over the {limit_mb} MB limit.".replace(
        "  ", " "), hint="Raise MAX_UPLOAD_MB in the settings or import a smaller file.")


def _filename(response: httpx.Response) -> str:
    disposition = response.headers.get("content-disposition", "")
    if disposition:
        msg = email.message.Message()
        msg["content-disposition"] = disposition
        name = msg.get_filename()
        if name:
            return Path(name).name
    name = Path(unquote(response.url.path)).name
    return name or "download"


def import_url(url: str, *, name: str | None = None, **options: object) -> Dataset:
    """Download an http(s) URL and import it; the type is detected from the content."""
    url = check_url(url)
    tmp = storage.area("tmp") / f"url-{uuid.uuid4().hex}"
    try:
        filename, _ctype = download(url, tmp)
        if tmp.stat().st_size == 0:
            raise IngestError(f"{url} answered with an empty body.", hint="Check the link.")
        return ingest_file(tmp, name=name or default_name(filename), filename=filename, source="url",
                           source_detail=url, **options)
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
    api = _kaggle_api()
    folder = storage.area("tmp") / f"kaggle-{uuid.uuid4().hex}"
    try:
        _kaggle_call(lambda: api.dataset_download_file(slug, file, path=str(folder), force=True, quiet=True), slug)
        downloaded = [p for p in folder.rglob("*") if p.is_file()]
        if not downloaded:
            raise IngestError(f"Kaggle sent nothing for {slug}/{file}.", hint="Try again later.")
        got = downloaded[0]
        return ingest_file(got, name=name or default_name(file), filename=got.name, source="kaggle",
                           source_detail=f"{slug}/{file}", **options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
