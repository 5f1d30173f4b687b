"""Grounding a message in the data: the values it names, the column that holds each, and columns by synonym.

"consumer" and "corporate" are levels of `segment`, so they name the grouping column; "North" becomes
`region = 'North'`; "churned" on a yes/no or 0/1 column becomes its true level. Levels come from the data
itself (`levels_of`: the distinct values of each low-cardinality column, read once per dataset version), so
the planner knows a word is a value without a rule for that word. Matching is word-based and linear in the
message: no pattern here can backtrack.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agents.resolve import norm

log = logging.getLogger(__name__)

MAX_LEVELS = 30
MAX_LEVEL_CHARS = 40
TRUE_WORDS = ("yes", "true", "y", "t", "1")
NEGATIONS = {"not", "no", "non", "never", "without", "stayed", "kept", "others", "other", "rest", "remaining",
             "didn't", "didnt", "weren't", "werent", "wasn't", "haven't", "hasn't", "isn't", "aren't", "don't"}
# Concepts an analyst names by another word: a message word in a group picks the one column that has a word of it.
SYNONYMS: tuple[frozenset[str], ...] = tuple(frozenset(g.split()) for g in (
    "pay paid pays paying bill bills billed charge charges charged cost costs price prices spend spent spends "
    "expensive cheaper amount fee fees",
    "salary salaries wage wages earn earns earning earnings income pay paid compensation",
    "age old older younger aged",
    "stay stays stayed long longer duration days tenure",
    "revenue revenues sales turnover",
    "rating ratings rated score scores satisfaction stars",
    "remote remotely home",
))


# Words for common levels: "men" names the level "male" (or "m") of a gender column.
LEVEL_WORDS: dict[str, tuple[str, ...]] = {
    "male": ("men", "man", "males"), "m": ("men", "man", "males", "male"), "female": ("women", "woman", "females"),
    "f": ("women", "woman", "females", "female"), "yes": (), "no": (),
}


@dataclass
class ValueMention:
    """A level of a column named in the message ("North" of region); `negated` when the words say 'not'."""

    start: int
    end: int
    column: str
    level: Any
    negated: bool = False


def true_level(levels: list[Any]) -> Any | None:
    """The level meaning 'yes' of a two-level column (True, 1, 'yes', 'true', 'y'); None when it has none."""
    if len(levels) != 2:
        return None
    for level in levels:
        if level is True or (isinstance(level, int | float) and not isinstance(level, bool) and level == 1):
            return level
        if isinstance(level, str) and level.strip().lower() in TRUE_WORDS:
            return level
    return None


def false_level(levels: list[Any]) -> Any | None:
    yes = true_level(levels)
    return next((v for v in levels if v != yes), None) if yes is not None else None


def is_binary(levels: list[Any] | None) -> bool:
    return bool(levels) and true_level(list(levels)) is not None


def _forms(word: str) -> set[str]:
    """A word and the forms an analyst writes it in: plurals, -ed/-ly/-er endings ("churn" -> "churned")."""
    forms = {word, word + "s", word + "es", word + "ed", word + "d", word + "ly", word + "er", word + "ers"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing", word[:-1] + "ely"}
    if word.endswith("ly"):
        forms.add(word[:-2])
    if word.endswith("ed"):
        forms |= {word[:-2], word[:-1]}
    return forms


def words(low: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in re.finditer(r"[a-z0-9][a-z0-9']*", low)]


def level_mentions(low: str, levels: dict[str, list[Any]], taken: list[tuple[int, int]]) -> list[ValueMention]:
    """Where the message names a level of a column, outside the spans already taken by column names.

    A level is matched by its words in order ("home office"), in any usual form ("privately" for "private");
    numbers are matched only as levels of a column named right before them (see `number_conditions`).
    The longest level wins where two overlap; a level two columns share is ambiguous and skipped.
    """
    toks = words(low)
    found: dict[tuple[int, int], list[ValueMention]] = {}
    for column, values in levels.items():
        for value in values:
            if isinstance(value, bool | int | float) or value is None:
                continue
            parts = norm(str(value)).split()
            if not parts or len(parts) > 4 or (len(parts[0]) < 2 and norm(str(value)) not in LEVEL_WORDS):
                continue
            extra = LEVEL_WORDS.get(norm(str(value)), ())
            for i in range(len(toks) - len(parts) + 1):
                if all(toks[i + j][2] in _forms(p) or (len(p) >= 5 and toks[i + j][2].startswith(p))
                       or (len(parts) == 1 and toks[i][2] in extra) for j, p in enumerate(parts)):
                    span = (toks[i][0], toks[i + len(parts) - 1][1])
                    if not any(s < span[1] and span[0] < e for s, e in taken):
                        found.setdefault(span, []).append(ValueMention(*span, column, value))
    kept = [hits[0] for hits in found.values() if len({h.column for h in hits}) == 1]
    kept.sort(key=lambda m: (m.start, -(m.end - m.start)))
    out: list[ValueMention] = []
    for m in kept:
        if out and m.start < out[-1].end:
            continue
        m.negated = _negated(low, m.start)
        out.append(m)
    return out


def _negated(low: str, start: int) -> bool:
    """'non-smokers', 'not churned', 'didn't churn': a negation within the two words before."""
    before = [w for _, _, w in words(low[max(0, start - 24):start])][-2:]
    return any(w in NEGATIONS for w in before) or low[max(0, start - 4):start] in ("non-", "non ")


def synonym_column(word: str, candidates: list[str], *, named: list[str] = ()) -> str | None:
    """The one candidate column that shares a synonym group with `word` ("pay" -> bill_amount); None when a
    column already `named` is of that group (then the word means that column)."""
    groups = [g for g in SYNONYMS if word in g]
    if not groups or any(set(norm(c).split()) & g for c in named for g in groups):
        return None
    hits = {c for c in candidates for g in groups if set(norm(c).split()) & g}
    return hits.pop() if len(hits) == 1 else None


def levels_of(dataset_id: str, version: int, columns: tuple[tuple[str, str], ...]) -> dict[str, list[Any]]:
    """The distinct values of each column with at most MAX_LEVELS of them (text, booleans, integers)."""
    return dict(_levels_cached(dataset_id, version, columns))


@lru_cache(maxsize=64)
def _levels_cached(dataset_id: str, version: int, columns: tuple[tuple[str, str], ...]) -> tuple[
        tuple[str, list[Any]], ...]:
    from core import duck
    from core.datasets import versions
    from core.duck import quote
    from core.expressions import literal

    wanted = [name for name, dtype in columns
              if dtype.lower().startswith(("string", "large_string", "bool", "int", "uint", "dictionary"))]
    if not wanted:
        return ()
    path = versions.version_path(dataset_id, version)
    out = []
    with duck.cursor() as con:
        source = f"read_parquet({literal(str(path))})"
        counts = con.execute("SELECT " + ", ".join(f"approx_count_distinct({quote(c)})" for c in wanted)
                             + f" FROM {source}").fetchone()
        for name, count in zip(wanted, counts, strict=True):
            if count is None or count > MAX_LEVELS:
                continue
            rows = con.execute(f"SELECT DISTINCT {quote(name)} FROM {source} WHERE {quote(name)} IS NOT NULL "
                               f"LIMIT {MAX_LEVELS + 1}").fetchall()
            values = [r[0] for r in rows if not isinstance(r[0], str) or len(r[0]) <= MAX_LEVEL_CHARS]
            if len(rows) <= MAX_LEVELS:
                out.append((name, values))
    return tuple(out)


def safe_levels(ds: Any) -> dict[str, list[Any]]:
    """`levels_of` for a Dataset row; no levels (and a log line) when its file cannot be read."""
    try:
        return levels_of(str(ds.id), int(ds.version or 1),
                         tuple((c["name"], str(c["dtype"])) for c in ds.schema_))
    except Exception as exc:  # levels sharpen the parse; without them the planner still reads column names
        log.info("no levels for dataset %s: %s", getattr(ds, "name", "?"), exc)
        return {}
