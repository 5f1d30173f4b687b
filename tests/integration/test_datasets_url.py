"""URL imports against a real local HTTP server: data by content type, HTML, 404, endless bodies, redirects."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import datasets, storage
from core.config import reload_settings
from core.errors import ConnectionFailed, InvalidInput, TooLarge, UnsupportedFormat

pytestmark = pytest.mark.integration

CSV = b"city;population\nLyon;522000\nNantes;320000\n"


class Handler(BaseHTTPRequestHandler):
    """Routes: /data.csv, /noext (CSV without an extension), /html, /missing (404), /endless, /slow,
    /trickle (a line every 0.5 s for 15 s),
    /redirect/<n> (n hops then the CSV), /loop (redirects forever), /ftp (redirect to ftp://)."""

    def log_message(self, *args: object) -> None:  # keep test output quiet
        return

    def _send(self, status: int, body: bytes, ctype: str = "application/octet-stream", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests += 1  # type: ignore[attr-defined]
        path = self.path
        if path in ("/data.csv", "/noext"):
            self._send(200, CSV, "text/plain", Content_Disposition='attachment; filename="cities.csv"'
                       if path == "/noext" else "inline")
        elif path == "/html":
            self._send(200, b"<!doctype html><html><body>Sign in</body></html>", "text/html; charset=utf-8")
        elif path == "/html-as-csv":
            self._send(200, b"<!DOCTYPE html><html><body>Sign in</body></html>", "text/csv")
        elif path == "/missing":
            self._send(404, b"not here", "text/plain")
        elif path == "/empty":
            self._send(200, b"", "text/csv")
        elif path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            try:
                self.wfile.write(b"a\n")
                while True:
                    self.wfile.write(b"1\n" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                return
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.end_headers()
            try:
                for i in range(30):
                    self.wfile.write(f"{i}\n".encode())
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                return
        elif path == "/slow":
            time.sleep(3)
            self._send(200, CSV, "text/csv")
        elif path.startswith("/redirect/"):
            hops = int(path.rsplit("/", 1)[1])
            target = f"/redirect/{hops - 1}" if hops > 1 else "/data.csv"
            self._send(302, b"", Location=target)
        elif path == "/loop":
            self._send(302, b"", Location="/loop")
        elif path == "/ftp":
            self._send(302, b"", Location="ftp://example.org/data.csv")
        else:
            self._send(404, b"")


class DataServer:
    """A threaded HTTP server on a free port, serving `Handler`'s routes."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.requests = 0  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    @property
    def requests(self) -> int:
        """How many requests reached the server."""
        return self.server.requests  # type: ignore[attr-defined]

    def __enter__(self) -> DataServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[DataServer]:
    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    monkeypatch.setenv("URL_TIMEOUT_S", "2")
    monkeypatch.setenv("URL_MAX_REDIRECTS", "3")
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "127.0.0.1")  # the test server is on loopback, refused by default
    reload_settings()
    with DataServer() as running:
        yield running


@pytest.mark.parametrize("path", ["/data.csv", "/noext", "/redirect/2"])
def test_url_import_detects_the_content(server: DataServer, path: str) -> None:
    # When a URL serving CSV text is imported (with or without an extension, after redirects)
    ds = datasets.import_url(server.url(path))
    # Then the rows arrive, the delimiter was detected, and the source is recorded
    assert datasets.load_frame(ds.id)["population"].tolist() == [522000, 320000]
    assert ds.source == "url" and ds.source_detail == server.url(path)
    if path == "/noext":
        assert ds.name == "cities"


BAD_URLS = [
    ("/html", UnsupportedFormat, "web page"),
    ("/html-as-csv", UnsupportedFormat, "web page"),
    ("/missing", ConnectionFailed, "404"),
    ("/empty", Exception, "empty"),
    ("/endless", TooLarge, "over the 1 MB limit"),
    ("/slow", ConnectionFailed, "2 s"),
    ("/loop", ConnectionFailed, "redirects more than 3"),
    ("/redirect/5", ConnectionFailed, "redirects more than 3"),
    ("/ftp", InvalidInput, "not http"),
]


@pytest.mark.parametrize(("path", "error", "words"), BAD_URLS, ids=[b[0] for b in BAD_URLS])
def test_bad_urls_fail_with_a_message_and_leave_nothing(server: DataServer, path: str, error: type,
                                                        words: str) -> None:
    with pytest.raises(error) as caught:
        datasets.import_url(server.url(path))
    assert words.lower() in str(caught.value).lower()
    assert datasets.count_datasets() == 0
    assert not any(storage.area("tmp").iterdir())


def test_a_slow_body_cannot_stretch_the_time_limit(server: DataServer) -> None:
    # Given a server that keeps sending a line every half second (each read well inside the 2 s timeout)
    started = time.monotonic()
    # When it is imported, Then the import stops at the 2 s deadline, not when the body ends (15 s)
    with pytest.raises(ConnectionFailed, match="2 s"):
        datasets.import_url(server.url("/trickle"))
    assert time.monotonic() - started < 3.5
    assert datasets.count_datasets() == 0
    assert not any(storage.area("tmp").iterdir())


def test_loopback_is_refused_without_the_allow_list(server: DataServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the same local server, but no URL_ALLOWED_HOSTS
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "")
    reload_settings()
    # When it is imported, Then it is refused as an internal address, and allowed again with URL_ALLOW_PRIVATE
    with pytest.raises(InvalidInput, match="loopback"):
        datasets.import_url(server.url("/data.csv"))
    monkeypatch.setenv("URL_ALLOW_PRIVATE", "true")
    reload_settings()
    assert datasets.import_url(server.url("/data.csv")).rows == 2


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "ftp://example.org/x.csv", "javascript:alert(1)",
                                 "http://"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(InvalidInput, match="http"):
        datasets.import_url(url)
