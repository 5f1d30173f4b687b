"""Scheduled refreshes of a URL dataset served by a real local HTTP server (loopback allowed by
URL_ALLOWED_HOSTS): unchanged content, changed content with its diff and drift flag, HTML and empty bodies."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import jobs
from core import datasets
from core.config import reload_settings
from jobs import schedules

pytestmark = pytest.mark.integration

FIRST = b"city,population\nLyon,522000\nNantes,320000\n"


class Source(BaseHTTPRequestHandler):
    """Serves whatever the test last put in `server.body` with `server.ctype`."""

    def log_message(self, *args: object) -> None:
        return

    def do_GET(self) -> None:
        body, ctype = self.server.body, self.server.ctype  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Source)
    server.daemon_threads = True
    server.body, server.ctype = FIRST, "text/csv"  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "127.0.0.1")  # loopback is refused by default
    reload_settings()
    yield server
    server.shutdown()
    server.server_close()


def _serve(server: ThreadingHTTPServer, body: bytes, ctype: str = "text/csv") -> None:
    server.body, server.ctype = body, ctype  # type: ignore[attr-defined]


def _run(schedule_id) -> schedules.ScheduleRun:
    job = schedules.run_now(schedule_id)
    jobs.wait_idle(30)
    run = schedules.history(schedule_id)[0]
    assert run.job_id == job.id
    return run


def test_refresh_versions_only_changed_content_with_its_diff(source: ThreadingHTTPServer) -> None:
    # Given a dataset imported from a URL and a schedule that refreshes it
    url = f"http://127.0.0.1:{source.server_address[1]}/cities.csv"
    ds = datasets.import_url(url, name="cities")
    s = schedules.create("dataset.refresh", ds.id, every_minutes=60)
    # When the source still sends the same content, Then no version is made
    same = _run(s.id)
    assert same.status == "succeeded" and same.result["changed"] is False and not same.drift
    assert datasets.get_dataset(ds.id).version == 1
    # When a row is added, a column added and one changes type, Then one new version, with that diff, flagged
    _serve(source, b"city,population,region\nLyon,522000.5,ARA\nNantes,320000,PDL\nLille,236000,HDF\n")
    changed = _run(s.id)
    assert changed.status == "succeeded" and changed.drift
    assert changed.result["version"] == 2 and datasets.get_dataset(ds.id).version == 2
    assert changed.result["schema"]["added"] == ["region"] and changed.result["schema"]["removed"] == []
    assert changed.result["schema"]["retyped"] == [{"column": "population", "before": "int64", "after": "double"}]
    assert (changed.result["rows_before"], changed.result["rows_after"]) == (2, 3)
    assert "column added: region" in changed.summary
    diff = datasets.versions.diff(ds.id, 1, 2)  # the diff is there as for any version
    assert diff.added == ["region"] and diff.rows_b == 3
    assert [r.status for r in schedules.history(s.id)] == ["succeeded", "succeeded"]
    # When the source then answers a web page or nothing, Then the run fails with the reason and no version is made
    for body, ctype, reason in [(b"<!doctype html><html><body>Sign in</body></html>", "text/html", "web page"),
                                (b"<html><body>Sign in</body></html>", "text/csv", "HTML"),
                                (b"", "text/csv", "empty")]:
        _serve(source, body, ctype)
        failed = _run(s.id)
        assert failed.status == "failed" and reason in failed.error, failed.error
    assert datasets.get_dataset(ds.id).version == 2 and len(datasets.versions.history(ds.id)) == 2
    assert len(schedules.history(s.id)) == 5  # the history is kept, failures included
    assert [run.id for _, run in schedules.attention()] == [failed.id]
