"""The Jobs page in Chromium: a job left queued by a stopped app runs, and a cancel shows at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.config import reload_settings
from core.db import reset_engines, session
from core.models import Job
from tests.e2e.conftest import running_app, wait_for_app


@pytest.fixture
def quick_app(tmp_path: Path):
    """The app with a 3 s heartbeat timeout, so its maintenance thread runs every second."""
    with running_app(tmp_path, {"JOB_HEARTBEAT_TIMEOUT_S": "3"}) as running:
        yield running


def _orphan_job(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A queued job whose message died with an app process that has stopped (written to the app's database)."""
    from jobs import store

    monkeypatch.setenv("DATA_DIR", str(data_dir))
    reload_settings()
    reset_engines()
    job = store.create("diagnostics.sleep", "default", "Left behind", {"steps": 40, "interval": 2.0})
    with session() as s:
        row = s.get(Job, job.id)
        row.enqueued_by = "stopped-host:1"
        s.add(row)
    return str(job.id)


def test_a_job_left_queued_runs_and_its_cancel_shows_at_once(quick_app, page, monkeypatch) -> None:
    _orphan_job(quick_app.data_dir, monkeypatch)
    page.goto(quick_app.page_url("Jobs"))
    wait_for_app(page)
    page.get_by_text("Left behind").first.wait_for()
    page.get_by_text("· running ·").first.wait_for(timeout=30_000)  # the app took it over
    page.get_by_role("button", name="Cancel", exact=True).click()
    clicked = time.monotonic()
    page.get_by_text("· cancelling ·").first.wait_for(timeout=5_000)
    shown_after = time.monotonic() - clicked
    assert shown_after < 3.0, f"the cancel took {shown_after:.1f} s to show"  # one page run plus one poll
    page.get_by_text("· cancelled ·").first.wait_for(timeout=15_000)
