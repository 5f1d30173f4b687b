"""Reranking candidate pages by the fiscal years a question names (core.rag.rerank)."""

from __future__ import annotations

import pytest

from core.rag.rerank import asked_years, year_scores

TABLE_2022 = ("Table of Contents\nTABLE 1: SUMMARY OF FINANCIAL PERFORMANCE\nYears Ended December 31,\n"
              "(Millions, except percentages) 2022 2021 2020\nTotal revenues net of interest expense 52,862 42,380 36,087\n"
              "Effective tax rate 21.6 % 24.6 % 24.1 %")
PROSE_2019 = ("Table of Contents\nIncome Taxes\nThe effective tax rate was 23.1 percent in 2019 and 22.4 percent in 2018, "
              "reflecting the resolution of prior-year tax audits.")
NO_YEAR = "Table of Contents\nIncome Taxes\nOur effective tax rate depends on where our income is earned."
STUFFED = "Effective tax rate " + " ".join(str(y) for y in range(1990, 2031)) * 20


@pytest.mark.parametrize(("question", "years"), [
    ("How much has the effective tax rate changed between FY2021 and FY2022?", ["2021", "2022"]),
    ("As of Q2'2023, is Pfizer spinning off any large business segments?", ["2023"]),
    ("What Was AMCOR's Adjusted Non GAAP EBITDA for FY 2023", ["2023"]),
    ("Which debt securities are registered to trade under 3M's name?", []),
    ("What was revenue of 20,220 units?", []),  # a figure is not a year
])
def test_the_years_a_question_names(question: str, years: list[str]) -> None:
    assert asked_years(question) == years


def test_a_page_reporting_the_asked_years_scores_above_pages_of_other_years() -> None:
    # Given candidate pages of one filing: the summary table, prose about earlier years, prose with no year
    pages = {"table": TABLE_2022, "prose": PROSE_2019, "none": NO_YEAR}
    # When the question names FY2021 and FY2022
    found = year_scores("How much has the effective tax rate changed between FY2021 and FY2022?", pages)
    # Then the table holds all the years' weight and the others none
    assert found == {"table": 1.0, "prose": 0.0, "none": 0.0}


def test_a_year_every_candidate_holds_weighs_less_than_a_rare_one() -> None:
    pages = {"both": "2022 and 2021", "latest": "results for 2022", "other": "outlook 2022"}
    found = year_scores("Compare FY2021 with FY2022", pages)
    assert found["both"] == 1.0
    assert 0 < found["latest"] == found["other"] < 0.5  # 2022 is on every page, 2021 on one


def test_a_page_stuffed_with_every_year_gains_no_more_than_a_real_table() -> None:
    # Given a hostile page that lists every year many times beside the real table
    found = year_scores("What was the effective tax rate in FY2022 and FY2021?", {"table": TABLE_2022, "stuffed": STUFFED})
    # Then both hold the asked years and the stuffed page's share is capped at the table's
    assert found["stuffed"] == found["table"] == 1.0


def test_nothing_to_rerank_without_years_or_pages() -> None:
    assert year_scores("What is 3M's quick ratio?", {"a": TABLE_2022}) == {}
    assert year_scores("FY2022 revenue", {}) == {}
    assert year_scores("FY1999 revenue", {"a": TABLE_2022}) == {}
