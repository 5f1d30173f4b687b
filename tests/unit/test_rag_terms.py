"""Search terms for filings, statement recognition and routing a question to the filings it names."""

from __future__ import annotations

import pytest

from core.rag.route import asked_period, asked_words, profile, proper_words, route, tickers
from core.rag.terms import headings, page_kinds, query_kinds, query_terms, terms


@pytest.mark.parametrize(("text", "expected"), [
    ("FY2018 capex", ["fy", "2018", "capex"]),
    ("Form 10-K and 10K and 10-Q", ["form", "10k", "10k", "10q"]),
    ("Purchases of PP&E (1,577) (1,373)", ["purchase", "pp", "e", "1577", "1373"]),
    ("3M_2023Q2_10Q", ["3m", "2023", "q2", "10q"]),
    ("rate of 12.5% in Q4", ["rate", "12.5", "q4"]),
])
def test_terms_keep_years_quarters_forms_and_figures_whole(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_question_framing_is_dropped_and_statement_wording_added() -> None:
    asked = query_terms("Give a response relying on the details shown: what is the FY2018 capex for 3M?")
    assert {"fy", "2018", "capex", "3m"} <= set(asked)
    assert not {"give", "response", "relying", "detail", "shown"} & set(asked)
    assert {"purchase", "property", "plant", "equipment"} <= set(asked)  # what the cash-flow statement calls it


@pytest.mark.parametrize(("heading", "kinds"), [
    ("Table of Contents\n3M Company and Subsidiaries\nConsolidated Statement of Cash Flows", {"cashflow"}),
    ("ADOBE SYSTEMS INCORPORATED\nCONSOLIDATED BALANCE SHEETS\n(In thousands)", {"balance"}),
    ("AMAZON.COM, INC.\nCONSOLIDATED STATEMENTS OF OPERATIONS", {"income"}),
    ("Consolidated Statements of Comprehensive Income", set()),
    ("3M Company and Subsidiaries\nConsolidated Statement of Incom e", {"income"}),  # as PDF text splits it
    ("Item 1A. Risk Factors\nOur business is subject to risks", set()),
    ("NOTE 7. Supplemental Balance Sheet Information", set()),
    ("Table of Contents\nThe location in the consolidated statements of income of gains on hedges", set()),
    ("INDEX TO CONSOLIDATED FINANCIAL STATEMENTS\nConsolidated Statements of Income - For the Years Ended 2022 96",
     set()),
])
def test_primary_statements_are_recognised_by_their_heading(heading: str, kinds: set[str]) -> None:
    rows = "\nNet sales $ 32,765 $ 31,657\nCost of sales 16,682 16,055\nNet income 5,363 4,869\nTotal 9,1 8,2"
    assert page_kinds(heading + rows) == kinds


def test_a_page_of_prose_that_names_a_statement_is_not_one() -> None:
    prose = "Consolidated Balance Sheets\n" + "\n".join(["Our liquidity objective is to keep access to funding."] * 6)
    assert page_kinds(prose) == frozenset()


def test_questions_say_which_statement_they_need() -> None:
    assert query_kinds("What is the FY2018 capital expenditure for 3M?") == {"cashflow"}
    assert query_kinds("Has AMCOR's quick ratio improved?") == {"balance"}
    assert query_kinds("Which debt securities are registered under 3M's name?") == frozenset()
    assert query_kinds("Has PepsiCo reported any legal battles?") == frozenset()  # 'eps' is not in 'PepsiCo'
    assert query_kinds("What was PepsiCo's EPS?") == {"income"}


def test_headings_are_a_pages_title_lines() -> None:
    page = ("Table of Contents\nItem 2. Properties.\nOur principal executive office located in Purchase, New York and our "
            "facilities located in Plano, Texas, all of which we own, are our most significant properties.\n"
            "Item 3. Legal Proceedings.\nWe are party to claims arising in the ordinary course of business.\n"
            "Net revenue 86,392 79,474\nGEOGRAPHIC OPERATIONS")
    assert headings(page) == ["Item 2. Properties.", "Item 3. Legal Proceedings.", "GEOGRAPHIC OPERATIONS"]
    assert headings("") == []


PROFILES = {
    "a": profile("3M_2018_10K.pdf", "", "FORM 10-K For the fiscal year ended December 31, 2018 3M COMPANY"),
    "b": profile("3M_2022_10K.pdf", "", "FORM 10-K For the fiscal year ended December 31, 2022 3M COMPANY"),
    "c": profile("3M_2023Q2_10Q.pdf", "", "FORM 10-Q For the quarterly period ended June 30, 2023 3M COMPANY"),
    "d": profile("annual-report.pdf", "", "FORM 10-K For the fiscal year ended December 1, 2017 ADOBE SYSTEMS INCORPORATED"),
}
FREQUENCY = {"3m": 3, "adobe": 1, "system": 1, "incorporated": 1, "company": 4}


@pytest.mark.parametrize(("question", "expected"), [
    ("What is the FY2018 capital expenditure amount for 3M?", {"a"}),
    ("How did 3M's revenue change between FY2021 and FY2022?", {"b"}),
    ("Does 3M have a healthy quick ratio for Q2 of FY2023?", {"c"}),
    ("What were Adobe's total current liabilities?", {"d"}),  # the period from the cover page, the name from it too
])
def test_a_question_goes_to_the_filing_it_names(question: str, expected: set[str]) -> None:
    assert route(question, PROFILES, FREQUENCY, len(PROFILES)) == expected


COVER_SYMBOLS = ("Title of each class Trading Symbol(s) Name of each exchange on which registered\n"
                 "Common Stock, par value $0.20 per Share AXP New York Stock Exchange\n"
                 "Common Stock, Par Value $1.00 JNJ New York Stock Exchange\n")
LIBRARY = {  # a name most filings mention (Amazon) still names only its own; a title word most use does not
    "amzn": profile("AMAZON_2019_10K.pdf", "", "FORM 10-K For the fiscal year ended December 31, 2019 AMAZON.COM, INC."),
    "axp": profile("AMERICANEXPRESS_2022_10K.pdf", "", "FORM 10-K For the fiscal year ended December 31, 2022\n"
                   + COVER_SYMBOLS.replace("JNJ", "")),
    "vz": profile("VERIZON_2022_10K.pdf", "State of incorporation", "FORM 10-K fiscal year ended December 31, 2022"),
    "pep": profile("PEPSICO_2022_10K.pdf", "", "FORM 10-K For the fiscal year ended December 31, 2022 PepsiCo, Inc."),
}
USE = {"amazon": 3, "american": 4, "express": 4, "state": 4, "axp": 1, "amex": 1, "pepsico": 1, "verizon": 1}


def test_trading_symbols_are_read_from_the_cover() -> None:
    assert tickers(COVER_SYMBOLS) == ["axp", "jnj"]
    assert tickers("no symbols on this page: AXP New York Stock Exchange") == []
    assert "axp" in LIBRARY["axp"]["names"]


@pytest.mark.parametrize(("question", "expected"), [
    ("What was Amazon's FY2019 net income?", {"amzn"}),  # named by one file, though every filing mentions it
    ("What are the geographies that American Express operates in?", {"axp"}),  # the glued file name
    ("What is AXP's effective tax rate?", {"axp"}),  # its trading symbol
    ("Does the company state its 2022 revenue?", None),  # a title word most documents use names nothing
])
def test_names_route_by_how_many_documents_they_name(question: str, expected: set[str] | None) -> None:
    assert route(question, LIBRARY, USE, len(LIBRARY)) == expected


def test_a_rare_capitalised_word_routes_when_no_name_does() -> None:
    # "AMEX" names no file but only one filing uses it; 'drove' is rare too but not a name
    assert proper_words("What drove AMEX's operating margin? Does JnJ say?") == {"amex", "jnj"}
    assert route("Does AMEX have an improving margin?", LIBRARY, USE, len(LIBRARY), {"amex": {"axp"}}) == {"axp"}
    assert route("Does AMEX have an improving margin?", LIBRARY, USE, len(LIBRARY), {"amex": set(LIBRARY)}) is None
    assert "americanexpress" in asked_words("American Express")


def test_a_question_naming_no_company_routes_nowhere() -> None:
    assert route("What was the total revenue in 2018?", PROFILES, FREQUENCY, len(PROFILES)) is None
    assert route("", PROFILES, FREQUENCY, len(PROFILES)) is None


def test_the_period_read_from_a_question() -> None:
    assert asked_period("Q2 of FY2024 versus FY 2023, per the 10-Q") == ([2024, 2023], True, {"10q"})
    assert asked_period("the second quarter") == ([], True, set())
    assert profile("x.pdf", "", "FORM 8-K\nDate of Report: July 1, 2022")["form"] == "8k"


def test_a_cover_that_lists_every_company_and_period_does_not_tie_with_the_named_filing() -> None:
    # Given a real 3M filing and a hostile one whose cover names 3M, Adobe and every period
    cover = "FORM 10-K\n3M COMPANY ADOBE SYSTEMS FY2018 FY2022 Q1 Q2 Q3 Q4 10-Q 8-K"
    real = profile("3M_2018_10K.pdf", "", "FORM 10-K\n3M COMPANY\nFor the fiscal year ended December 31, 2018")
    hostile = profile("INDEX_FUND_2018_10K.pdf", "", cover)
    # Then period words never name a document, and the cover's company names are not its names
    assert not {"fy", "q1", "q2", "10q", "8k"} & set(hostile["identity"])
    assert "3m" in hostile["identity"] and "3m" not in hostile["names"]
    # And a question about 3M's FY2018 goes to 3M's filing only
    profiles = {"real": real, "hostile": hostile, "adobe": profile("ADOBE_2017_10K.pdf", "", "ADOBE SYSTEMS")}
    frequency = {"3m": 2, "adobe": 2, "system": 2, "fy": 1}
    assert route("What is the FY2018 capital expenditure for 3M?", profiles, frequency, 3) == {"real"}
