"""Browser: a two-step request that changes data is shown as a plan first; "Run this plan" runs both steps in
order, the cleaning making a new version that the chart then reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import upload_dataset

pytestmark = pytest.mark.e2e


def test_a_two_step_request_is_planned_confirmed_and_runs_both_steps(app, page, tmp_path: Path) -> None:
    # Given a dataset with missing prices, uploaded through the Datasets page
    csv = tmp_path / "shop.csv"
    csv.write_text("region,price\nnorth,10\nnorth,\nsouth,30\nsouth,34\neast,20\neast,\nnorth,12\nsouth,31\n")
    upload_dataset(page, app, csv, shows="south")
    # When the analyst asks for two things, the first of which changes the data
    sidebar = page.locator('[data-testid="stSidebar"]')
    box = sidebar.locator('[data-testid="stChatInput"] textarea')
    box.fill("fill missing price with the median, then plot price by region")
    box.press("Enter")
    # Then the plan is shown with a button, and nothing ran yet
    run = sidebar.get_by_role("button", name="Run this plan")
    run.wait_for(timeout=60_000)
    assert sidebar.get_by_text("makes a new version").count() >= 1
    assert sidebar.locator(".js-plotly-plot").count() == 0
    # When the plan is confirmed; Then both steps ran in order: version 2 made, then the chart drawn from it
    run.click()
    sidebar.get_by_text("version 2 made").first.wait_for(timeout=60_000)
    sidebar.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
