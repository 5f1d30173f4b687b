"""Kaggle imports: the real `kaggle` client against a local server speaking Kaggle's API protocol.

The client POSTs JSON to {endpoint}/v1/datasets.DatasetApiService/<Method> with HTTP basic auth
(user name, key); DownloadDataset answers with a redirect to the file in storage, as kaggle.com does.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import datasets, storage
from core.config import reload_settings
from core.datasets import importers
from core.errors import ConnectionFailed, IngestError, InvalidInput

pytestmark = pytest.mark.integration

USER, KEY = "analyst", "k-123"
FILES = {
    "acme/sales": {"sales.csv": b"region,units\nnorth,10\nsouth,7\n"},
    "acme/multi": {"a.csv": b"x\n1\n2\n", "b.json": b'[{"y": 1}, {"y": 2}, {"y": 3}]'},
}


class KaggleHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{KEY}".encode()).decode()
        return self.headers.get("Authorization") == expected

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self._authorised():
            self._json(401, {"code": 401, "message": "Unauthenticated"})
            return
        slug = f"{request.get('ownerSlug')}/{request.get('datasetSlug')}"
        files = FILES.get(slug)
        if files is None:
            self._json(404, {"code": 404, "message": "Not found"})
            return
        if self.path.endswith("/ListDatasetFiles"):
            self._json(200, {"datasetFiles": [{"name": n, "totalBytes": len(b), "ref": n} for n, b in files.items()]})
        elif self.path.endswith("/DownloadDataset"):
            name = request.get("fileName")
            self.send_response(302)
            self.send_header("Location", f"/storage/{slug}/{name}")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"code": 404, "message": f"no method {self.path}"})

    def do_GET(self) -> None:
        _, _, owner, dataset, name = self.path.split("/", 4)
        body = FILES.get(f"{owner}/{dataset}", {}).get(name)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", "Mon, 02 Mar 2026 10:00:00 GMT")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def kaggle(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), KaggleHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    monkeypatch.setenv("KAGGLE_API_URL", url)
    reload_settings()
    yield url
    server.shutdown()
    server.server_close()


def test_single_file_dataset_imports_without_naming_the_file(kaggle: str) -> None:
    ds = datasets.import_kaggle("acme/sales")
    assert datasets.load_frame(ds.id)["units"].tolist() == [10, 7]
    assert ds.source == "kaggle" and ds.source_detail == "acme/sales/sales.csv" and ds.name == "sales"
    assert not any(storage.area("tmp").iterdir())


def test_dataset_with_several_files_needs_a_choice(kaggle: str) -> None:
    assert importers.kaggle_files("acme/multi") == ["a.csv", "b.json"]
    with pytest.raises(InvalidInput, match="has 2 files"):
        datasets.import_kaggle("acme/multi")
    ds = datasets.import_kaggle("https://www.kaggle.com/datasets/acme/multi", file="b.json")
    assert datasets.load_frame(ds.id)["y"].tolist() == [1, 2, 3]


def test_wrong_credentials_are_explained(kaggle: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAGGLE_KEY", "wrong")
    reload_settings()
    with pytest.raises(ConnectionFailed, match="refused the credentials"):
        datasets.import_kaggle("acme/sales")
    assert datasets.count_datasets() == 0


@pytest.mark.parametrize(("slug", "error", "words"), [
    ("acme/unknown", IngestError, "no dataset"),
    ("not a slug", InvalidInput, "owner/dataset"),
    ("a/b/c", InvalidInput, "owner/dataset"),
])
def test_bad_references(kaggle: str, slug: str, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        datasets.import_kaggle(slug, file="x.csv")


def test_missing_credentials_say_what_to_set() -> None:
    with pytest.raises(IngestError, match="credentials are missing") as caught:
        datasets.import_kaggle("acme/sales")
    assert "KAGGLE_USERNAME" in caught.value.hint
