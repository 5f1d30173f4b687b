"""Search terms for filings and reports: numbers, years, quarters, form types and statement names.

The keyword index stores, and queries ask for, these terms. The plain word tokenizer split
"FY2018" into nothing useful, "10-K" into "10" and "k", and "1,577" into "1" and "577"; here
"FY2018" is `fy 2018`, "2023Q2" is `2023 q2`, "10-K"/"10K" is `10k`, "1,577" is `1577`, "3M"
stays `3m`. Plain prose tokenizes as before (lower case, stop words out, light stemming).

Analyst questions also carry framing ("Give a response by relying on the details shown ...",
"Assume you are an equity research analyst ...") whose rare words would match odd pages: the
query side drops them. And a question about a ratio rarely names the statement that holds its
inputs, so `expand` adds the statement's own wording ("capex" -> "purchases of property, plant
and equipment", "quick ratio" -> the balance sheet's current assets and liabilities), and
`query_kinds` says which primary statements (balance sheet, income statement, cash flows)
the question needs; `page_kinds` recognises those statements by their headings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.rag.keyword import STOPWORDS, stem

_WORD = re.compile(r"\d+(?:\.\d+)+|[^\W_]+", re.UNICODE)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_FORM = re.compile(r"\b(10|8)\s*-\s*([kq])\b")
_GLUED = re.compile(r"([a-z]+)((?:19|20)\d\d)|((?:19|20)\d\d)(q[1-4])|(q[1-4])((?:19|20)\d\d)")
YEAR = re.compile(r"(?:19|20)\d\d")
FORMS = frozenset({"10k", "10q", "8k", "earnings"})
FRAMING = frozenset(
    "give response question relying rely detail details shown show using use answer based primarily primary "
    "information assume public equities equity analyst research lost internet connection access please "
    "calculate compute extract round unit units percent percents decimal place places defined define "
    "definition formula useful like state explain following best abilities ability resource resources "
    "investment banker only drawing conclusions stated provided according".split()
)
MAX_TERMS = 64


def words(text: str) -> Iterator[str]:
    """Lower-case words and numbers, with years split from what they are glued to."""
    text = _FORM.sub(r"\1\2", _THOUSANDS.sub("", text.lower()))
    for word in _WORD.findall(text):
        glued = _GLUED.fullmatch(word)
        if glued:
            yield from (part for part in glued.groups() if part)
        else:
            yield word


def terms(text: str) -> list[str]:
    """The index terms of a passage (stop words out, plurals stemmed, numbers kept)."""
    return [stem(w) for w in words(text) if w not in STOPWORDS]


def query_terms(question: str) -> list[str]:
    """The terms a question searches for: its own (framing dropped) plus the statement wording it implies."""
    own = [t for t in terms(question) if t not in FRAMING]
    extra = [t for t in terms(expansion(question)) if t not in own]
    return list(dict.fromkeys(own + extra))[:MAX_TERMS]


# -- financial statements -------------------------------------------------------------------
_GLOSSARY = {
    "capex": "purchases property plant equipment capital expenditures investing activities",
    "capital expenditure": "purchases property plant equipment capital expenditures investing activities",
    "quick ratio": "current assets current liabilities cash equivalents receivables",
    "current ratio": "current assets current liabilities",
    "working capital": "current assets current liabilities",
    "operating margin": "operating income net revenue sales",
    "gross margin": "gross profit cost sales net revenue",
    "operating cash flow": "net cash provided operating activities",
    "free cash flow": "net cash provided operating activities purchases property plant equipment",
    "cash flow statement": "cash flows operating investing financing activities",
    "statement of cash flows": "cash flows operating investing financing activities",
    "balance sheet": "total assets total liabilities equity",
    "financial position": "total assets total liabilities equity",
    "income statement": "net revenue operating income net income",
    "statement of income": "net revenue operating income net income",
    "dividend": "dividends paid financing activities",
    "inventory turnover": "inventories cost sales",
    "days payable": "accounts payable cost sales",
    "dpo": "accounts payable cost sales",
    "fixed asset turnover": "property plant equipment net revenue",
    "asset turnover": "total assets revenue",
    "ebitda": "operating income depreciation amortization",
    "effective tax rate": "effective tax rate provision income taxes",
    "interest coverage": "interest expense operating income",
    "return on assets": "net income total assets",
    "debt securities": "securities registered pursuant section 12 title each class trading symbol exchange",
    # qualitative questions, in the words of the sections that answer them
    "legal battle": "legal proceedings litigation",
    "lawsuit": "legal proceedings litigation",
    "geographies": "geographic areas regions",
    "geographic": "geographic areas regions",
    "acquisitions": "acquisitions business combinations",
    "acquired": "acquisitions business combinations",
    "spin off": "separation spin-off",
    "spinning off": "separation spin-off",
    "spin-off": "separation spin-off",
}
_KIND_HEADINGS = {
    "balance": re.compile(r"balance\s*shee\s*ts?|statements?\s+of\s+(?:consolidated\s+)?financial\s+(?:position|condition)"),
    "income": re.compile(r"statements?\s+of\s+(?:consolidated\s+)?(?:income|operations|earnings)\b"
                         r"(?!\s+and\s+comprehensive)|income\s+statements?"),
    "cashflow": re.compile(r"statements?\s+of\s+(?:consolidated\s+)?cash\s*flows?"),
}
_KIND_WORDS = {
    "balance": ("balance sheet", "quick ratio", "current ratio", "working capital", "total assets", "liabilit",
                "inventor", "payable", "receivable", "debt to equity", "liquidity", "fixed asset", "pp&e",
                "property, plant", "asset turnover", "capital-intensive", "capital intensive", "financial position"),
    "income": ("income statement", "statement of income", "statement of operations", "p&l", "revenue", "sales",
               "margin", "net income", "eps", "earnings per share", "operating income", "cost of goods", "cogs",
               "ebit", "interest expense", "turnover", "profit", "growth"),
    "cashflow": ("cash flow", "capex", "capital expenditure", "dividend", "free cash", "depreciation", "repurchase",
                 "buyback", "capital-intensive", "capital intensive"),
}
_KIND_PATTERNS = {kind: re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + ")")
                  for kind, phrases in _KIND_WORDS.items()}  # a phrase starts a word; 'liabilit' ends anywhere
HEADING_LINES = 6
TOP_HEADINGS = 2  # a page's first (short) lines: its running title and section
MAX_HEADINGS = 24
_SMALL = r"(?:of|and|the|for|in|on|to|a|an|or|from)"
_TITLE_LINE = re.compile(
    r"(?:(?:item|note|ITEM|NOTE|Item|Note)\s+\d+[A-Za-z]?\s*[.:\-–—]?\s*)?"  # 'Item 3.', 'NOTE 5 -'
    rf"[A-Z][A-Za-z&'’\-]*(?:[ ,/]+(?:[A-Z][A-Za-z&'’\-]*|{_SMALL})){{0,7}}[.:]?"
)
_TITLE_WORDS = 14  # a statement's title line, with the company's name before it
_TITLE_TAIL = 5  # words after the statement's name on its title line ('(unaudited)' is dropped first)
_NOT_A_TITLE = re.compile(r"^\s*(?:note|table)\b|\b(?:information|data|index|notes\s+to|location|amounts)\b")
_SPLIT_LETTER = re.compile(r"([a-z]{3,}) ([a-z])\b")  # PDF text often splits a title's last letter: "Incom e"
_FIGURE = re.compile(r"\d[\d,.]*")
TABLE_SHARE = 0.3  # a statement page: at least this share of its lines hold two figures or more


def heading(text: str, lines: int = HEADING_LINES, *, joined: bool = True) -> str | list[str]:
    """The first non-empty lines of a page (where statements and sections name themselves), joined
    (at most 400 characters) or as a list."""
    found = []
    for line in text.split("\n"):
        if line.strip():
            found.append(line.strip())
            if len(found) == lines:
                break
    return " ".join(found)[:400] if joined else found


def headings(text: str) -> list[str]:
    """A page's title lines: its first short lines (after a running 'Table of Contents') and the short
    lines inside it that read as titles ('Item 3. Legal Proceedings.', 'GEOGRAPHIC OPERATIONS'): a few
    capitalised words, no figures beyond an item or note number."""
    found, seen = [], 0
    for line in (line.strip() for line in text.split("\n")):
        if not line or line.lower() == "table of contents":
            continue
        seen += 1
        if (seen <= TOP_HEADINGS and len(line.split()) <= _TITLE_WORDS) or _TITLE_LINE.fullmatch(line):
            found.append(line)
            if len(found) >= MAX_HEADINGS:
                break
    return found


def page_kinds(text: str) -> frozenset[str]:
    """Which primary statements a page is ('balance', 'income', 'cashflow'): a title line near its top
    names the statement, and the page is a table (most lines carry figures). A page that only refers to
    a statement ("... on the Consolidated Balance Sheets"), a note ("Supplemental balance sheet
    information") or the index of statements is none."""
    if not _tabular(text):
        return frozenset()
    found: set[str] = set()
    for line in heading(text, HEADING_LINES, joined=False):
        low = _SPLIT_LETTER.sub(r"\1\2", re.sub(r"\([^)]*\)", " ", line.lower()))
        if len(low.split()) > _TITLE_WORDS or _NOT_A_TITLE.search(low):
            continue
        for kind, pattern in _KIND_HEADINGS.items():
            match = pattern.search(low)
            if match and len(low[match.end():].split()) <= _TITLE_TAIL:
                found.add(kind)
    return frozenset(found)


def _tabular(text: str) -> bool:
    lines = [line for line in text.split("\n") if line.strip()]
    with_figures = sum(1 for line in lines if len(_FIGURE.findall(line)) >= 2)
    return bool(lines) and with_figures >= TABLE_SHARE * len(lines)


def query_kinds(question: str) -> frozenset[str]:
    """Which primary statements a question needs, from the metrics and statements it names (whole words:
    'eps' is not in 'PepsiCo')."""
    low = question.lower()
    return frozenset(kind for kind, pattern in _KIND_PATTERNS.items() if pattern.search(low))


def expansion(question: str) -> str:
    """The statement wording for the metrics a question names ('' when it names none)."""
    low = question.lower()
    return " ".join(text for phrase, text in _GLOSSARY.items() if phrase in low)
