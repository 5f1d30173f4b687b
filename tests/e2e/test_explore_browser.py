"""Browser: upload a CSV, draw a chart on Visualize, query it on Analyze › SQL, save the result as a dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import upload_dataset, wait_for_app, wait_for_cell

pytestmark = pytest.mark.e2e

SELECTED_DATASET = """name => [...document.querySelectorAll('[data-testid="stSelectbox"]')].some(box =>
    (box.innerText + ' ' + [...box.querySelectorAll('input')].map(i => i.value).join(' ')).includes(name))"""


def test_chart_and_sql_to_a_new_dataset(app, page, tmp_path: Path) -> None:
    # Given a CSV imported through the Datasets page
    csv = tmp_path / "cities.csv"
    csv.write_text("city,region,population\nLyon,south,522000\nNantes,west,320000\nLille,north,236000\n"
                   "Nice,south,342000\n")
    upload_dataset(page, app, csv, shows="Nantes")

    # When the Visualize page opens, Then it draws a Plotly chart of the dataset
    page.goto(app.page_url("Visualize"))
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Save to gallery").click()
    wait_for_app(page)
    page.get_by_role("tab", name="Gallery").click()
    page.get_by_role("button", name="Open").first.wait_for()

    # When a grouped query runs on the SQL tab and its result is saved as a dataset
    page.goto(app.page_url("Analyze"))
    wait_for_app(page)
    page.get_by_role("tab", name="SQL").click()
    editor = page.get_by_label("SQL (one read-only query over the datasets)")
    editor.fill("SELECT region, sum(population) AS people FROM cities GROUP BY region ORDER BY region")
    editor.press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Run", exact=True).click()
    wait_for_cell(page, "south")
    page.get_by_label("Save the whole result as a dataset named").fill("people_by_region")
    page.get_by_label("Save the whole result as a dataset named").press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Save as dataset").click()
    page.get_by_text("Saved 3 rows as the dataset 'people_by_region'.").wait_for(timeout=30_000)

    # Then the Datasets page lists the new dataset
    page.goto(app.page_url("Datasets"))
    wait_for_app(page)
    wait_for_cell(page, "864000")  # only the new dataset has this total
    page.wait_for_function(SELECTED_DATASET, arg="people_by_region", timeout=30_000)


def test_the_gallery_name_follows_the_chart_kind(app, page, tmp_path: Path) -> None:
    # Given a histogram on the Visualize page
    csv = tmp_path / "towns.csv"
    csv.write_text("town,people\nLyon,522000\nNantes,320000\nLille,236000\n")
    upload_dataset(page, app, csv, shows="Nantes")
    page.goto(app.page_url("Visualize"))
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    name = page.get_by_label("Name in the gallery")
    assert name.input_value() == "Histogram of people"
    # When the chart becomes a scatter
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Chart").first.click()
    page.get_by_role("option", name="Scatter", exact=True).click()
    wait_for_app(page)
    # Then the name field names the scatter ("people vs <x>", its title), not the histogram
    page.wait_for_function("() => document.querySelector('input[aria-label=\"Name in the gallery\"]')"
                           ".value.startsWith('people vs ')", timeout=30_000)
    title = page.locator(".js-plotly-plot .gtitle").first.text_content()
    assert name.input_value() == title
