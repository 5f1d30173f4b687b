"""Browser: upload R's sleep data, open Analyze, run a Welch t-test and read R's p-value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import upload_dataset, wait_for_app, wait_for_cell

pytestmark = pytest.mark.e2e

SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_welch_t_test_from_the_analyze_page(app, page, tmp_path: Path) -> None:
    # Given R's sleep data uploaded through the Datasets page
    csv = tmp_path / "sleep.csv"
    rows = [f"{v},drug {g}" for g, values in (("A", SLEEP_1), ("B", SLEEP_2)) for v in values]
    csv.write_text("extra,group\n" + "\n".join(rows) + "\n")
    upload_dataset(page, app, csv, shows="drug B")
    # When the Welch two-sample t-test runs on the Analyze page
    page.goto(app.page_url("Analyze"))
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Test").first.click()
    page.get_by_role("option", name=re.compile(r"\(ttest_ind\)")).click()
    wait_for_app(page)
    page.get_by_role("button", name="Run test").click()
    wait_for_app(page)
    # Then R's p-value and a plain conclusion appear
    page.get_by_text("Welch Two Sample t-test").wait_for()
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="p-value")
    assert "0.07939" in metric.inner_text()
    assert page.get_by_text(re.compile("Not significant at α = 0.05")).count() >= 1


def test_saved_results_show_short_p_values_and_titles_with_the_columns(app, page, tmp_path: Path) -> None:
    # Given two nearly collinear columns: Pearson's p-value is far below machine precision
    csv = tmp_path / "diabetes.csv"
    csv.write_text("bmi,bp\n" + "\n".join(f"{i},{2 * i + (i % 3) / 10}" for i in range(60)) + "\n")
    upload_dataset(page, app, csv, shows="2.1")
    # When a Pearson correlation runs on the Analyze page and is saved under its default title
    page.goto(app.page_url("Analyze"))
    wait_for_app(page)
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Test").first.click()
    page.get_by_role("option", name=re.compile(r"\(pearson\)")).click()
    wait_for_app(page)
    page.get_by_role("button", name="Run test").click()
    wait_for_app(page)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="p-value")
    assert "< 2.2e-16" in metric.inner_text()
    page.get_by_role("button", name="Save result").click()
    wait_for_app(page)
    page.get_by_text("Saved results").click()
    # Then the saved-results table lists it under a title that names the test, the columns and the dataset
    # (its numbers show with 4 significant digits through the column format; the grid's accessible cells
    # carry the raw values, so the AppTest checks that format)
    wait_for_cell(page, "Pearson correlation: bmi vs bp (diabetes)")
