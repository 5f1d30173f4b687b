"""URL imports never reach inside the network (SSRF): loopback, private, link-local, metadata, multicast,
reserved and unspecified addresses in every spelling, behind redirects, and through DNS rebinding.

A real HTTP server on 127.0.0.1 plays the internal service and records every request it gets; each
payload must be refused with a clear message, leave no dataset and no temporary file, and never reach it.
Decompression bombs are imported in a memory-capped child process, one per payload, forked from a zygote
that has imported the app once (tests/zygote.py).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from core import datasets, storage
from core.config import reload_settings
from core.datasets import download
from core.errors import ConnectionFailed, InvalidInput
from tests.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]

SECRET = b"secret,value\ninternal,42\n"


class InternalHandler(BaseHTTPRequestHandler):
    """/secret.csv answers data; /to/<url> redirects to <url> (302, or 307 under /to307/)."""

    hits: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path.startswith(("/to/", "/to307/")):
            self.send_response(307 if self.path.startswith("/to307/") else 302)
            self.send_header("Location", self.path.split("/", 2)[2])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        InternalHandler.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(SECRET)))
        self.end_headers()
        self.wfile.write(SECRET)


@pytest.fixture
def internal(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The internal service's port; URL_TIMEOUT_S is short so an unreachable public address fails fast."""
    monkeypatch.setenv("URL_TIMEOUT_S", "2")
    reload_settings()
    server = ThreadingHTTPServer(("127.0.0.1", 0), InternalHandler)
    server.daemon_threads = True
    InternalHandler.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


PAYLOADS = [
    "http://127.0.0.1:{port}/secret.csv",
    "http://localhost:{port}/secret.csv",
    "http://LOCALHOST.:{port}/secret.csv",
    "http://2130706433:{port}/secret.csv",
    "http://0x7f000001:{port}/secret.csv",
    "http://0x7f.1:{port}/secret.csv",
    "http://127.1:{port}/secret.csv",
    "http://0177.0.0.1:{port}/secret.csv",
    "http://127.000.000.001:{port}/secret.csv",
    "http://0.0.0.0:{port}/secret.csv",
    "http://0:{port}/secret.csv",
    "http://[::1]:{port}/secret.csv",
    "http://[::]:{port}/secret.csv",
    "http://[::ffff:127.0.0.1]:{port}/secret.csv",
    "http://[::ffff:7f00:1]:{port}/secret.csv",
    "http://[0:0:0:0:0:ffff:127.0.0.1]:{port}/secret.csv",
    "http://[64:ff9b::7f00:1]:{port}/secret.csv",
    "http://[2002:7f00:1::]:{port}/secret.csv",
    "http://example.com@127.0.0.1:{port}/secret.csv",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://10.0.0.1/data.csv",
    "http://172.16.0.1/data.csv",
    "http://192.168.1.1/data.csv",
    "http://100.64.0.1/data.csv",
    "http://224.0.0.1/data.csv",
    "http://240.0.0.1/data.csv",
    "http://255.255.255.255/data.csv",
    "http://[fe80::1]/data.csv",
    "http://[fc00::1]/data.csv",
    "http://[ff02::1]/data.csv",
    "https://127.0.0.1:{port}/secret.csv",
    "http://localhost:{port}/to/http://127.0.0.1:{port}/secret.csv",
    "http://127.0.0.1:{port}/to307/http://[::1]:{port}/secret.csv",
    "http://127.0.0.1:{port}/to/http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:{port}/to///127.0.0.1:{port}/secret.csv",
]


def _assert_nothing(internal: int) -> None:
    assert InternalHandler.hits == []
    assert datasets.count_datasets() == 0
    assert not any(storage.area("tmp").iterdir())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_internal_addresses_are_refused(internal: int, payload: str) -> None:
    # When a URL pointing inside the network is imported
    with pytest.raises(InvalidInput) as caught:
        datasets.import_url(payload.format(port=internal))
    # Then it is refused with a message saying why, and the internal service was never reached
    assert "inside the network" in caught.value.message or "before '@'" in caught.value.message
    assert "URL_ALLOWED_HOSTS" in caught.value.hint or "@" in caught.value.message
    _assert_nothing(internal)


REDIRECTS = [
    "http://localhost:{port}/to/http://127.0.0.1:{port}/secret.csv",
    "http://localhost:{port}/to307/http://2130706433:{port}/secret.csv",
    "http://localhost:{port}/to/http://[::ffff:127.0.0.1]:{port}/secret.csv",
    "http://localhost:{port}/to/http://169.254.169.254/latest/meta-data/",
    "http://localhost:{port}/to/http://0.0.0.0:{port}/secret.csv",
    "http://localhost:{port}/to///[::1]:{port}/secret.csv",
]


@pytest.mark.parametrize("payload", REDIRECTS)
def test_a_redirect_from_an_allowed_host_to_an_internal_one_is_refused(
        internal: int, payload: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given only the host name 'localhost' is allowed (a deployment's own file server)
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "localhost")
    reload_settings()
    # When it redirects to another internal address, Then that hop is vetted and refused
    with pytest.raises(InvalidInput, match="inside the network"):
        datasets.import_url(payload.format(port=internal))
    _assert_nothing(internal)


def test_dns_rebinding_cannot_switch_the_address_after_the_check(
        internal: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a host name whose first answer is public and every later answer is loopback
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: object, port: object, *args: object, **kwargs: object) -> list:
        if host == "rebind.example":
            answers.append("public" if not answers else "loopback")
            return real("1.1.1.1" if len(answers) == 1 else "127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    # When it is imported, Then the connection goes to the vetted public address (unreachable here),
    # never to the loopback answer a second lookup would give
    with pytest.raises(ConnectionFailed):
        datasets.import_url(f"http://rebind.example:{internal}/secret.csv")
    assert answers == ["public"]
    _assert_nothing(internal)


@pytest.mark.parametrize(("address", "why"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("0.0.0.0", "unspecified"), ("169.254.169.254", "link-local"),
    ("10.1.2.3", "private"), ("::ffff:10.0.0.1", "private"), ("224.0.0.251", "multicast"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "not public"), ("8.8.8.8", None), ("2606:4700::1111", None),
])
def test_address_policy(address: str, why: str | None) -> None:
    import ipaddress

    assert download.refusal(ipaddress.ip_address(address)) == why


def test_allow_private_opens_internal_addresses(internal: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployment that imports from its own network
    monkeypatch.setenv("URL_ALLOW_PRIVATE", "true")
    reload_settings()
    # When an internal URL is imported, Then it works (the setting is what keeps the default closed)
    ds = datasets.import_url(f"http://127.0.0.1:{internal}/secret.csv")
    assert datasets.load_frame(ds.id)["value"].tolist() == [42]
    assert InternalHandler.hits == ["/secret.csv"]


# ---------------------------------------------------------------- compressed bodies (decompression bombs)

CHILD_CAP = 1536 * 1024 * 1024  # the importing child may use 1.5 GB of address space; each bomb expands to 2 GB


def _zeros_deflate(megabytes: int) -> bytes:
    """A raw deflate stream of `megabytes` MB of zero bytes, built by hand in milliseconds.

    One fixed-Huffman block: a literal 0, then matches of 258 bytes at distance 1 (13 bits each), so
    eight matches are exactly 13 bytes and the stream is periodic from its third byte on.
    """
    def stream(matches: int) -> bytes:
        bits = [1, 1, 0] + [int(b) for b in "00110000"] + [int(b) for b in "1100010100000"] * matches + [0] * 7
        bits += [0] * (-len(bits) % 8)
        return bytes(sum(bit << i for i, bit in enumerate(bits[k:k + 8])) for k in range(0, len(bits), 8))

    small = stream(16)
    repeats = megabytes * 1024 * 1024 // (258 * 8)
    return small[:2] + small[2:15] * repeats + small[2:]


def _gzip_member(deflate: bytes) -> bytes:
    """A gzip member around a raw deflate stream (the trailer is never reached by a capped reader)."""
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + deflate + b"\x00" * 8


def _gzip_bomb() -> bytes:
    return _gzip_member(_zeros_deflate(2048))


def _double_gzip_bomb() -> bytes:
    import gzip

    return gzip.compress(_gzip_bomb(), 9)


def _zstd_bomb() -> bytes:
    import zstandard

    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    zeros = bytes(64 * 1024 * 1024)
    return b"".join(compressor.compress(zeros) for _ in range(32)) + compressor.flush()


COMPRESSED_BOMBS = [
    # (id, body, Content-Encoding header values, words of the refusal)
    ("gzip-gzip-one-header", _double_gzip_bomb, ["gzip, gzip"], "compressed as gzip, gzip"),
    ("gzip-gzip-two-headers", _double_gzip_bomb, ["gzip", "gzip"], "compressed as gzip, gzip"),
    ("deflate-gzip", _double_gzip_bomb, ["deflate, gzip"], "compressed as deflate, gzip"),
    ("zstd", _zstd_bomb, ["zstd"], "compressed as zstd"),
    ("br", _double_gzip_bomb, ["br"], "compressed as br"),
    ("gzip-one-layer", _gzip_bomb, ["gzip"], "over the 40 MB limit"),
    ("x-gzip-one-layer", _gzip_bomb, ["x-gzip"], "over the 40 MB limit"),
]


def _serve(body: bytes, encodings: list[str]) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            for value in encodings:
                self.send_header("Content-Encoding", value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:  # the importer hung up after refusing: what the test wants
                return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _child_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MAX_UPLOAD_MB": "40", "URL_ALLOWED_HOSTS": "127.0.0.1", "URL_TIMEOUT_S": "60",
            "DATA_DIR": str(tmp_path / "child-data"), "DATABASE_URL": "", "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """Forks the importing children, this file's imports done once (a fresh interpreter takes seconds for them)."""
    folder = tmp_path_factory.mktemp("zygote")
    with Zygote(["pytest", "core.datasets", "core.storage", "core.config", "core.datasets.download",
                     "core.errors"], env=_child_env(folder), cwd=folder) as started:
        yield started


def _import_in_capped_child(url: str, tmp_path: Path, zygote: Zygote) -> dict:
    done = zygote.run([__file__, url], cwd=tmp_path, env=_child_env(tmp_path), cap_bytes=CHILD_CAP, timeout=180)
    assert done.returncode == 0, f"the child died (rc {done.returncode}): {done.stderr[-1500:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("make", "encodings", "words"), [b[1:] for b in COMPRESSED_BOMBS],
                         ids=[b[0] for b in COMPRESSED_BOMBS])
def test_compressed_responses_cannot_expand_past_the_size_cap(tmp_path: Path, make: object, encodings: list[str],
                                                              words: str, zygote: Zygote) -> None:
    # Given a server answering a few kilobytes that expand to 2 GB (stacked, exotic or one layer)
    server, port = _serve(make(), encodings)  # type: ignore[operator]
    try:
        # When a child capped at 1.5 GB imports it
        outcome = _import_in_capped_child(f"http://127.0.0.1:{port}/zeros.csv", tmp_path, zygote)
    finally:
        server.shutdown()
        server.server_close()
    # Then it is refused with a clear WorkbenchError (no MemoryError) and leaves no dataset and no file
    assert outcome["workbench"], outcome
    assert words in outcome["message"], outcome["message"]
    assert outcome["datasets"] == 0 and outcome["files"] == 0


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_one_layer_of_gzip_or_deflate_is_still_read(encoding: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import zlib

    # Given a server that compresses a small CSV although the importer asked for identity
    body = gzip.compress(SECRET) if encoding == "gzip" else zlib.compress(SECRET)
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "127.0.0.1")
    reload_settings()
    server, port = _serve(body, [encoding])
    try:
        # When it is imported, Then the decoded rows arrive
        ds = datasets.import_url(f"http://127.0.0.1:{port}/secret.csv")
    finally:
        server.shutdown()
        server.server_close()
    assert datasets.load_frame(ds.id)["value"].tolist() == [42]


def _child(url: str) -> dict:
    from core.errors import WorkbenchError

    outcome: dict = {"workbench": False, "message": ""}
    try:
        ds = datasets.import_url(url)
        outcome["rows"] = ds.rows
    except WorkbenchError as exc:
        outcome.update(workbench=True, message=str(exc))
    except Exception as exc:  # reported to the parent, which fails the test
        outcome.update(error=type(exc).__name__, message=str(exc)[:500])
    outcome["datasets"] = datasets.count_datasets()
    outcome["files"] = sum(1 for area in ("datasets", "tmp") for p in storage.area(area).rglob("*") if p.is_file())
    return outcome


if __name__ == "__main__":  # the child: import one URL and print the outcome as JSON
    import logging
    import sys

    logging.disable(logging.CRITICAL)
    print(json.dumps(_child(sys.argv[1])))
