"""Browser: upload a CSV, see the preview, profile it as a job, open the Jobs page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import upload_dataset, wait_for_app

pytestmark = pytest.mark.e2e


def test_upload_preview_profile_and_jobs(app, page, tmp_path: Path) -> None:
    csv = tmp_path / "cities.csv"
    csv.write_text("city,population,area\nLyon,522000,47.9\nNantes,320000,65.2\nLille,236000,34.8\n")
    upload_dataset(page, app, csv, shows="Nantes")
    page.get_by_role("tab", name="Profile").click()
    page.get_by_role("button", name="Profile", exact=True).click()
    page.get_by_text("Profiled 3 rows and 3 columns.").wait_for(timeout=60_000)
    page.goto(app.page_url("Jobs"))
    wait_for_app(page)
    page.get_by_text("Profile cities").first.wait_for()
    assert page.get_by_text("succeeded").count() >= 1
