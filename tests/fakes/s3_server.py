"""A local server on loopback that speaks enough of the S3 REST protocol for pyarrow's S3FileSystem.

moto's server mode would be the usual choice, but its botocore dependency needs python-dateutil < 3 and
this project pins 4.0, so the tests bring this small fake instead. Path-style requests only; signatures
are not checked (the tests check what was stored, not AWS authentication). It answers: HeadBucket,
CreateBucket, ListObjectsV2, HeadObject, GetObject (with Range), PutObject (plain or aws-chunked
bodies), CopyObject, DeleteObject, DeleteObjects and the multipart upload calls. An object becomes
visible only when its PutObject, CopyObject or CompleteMultipartUpload finishes, as on S3.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse
from xml.sax.saxutils import escape


class FakeS3:
    """`with FakeS3(buckets=["wb"]) as s3:` -> s3.endpoint, s3.objects ({bucket: {key: bytes}}), s3.requests."""

    def __init__(self, *, buckets: list[str] | tuple[str, ...] = ("workbench",)) -> None:
        self.objects: dict[str, dict[str, bytes]] = {b: {} for b in buckets}
        self.uploads: dict[str, dict[int, bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_puts = 0  # answer the next N object writes (PUT/part uploads) with a 500, to test failures
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def keys(self, bucket: str) -> list[str]:
        """Every stored key of `bucket`, sorted, without directory markers."""
        with self.lock:
            return sorted(k for k in self.objects[bucket] if not k.endswith("/"))

    def __enter__(self) -> FakeS3:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _decode_chunked(raw: bytes) -> bytes:
    """The payload of an aws-chunked body: `<hex size>[;ext]\\r\\n<data>\\r\\n` ... `0\\r\\n<trailers>`."""
    out, pos = bytearray(), 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += raw[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


def _xml(body: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()


def _handler(fake: FakeS3) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        # --- request parsing -------------------------------------------------------------------------
        def _target(self) -> tuple[str, str, dict[str, str]]:
            url = urlparse(self.path)
            parts = url.path.lstrip("/").split("/", 1)
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            return unquote(parts[0]), unquote(parts[1]) if len(parts) > 1 else "", query

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                raw = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    raw += self.rfile.read(size)
                    self.rfile.readline()
                data = bytes(raw)
            else:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sha = self.headers.get("x-amz-content-sha256", "")
            if "aws-chunked" in self.headers.get("Content-Encoding", "") or sha.startswith("STREAMING-"):
                data = _decode_chunked(data)
            return data

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.command != "HEAD" or "Content-Length" not in (headers or {}):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str) -> None:
            self._send(status, _xml(f"<Error><Code>{code}</Code><Message>{code}</Message></Error>"),
                       {"Content-Type": "application/xml"})

        def _bucket(self, name: str) -> dict[str, bytes] | None:
            found = fake.objects.get(name)
            if found is None:
                self._error(404, "NoSuchBucket")
            return found

        # --- verbs -------------------------------------------------------------------------------------
        def do_HEAD(self) -> None:
            bucket, key, _ = self._target()
            fake.requests.append(("HEAD", f"{bucket}/{key}"))
            with fake.lock:
                objects = self._bucket(bucket)
                if objects is None:
                    return
                if not key:
                    self._send(200)
                    return
                data = objects.get(key)
            if data is None:
                self._send(404)
                return
            self._send(200, b"", {"Content-Length": str(len(data)), "ETag": f'"{hashlib.md5(data).hexdigest()}"',
                                  "Last-Modified": formatdate(usegmt=True), "Content-Type": "binary/octet-stream"})

        def do_GET(self) -> None:
            bucket, key, query = self._target()
            fake.requests.append(("GET", f"{bucket}/{key}"))
            with fake.lock:
                objects = self._bucket(bucket)
                if objects is None:
                    return
                if not key:
                    self._send(200, self._list(objects, query), {"Content-Type": "application/xml"})
                    return
                data = objects.get(key)
            if data is None:
                self._error(404, "NoSuchKey")
                return
            found = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if not found:
                self._send(200, data, {"Last-Modified": formatdate(usegmt=True)})
                return
            start = int(found.group(1))
            end = min(int(found.group(2)) if found.group(2) else len(data) - 1, len(data) - 1)
            self._send(206, data[start:end + 1], {"Content-Range": f"bytes {start}-{end}/{len(data)}",
                                                  "Last-Modified": formatdate(usegmt=True)})

        def _list(self, objects: dict[str, bytes], query: dict[str, str]) -> bytes:
            prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
            contents, prefixes = [], set()
            for key in sorted(objects):
                if not key.startswith(prefix):
                    continue
                rest = key[len(prefix):]
                if delimiter and delimiter in rest:
                    prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
                else:
                    contents.append(f"<Contents><Key>{escape(key)}</Key><Size>{len(objects[key])}</Size>"
                                    f"<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
                                    f"<ETag>\"x\"</ETag><StorageClass>STANDARD</StorageClass></Contents>")
            common = "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in sorted(prefixes))
            return _xml(f"<ListBucketResult><Name>b</Name><Prefix>{escape(prefix)}</Prefix>"
                        f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount><MaxKeys>1000</MaxKeys>"
                        f"<IsTruncated>false</IsTruncated>{''.join(contents)}{common}</ListBucketResult>")

        def do_PUT(self) -> None:
            bucket, key, query = self._target()
            fake.requests.append(("PUT", f"{bucket}/{key}"))
            body = self._body()
            if not key:
                with fake.lock:
                    fake.objects.setdefault(bucket, {})
                self._send(200)
                return
            if (source := self.headers.get("x-amz-copy-source")) is not None:
                self._copy(bucket, key, unquote(source).lstrip("/"))
                return
            with fake.lock:
                if fake.fail_puts > 0:
                    fake.fail_puts -= 1
                    failing = True
                else:
                    failing = False
            if failing:
                self._error(500, "InternalError")
                return
            with fake.lock:
                if "uploadId" in query:
                    if query["uploadId"] not in fake.uploads:
                        self._error(404, "NoSuchUpload")
                        return
                    fake.uploads[query["uploadId"]][int(query["partNumber"])] = body
                elif (objects := self._bucket(bucket)) is not None:
                    objects[key] = body
                else:
                    return
            self._send(200, b"", {"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

        def _copy(self, bucket: str, key: str, source: str) -> None:
            src_bucket, src_key = source.split("/", 1)
            with fake.lock:
                data = fake.objects.get(src_bucket, {}).get(src_key)
                if data is None:
                    self._error(404, "NoSuchKey")
                    return
                fake.objects[bucket][key] = data
            self._send(200, _xml(f"<CopyObjectResult><ETag>\"{hashlib.md5(data).hexdigest()}\"</ETag>"
                                 "<LastModified>2026-01-01T00:00:00.000Z</LastModified></CopyObjectResult>"),
                       {"Content-Type": "application/xml"})

        def do_POST(self) -> None:
            bucket, key, query = self._target()
            fake.requests.append(("POST", f"{bucket}/{key}"))
            body = self._body()
            if "delete" in query:
                names = [unquote(k) for k in re.findall(r"<Key>(.*?)</Key>", body.decode())]
                with fake.lock:
                    for name in names:
                        fake.objects.get(bucket, {}).pop(name.replace("&amp;", "&"), None)
                deleted = "".join(f"<Deleted><Key>{escape(n)}</Key></Deleted>" for n in names)
                self._send(200, _xml(f"<DeleteResult>{deleted}</DeleteResult>"), {"Content-Type": "application/xml"})
            elif "uploads" in query:
                upload = uuid.uuid4().hex
                with fake.lock:
                    fake.uploads[upload] = {}
                self._send(200, _xml(f"<InitiateMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{escape(key)}</Key>"
                                     f"<UploadId>{upload}</UploadId></InitiateMultipartUploadResult>"),
                           {"Content-Type": "application/xml"})
            elif "uploadId" in query:
                with fake.lock:
                    parts = fake.uploads.pop(query["uploadId"], None)
                    if parts is None:
                        self._error(404, "NoSuchUpload")
                        return
                    fake.objects[bucket][key] = b"".join(parts[n] for n in sorted(parts))
                self._send(200, _xml(f"<CompleteMultipartUploadResult><Bucket>{bucket}</Bucket><Key>{escape(key)}</Key>"
                                     "<ETag>\"x\"</ETag></CompleteMultipartUploadResult>"),
                           {"Content-Type": "application/xml"})
            else:
                self._error(400, "InvalidRequest")

        def do_DELETE(self) -> None:
            bucket, key, query = self._target()
            fake.requests.append(("DELETE", f"{bucket}/{key}"))
            with fake.lock:
                if "uploadId" in query:
                    fake.uploads.pop(query["uploadId"], None)
                else:
                    fake.objects.get(bucket, {}).pop(key, None)
            self._send(204)

    return Handler
