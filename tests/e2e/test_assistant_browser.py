"""Browser: upload a CSV on the Datasets page, ask the sidebar chat for a chart, see it in the sidebar; an unclear
request offers its likeliest readings as buttons and a click runs the chosen one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import upload_dataset, wait_for_app

pytestmark = pytest.mark.e2e


def test_sidebar_chat_draws_a_chart(app, page, tmp_path: Path) -> None:
    # Given a dataset uploaded through the Datasets page
    csv = tmp_path / "cities.csv"
    csv.write_text("city,population,area\nLyon,522000,47.9\nNantes,320000,65.2\nLille,236000,34.8\n"
                   "Nice,342000,71.9\n")
    upload_dataset(page, app, csv, shows="Nantes")
    # When the analyst asks the sidebar chat for a plot
    sidebar = page.locator('[data-testid="stSidebar"]')
    box = sidebar.locator('[data-testid="stChatInput"] textarea')
    box.fill("plot area vs population")
    box.press("Enter")
    # Then a Plotly chart appears in the sidebar, answered by the Visualization Expert
    sidebar.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    assert sidebar.get_by_text("Visualization Expert").count() >= 1
    assert sidebar.get_by_text("scatter chart of area vs population").count() == 1
    # When the analyst sends an unclear request (two columns, no analysis)
    box.fill("area and population?")
    box.press("Enter")
    # Then the readings are offered as buttons, and nothing ran yet
    reading = sidebar.get_by_role("button", name="plot population vs area").first  # a rerun may briefly show two
    reading.wait_for(timeout=60_000)
    wait_for_app(page)
    assert sidebar.get_by_role("button", name="correlation between area and population").count() == 1
    assert sidebar.locator(".js-plotly-plot").count() == 1
    # When one reading is clicked; Then that one runs (its chart's caption appears) and the buttons are gone
    reading.click()
    sidebar.get_by_text("scatter chart of population vs area").first.wait_for(timeout=60_000)
    buttons = sidebar.get_by_role("button", name="plot population vs area")
    deadline = time.time() + 60
    while buttons.count() and time.time() < deadline:  # every copy gone, the stale one of a rerun included
        page.wait_for_timeout(100)
    assert buttons.count() == 0
    assert sidebar.locator(".js-plotly-plot").count() >= 1
