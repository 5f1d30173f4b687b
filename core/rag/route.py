"""Send a question to the documents it names before ranking pages.

"What is the FY2018 capital expenditure for 3M?" over forty filings: the page that answers is
in 3M's 2018 annual report, and a 2022 10-K of the same company (or another company's cash-flow
page) matches the words just as well. A document's *profile* says what names it: the words of
its file name and title, the capitalised words at the top of its first page (the company, its
ticker) and its period (year, quarter, form type) from its name or cover page. A question that
uses a rare profile word goes to the documents with the best such matches, then to those whose
period fits. A word of the file name, title or trading symbol is rare when few documents are
*named* by it ("Amazon" names 2 filings, though 10 mention it) unless most documents use it
('report'); any other word when few documents use it at all (so 'cash' or 'revenue' never count). "American Express" also
matches the glued file name AMERICANEXPRESS. A question that names no profile word but uses a
capitalised word only a few documents contain ("AMEX", "JnJ", "Kenvue") goes to those documents. Then:
the latest year the question names, a quarter only when it names one (else the annual report),
a form type when it names one. A question that names nothing routes nowhere: all documents.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

from core.rag.keyword import STOPWORDS
from core.rag.terms import FORMS, YEAR, terms, words

_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z0-9&.\-]*\b|\b\d[A-Z]+\b")
_COVER_CHARS = 800
_FORM_ON_COVER = re.compile(r"\bform\s+(10-k|10-q|8-k)\b", re.IGNORECASE)
_PERIOD_ON_COVER = re.compile(r"(?:fiscal\s+year|quarterly\s+period|year)\s+ended\s+[a-z]+\s+\d{1,2},?\s+((?:19|20)\d\d)",
                              re.IGNORECASE)
_TICKER = re.compile(r"\b([A-Z]{1,5})\s+(?:The\s+)?(?:New\s+York\s+Stock\s+Exchange|Nasdaq|NASDAQ|NYSE)\b")
_SYMBOL_HEADER = re.compile(r"trading\s+symbol", re.IGNORECASE)
_RELEASE = re.compile(r"\b(?:reports?|announces?)\b.{0,80}\b(?:results|earnings)\b", re.IGNORECASE | re.DOTALL)
_QUARTER_WORDS = {"first": "q1", "second": "q2", "third": "q3", "fourth": "q4"}
RARE_SHARE = 0.25  # a profile word used by more than this share of documents does not route
MATCH_SHARE = 0.8  # documents scoring at least this share of the best company match stay candidates
ROUTE_MARGIN = 0.01  # documents this close to the best fit stay candidates
COMMON_SHARE = 0.5  # a name word that most documents use ('report', 'state') counts by that use
COVER_WEIGHT = 0.5  # a word only on the cover page (not the file name, title or ticker) counts half: a cover
# that lists every company cannot tie with the filings those companies' names name
MENTION_SHARE = 0.1  # a question word in at most this share of documents (at least 1) names them


def profile(name: str, title: str, first_page: str) -> dict:
    """What names a document: identity words and its period (year, quarter, form), for routing."""
    stem = Path(name).stem
    name_words = [w for w in terms(re.sub(r"[_\-.]+", " ", f"{stem} {title}")) if not _period_word(w)]
    cover = first_page[:_COVER_CHARS]
    cover_words = [w for w in terms(" ".join(_CAPITALISED.findall(cover))) if len(w) > 1 and not _period_word(w)]
    name_words += tickers(first_page)
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
    return {"identity": sorted(set(name_words + cover_words)), "names": sorted(set(name_words)),
            "year": years[0] if years else None, "quarter": quarter, "form": form}


def _period_word(word: str) -> bool:
    """A number, 'fy', a quarter or a form type: what a period says, never who a document is."""
    return word.isdigit() or word in FORMS or word == "fy" or re.fullmatch(r"q[1-4]", word) is not None


def tickers(first_page: str) -> list[str]:
    """The trading symbols on a cover page ('Common Stock ... MMM New York Stock Exchange'), lower case."""
    header = _SYMBOL_HEADER.search(first_page[:6000])
    if header is None:
        return []
    table = first_page[header.end():header.end() + 1200]
    return sorted({m.group(1).lower() for m in _TICKER.finditer(table)})


def proper_words(question: str) -> set[str]:
    """The terms of a question's capitalised words, except those opening a sentence ('What', 'Has')."""
    found = [m for m in _CAPITALISED.finditer(question)
             if not re.search(r"(?:^|[.?!:]\s*)$", question[:m.start()].rstrip(" \"'("))]
    return {t for m in found for t in terms(m.group(0))}


def asked_words(question: str) -> set[str]:
    """A question's terms, plus each two and three neighbouring words glued ('american express' ->
    'americanexpress', as file names spell companies)."""
    plain = [w for w in words(question) if w not in STOPWORDS and not w.isdigit()]
    glued = {"".join(plain[i:i + n]) for n in (2, 3) for i in range(len(plain) - n + 1)}
    return set(terms(question)) | glued


def asked_period(question: str) -> tuple[list[int], bool, set[str]]:
    """The years, whether a quarter, and the form types a question names."""
    low = question.lower()
    spaced = " ".join(words(low))
    years = [int(w) for w in spaced.split() if YEAR.fullmatch(w)]
    quarter = bool(re.search(r"\bq[1-4]\b", spaced)) or any(f"{w} quarter" in low for w in _QUARTER_WORDS)
    forms = {w for w in spaced.split() if w in FORMS} | ({"earnings"} if "earnings release" in low else set())
    return years, quarter, forms


def route(question: str, profiles: dict[str, dict], frequency: dict[str, int], total: int,
          mentions: dict[str, set[str]] | None = None) -> set[str] | None:
    """The documents (ids among `profiles`) the question names, or None when it names none.

    `frequency`: how many of the `total` documents use each word (anywhere in their text);
    `mentions`: for the question's rarest words, the documents that use them.
    """
    scores = _name_scores(asked_words(question), profiles, frequency, total)
    if max(scores.values(), default=0.0) <= 0:
        scores = _mention_scores(profiles, mentions or {}, total)
    best = max(scores.values(), default=0.0)
    if best <= 0:
        return None
    years, quarter, forms = asked_period(question)
    ranked = {doc: score / best + _period_points(profiles[doc], years, quarter, forms)
              for doc, score in scores.items() if score >= MATCH_SHARE * best}
    top = max(ranked.values())
    return {doc for doc, points in ranked.items() if points >= top - ROUTE_MARGIN}


def _name_scores(asked: set[str], profiles: dict[str, dict], frequency: dict[str, int], total: int) -> dict[str, float]:
    """Each document's match with the question: the rarity (log inverse frequency) of the words they share."""
    limit = max(RARE_SHARE * total, min(total - 1, 3))  # a small library: a name in 3 of 4 filings still routes
    named_by = Counter(w for prof in profiles.values() for w in set(prof.get("names", ())))
    scores = {}
    for doc, prof in profiles.items():
        identity = set(prof.get("identity", ()))
        names = set(prof.get("names", identity))  # profiles written before names existed: all of them
        score = 0.0
        for word in asked & identity:
            used = frequency.get(word, 1)
            count = named_by[word] if word in names and used <= COMMON_SHARE * total else used
            if count <= limit:
                score += math.log(max(total, 2) / max(count, 1)) * (1.0 if word in names else COVER_WEIGHT)
        scores[doc] = score
    return scores


def _mention_scores(profiles: dict[str, dict], mentions: dict[str, set[str]], total: int) -> dict[str, float]:
    """Documents that use the question's rare words ('AMEX' in one filing of forty)."""
    limit = max(1.0, MENTION_SHARE * total)
    scores: dict[str, float] = dict.fromkeys(profiles, 0.0)
    for docs in mentions.values():
        if 0 < len(docs) <= limit:
            for doc in docs & scores.keys():
                scores[doc] += math.log(max(total, 2) / len(docs))
    return scores


def _period_points(prof: dict, years: list[int], quarter: bool, forms: set[str]) -> float:
    """How well a document's period fits the one asked: the latest year named, a quarter, the form type."""
    points = 0.0
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
    return points
