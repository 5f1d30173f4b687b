"""Rerank the best candidate pages by a feature that BM25 and a page's opening-lines vector miss: the
fiscal years the question names, written on the page.

"How much has the effective tax rate changed between FY2021 and FY2022?" is answered by a table
with 2022 and 2021 columns; many pages of the same 10-K share the question's words but report other
periods, or none. The index drops nothing, but BM25 weighs a year like any other term, and a year
that every candidate holds weighs little. Here each year the question names weighs by how few of the
candidates hold it (log(1 + candidates / holders)), and a page scores the weight of the years it
holds over the weight of all of them (0..1). A page that lists every year gets at most 1, which
core.rag.retrieve scales by YEAR_WEIGHT: a tie-breaker among pages that already match, not a way
to the top.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable

from core.rag.terms import YEAR, words


def asked_years(question: str) -> list[str]:
    """The years a question names ('FY2022' and '2021' -> ['2022', '2021'])."""
    return list(dict.fromkeys(w for w in words(question) if YEAR.fullmatch(w)))


def year_scores(question: str, pages: dict[Hashable, str]) -> dict[Hashable, float]:
    """Each candidate page's share (0..1) of the weight of the years the question names that it holds;
    {} when the question names none or no page holds one."""
    years = asked_years(question)
    if not years or not pages:
        return {}
    patterns = {y: re.compile(rf"(?<!\d){y}(?!\d)") for y in years}
    held = {key: {y for y, p in patterns.items() if p.search(text)} for key, text in pages.items()}
    holders = {y: sum(y in found for found in held.values()) for y in years}
    weight = {y: math.log(1 + len(pages) / n) for y, n in holders.items() if n}
    total = sum(weight.values())
    if not total:
        return {}
    return {key: sum(weight[y] for y in found) / total for key, found in held.items()}
