"""Send a question to the documents it names before ranking pages.

"What is the FY2018 capital expenditure for 3M?" over forty filings: the page that answers is
in 3M's 2018 annual report, and a 2022 10-K of the same company (or another company's cash-flow
page) matches the words just as well. A document's *profile* says what names it: the words of
its file name and title, the capitalised words at the top of its first page (the company, its
ticker) and its period (year, quarter, form type) from its name or cover page. A question that
uses a rare profile word (rare across the documents' full text, so 'cash' or 'revenue' never
count) goes to the documents with the best such matches, then to those whose period fits:
the latest year the question names, a quarter only when it names one (else the annual report),
a form type when it names one. A question that names nothing routes nowhere: all documents.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from core.rag.terms import FORMS, YEAR, terms, words

_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9&.\-]*\b|\b\d[A-Z]+\b")
_COVER_CHARS = 800
_FORM_ON_COVER = re.compile(r"\bform\s+(10-k|10-q|8-k)\b", re.IGNORECASE)
_PERIOD_ON_COVER = re.compile(r"(?:fiscal\s+year|quarterly\s+period|year)\s+ended\s+[a-z]+\s+\d{1,2},?\s+((?:19|20)\d\d)",
                              re.IGNORECASE)
_RELEASE = re.compile(r"\b(?:reports?|announces?)\b.{0,80}\b(?:results|earnings)\b", re.IGNORECASE | re.DOTALL)
_QUARTER_WORDS = {"first": "q1", "second": "q2", "third": "q3", "fourth": "q4"}
RARE_SHARE = 0.25  # a profile word used by more than this share of documents does not route
MATCH_SHARE = 0.8  # documents scoring at least this share of the best company match stay candidates


def profile(name: str, title: str, first_page: str) -> dict:
    """What names a document: identity words and its period (year, quarter, form), for routing."""
    stem = Path(name).stem
    name_words = [w for w in terms(re.sub(r"[_\-.]+", " ", f"{stem} {title}")) if not w.isdigit() and w not in FORMS]
    cover = first_page[:_COVER_CHARS]
    cover_words = [w for w in terms(" ".join(_CAPITALISED.findall(cover))) if len(w) > 1 and not w.isdigit()]
    named = list(words(re.sub(r"[_\-]+", " ", stem)))
    years = [int(w) for w in named if YEAR.fullmatch(w)]
    quarter = next((w for w in named if re.fullmatch(r"q[1-4]", w)), None)
    form = next((w for w in named if w in FORMS), None)
    if form is None:
        found = _FORM_ON_COVER.search(first_page[:3000])
        form = found.group(1).replace("-", "").lower() if found else ("earnings" if _RELEASE.search(cover) else None)
    if not years:
        found = _PERIOD_ON_COVER.search(first_page[:3000])
        years = [int(found.group(1))] if found else []
    return {"identity": sorted(set(name_words + cover_words)), "year": years[0] if years else None,
            "quarter": quarter, "form": form}


def asked_period(question: str) -> tuple[list[int], bool, set[str]]:
    """The years, whether a quarter, and the form types a question names."""
    low = question.lower()
    spaced = " ".join(words(low))
    years = [int(w) for w in spaced.split() if YEAR.fullmatch(w)]
    quarter = bool(re.search(r"\bq[1-4]\b", spaced)) or any(f"{w} quarter" in low for w in _QUARTER_WORDS)
    forms = {w for w in spaced.split() if w in FORMS} | ({"earnings"} if "earnings release" in low else set())
    return years, quarter, forms


def route(question: str, profiles: dict[str, dict], frequency: dict[str, int], total: int) -> set[str] | None:
    """The documents (ids among `profiles`) the question names, or None when it names none.

    `frequency`: how many of the `total` documents use each word (anywhere in their text).
    """
    asked = set(terms(question))
    limit = max(RARE_SHARE * total, min(total - 1, 3))  # a small library: a name in 3 of 4 filings still routes
    scores = {}
    for doc, prof in profiles.items():
        shared = asked & set(prof.get("identity", ()))
        scores[doc] = sum(math.log(max(total, 2) / max(frequency.get(w, 1), 1))
                          for w in shared if frequency.get(w, 1) <= limit)
    best = max(scores.values(), default=0.0)
    if best <= 0:
        return None
    years, quarter, forms = asked_period(question)
    ranked = {}
    for doc, score in scores.items():
        if score < MATCH_SHARE * best:
            continue
        prof = profiles[doc]
        points = score / best
        if years and prof.get("year") == max(years):
            points += 2
        elif years and prof.get("year") in years:
            points += 1
        if quarter and prof.get("quarter"):
            points += 1
        if not quarter and prof.get("form") == "10k":
            points += 0.5
        if prof.get("form") in forms:
            points += 1.5
        ranked[doc] = points
    top = max(ranked.values())
    return {doc for doc, points in ranked.items() if points >= top - 0.01}
