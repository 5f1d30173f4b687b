"""The Schedules page in Chromium: create a schedule, run it, see the run in its card."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import datasets
from core.config import reload_settings
from core.db import reset_engines
from tests.e2e.conftest import running_app, wait_for_app


def test_create_a_schedule_and_see_its_run(page, tmp_path: Path, csv_file: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with running_app(tmp_path, {"SCHEDULER_IN_APP": "true"}) as app:
        monkeypatch.setenv("DATA_DIR", str(app.data_dir))  # seed the app's own database
        reload_settings()
        reset_engines()
        datasets.ingest_file(csv_file, name="sales")
        page.goto(app.page_url("Schedules"))
        wait_for_app(page)
        page.get_by_label("Every (minutes)").fill("1")
        page.get_by_role("button", name="Create schedule").click()
        page.get_by_text("Scheduled: Re-profile of sales, every minute").wait_for()
        page.get_by_text("Last run: never").wait_for()
        page.get_by_role("button", name="Run now").click()
        page.get_by_text("Last run: ✅ succeeded").wait_for(timeout=30_000)
        page.get_by_text("Profiled version 1: 4 rows").first.wait_for()
