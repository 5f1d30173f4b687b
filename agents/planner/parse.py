"""Reading a message: which dataset it is about, which columns it names (fuzzily), in order.

Dataset and column names are found in the message by fuzzy matching against the stored schemas; the
current dataset is the default. A column the current dataset lacks but another dataset has switches to
that dataset (with a note saying so). The helpers every intent module shares live here too.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from agents.planner.grounding import ValueMention, _forms, level_mentions, safe_levels, synonym_column, words
from agents.reply import Choice, ToolCall
from agents.resolve import is_numeric, norm


@dataclass
class Schema:
    """A dataset as the planner sees it: column kinds, and the levels of its low-cardinality columns."""

    id: str
    name: str
    kinds: dict[str, str]
    levels: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.kinds)


@dataclass
class Mention:
    start: int
    end: int
    column: str


@dataclass
class Ctx:
    """A parsed message. `has` and `split` read the wording with the named columns and dataset blanked out, so
    a column called "mean radius" is not the word "mean". A rule that recognises the request but cannot fill
    it sets `clarification` (what it understood, and a question) instead of letting another rule answer."""

    text: str
    low: str
    ds: Schema | None
    mentions: list[Mention] = field(default_factory=list)
    page: str | None = None
    schemas: list[Schema] = field(default_factory=list)
    ds_span: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)
    clarification: str | None = None
    values: list[ValueMention] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    @cached_property
    def wording(self) -> str:
        """The message with named columns and the dataset name blanked (same length, so positions hold).

        Read only by the rules, after `context` has settled the dataset and the mentions."""
        chars = list(self.low)
        spans = [(m.start, m.end) for m in self.mentions] + ([self.ds_span] if self.ds_span else [])
        for start, end in spans:
            chars[start:end] = "\x00" * (end - start)
        return "".join(chars)

    def clarify(self, text: str, choices: list[Choice] | None = None) -> None:
        """Stop planning: say what was understood and ask, offering `choices` (requests the planner maps) as
        buttons. The first clarification wins."""
        if self.clarification is None:
            self.clarification, self.choices = text, list(choices or [])

    @property
    def cols(self) -> list[str]:
        return list(dict.fromkeys(m.column for m in self.mentions))

    def of_kind(self, kind: str, cols: list[str] | None = None) -> list[str]:
        return [c for c in (self.cols if cols is None else cols) if self.ds and self.ds.kinds.get(c) == kind]

    def split(self, pattern: str) -> tuple[list[str], list[str]] | None:
        """Columns mentioned before and after the first match of `pattern`."""
        hit = re.search(pattern, self.wording)
        if not hit:
            return None
        before = [m.column for m in self.mentions if m.end <= hit.start()]
        after = [m.column for m in self.mentions if m.start >= hit.end()]
        return list(dict.fromkeys(before)), list(dict.fromkeys(after))

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.wording) is not None

    def call(self, name: str, **arguments: Any) -> list[ToolCall]:
        if self.ds is not None and name not in ("sql_query", "get_job_status", "query_documents",
                                                 "search_documents", "list_datasets"):
            arguments = {"dataset": self.ds.name, **arguments}
        return [ToolCall(name=name, arguments={k: v for k, v in arguments.items() if v is not None})]


def load_schemas() -> list[Schema]:
    from core import datasets

    return [Schema(str(d.id), d.name, {c["name"]: "numeric" if is_numeric(str(c["dtype"])) else "categorical"
                                      for c in d.schema_}, safe_levels(d)) for d in datasets.list_datasets()]


def _spans(low: str, phrase: str) -> list[tuple[int, int]]:
    """Where a normalised phrase occurs in the normalised message: exactly (plurals too), else fuzzily."""
    if not phrase:
        return []
    plural = rf"|{re.escape(phrase[:-1])}ies" if phrase.endswith("y") else ""
    pattern = rf"(?<![\w])(?:{re.escape(phrase)}(?:e?s)?{plural})(?![\w])"
    exact = [(m.start(), m.end()) for m in re.finditer(pattern, low)]
    if exact or len(phrase) < 4:
        return exact
    size = phrase.count(" ") + 1
    found = []
    tokens = list(re.finditer(r"[\w']+", low))
    for n in {size, size + 1, max(size - 1, 1)}:
        for i in range(len(tokens) - n + 1):
            start, end = tokens[i].start(), tokens[i + n - 1].end()
            piece = low[start:end]
            if piece not in VOCABULARY and _close_enough(piece, phrase, n == size):
                found.append((start, end))
    return found


@lru_cache(maxsize=65536)
def _close_enough(piece: str, phrase: str, same_size: bool) -> bool:
    """A typo of the phrase ("pirce" for price) or the phrase with its spaces moved; cheap checks first."""
    squeezed = piece.replace(" ", "") == phrase.replace(" ", "")
    if squeezed:
        return True
    if not same_size or len(piece) < 4 or 2 * min(len(piece), len(phrase)) < 0.8 * (len(piece) + len(phrase)):
        return False  # lengths too far apart for a ratio of 0.8
    if len(set(piece) - set(phrase)) > max(2, len(piece) // 4):
        return False  # too many letters the phrase does not have
    matcher = difflib.SequenceMatcher(None, piece, phrase)
    return matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8 and _word_by_word(piece, phrase)


def _word_by_word(piece: str, phrase: str) -> bool:
    """Each word close to its counterpart ("patients are" is not "patient age", "prise" is "price")."""
    a, b = piece.split(), phrase.split()
    return len(a) != len(b) or all(difflib.SequenceMatcher(None, x, y).ratio() >= 0.75 for x, y in zip(a, b, strict=True))


VOCABULARY = set(
    "distinct district distribution distributed count counts average mean median total sum maximum minimum "
    "histogram chart charts plot plots scatter outlier outliers missing values value correlation correlated "
    "statistics stats summary describe between versus against train model predict status documents search "
    "normal normally anova test tests group groups column columns dataset datasets table rows show with "
    "there their where which what whats about from data each every across per".split())


def _find_dataset(low: str, schemas: list[Schema]) -> tuple[Schema | None, tuple[int, int] | None]:
    best: tuple[int, Schema, tuple[int, int]] | None = None
    for schema in schemas:
        for span in _spans(low, norm(schema.name)):
            if best is None or len(schema.name) > best[0]:
                best = (len(schema.name), schema, span)
    return (best[1], best[2]) if best else (None, None)


def _partial_spans(low: str, col: str, ds: Schema) -> list[tuple[int, int]]:
    """A distinctive word of a multi-word column name ('area' for area_sqm), when no other column shares it."""
    words_ = norm(col).split()
    if len(words_) < 2 or words_[-1] in ID_WORDS:  # "customer" alone is not customer_id
        return []
    others = {w for c in ds.columns if c != col for w in norm(c).split()}
    spans: list[tuple[int, int]] = []
    for word in words_:
        if len(word) >= 3 and word not in others and word not in STOP:
            forms = _forms(word)
            spans += [(s, e) for s, e, w in words(low) if w in forms]
    return spans


ID_WORDS = {"id", "ids", "key", "uuid", "no", "nr", "num"}


STOP = {"the", "and", "for", "per", "with", "from", "count", "total", "number", "type", "date", "name", "value",
        "has", "have", "had", "is", "was", "pct", "percent", "level", "amount", "score", "works", "work"}


def _mentions(low: str, ds: Schema, skip: tuple[int, int] | None) -> list[Mention]:
    found: list[Mention] = []
    for col in ds.columns:
        spans = _spans(low, norm(col)) or _partial_spans(low, col, ds)
        for start, end in spans:
            if skip and start < skip[1] and end > skip[0] and norm(col) != norm(ds.name):
                continue
            found.append(Mention(start, end, col))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Mention] = []
    for m in found:  # longest match wins where two overlap
        if kept and m.start < kept[-1].end:
            if m.end - m.start > kept[-1].end - kept[-1].start:
                kept[-1] = m
            continue
        kept.append(m)
    return kept


def context(message: str, *, dataset_id: str | None = None, schemas: list[Schema] | None = None,
            page: str | None = None) -> Ctx:
    """Parse a message: which dataset it is about and which columns it names, in order.

    The dataset named in the message wins; else the current one (`dataset_id`); else the first. When the
    current dataset has none of the columns named but exactly one other dataset has, that one is used and a
    note says so.
    """
    schemas = load_schemas() if schemas is None else schemas
    low = norm(message.replace("`", " ").replace('"', " ").replace("'s ", " "))
    ds, span = _find_dataset(low, schemas)
    ctx = Ctx(message.strip(), low, ds, page=page, schemas=schemas, ds_span=span)
    if ds is None:
        ctx.ds = next((s for s in schemas if s.id == str(dataset_id)), None) or (schemas[0] if schemas else None)
    if ctx.ds is not None:
        ctx.mentions = _mentions(low, ctx.ds, span)
        if ds is None and not ctx.mentions:
            _switch_dataset(ctx)
        ground(ctx)
    return ctx


def _is_partial(low: str, m: Mention) -> bool:
    """A mention by fewer words than the column's name ("monthly" for monthly_charges)."""
    return len(low[m.start:m.end].split()) < len(norm(m.column).split())


def ground(ctx: Ctx) -> None:
    """Add what the column names alone miss: the values the message names (and the column of each), and
    numeric columns named by a synonym ("pay" for bill_amount)."""
    if ctx.ds is None:
        return
    full = [m for m in ctx.mentions if not _is_partial(ctx.low, m)]
    taken = [(m.start, m.end) for m in full] + ([ctx.ds_span] if ctx.ds_span else [])
    ctx.values = level_mentions(ctx.low, ctx.ds.levels, taken)
    # a value beats one word of a longer column name: "monthly contract" is contract = 'monthly'
    ctx.mentions = [m for m in ctx.mentions if not any(v.start < m.end and m.start < v.end for v in ctx.values)]
    taken = [(m.start, m.end) for m in ctx.mentions] + [(v.start, v.end) for v in ctx.values] + taken
    numeric = [c for c, k in ctx.ds.kinds.items() if k == "numeric" and c not in ctx.cols]
    for start, end, word in words(ctx.low):
        if any(s < end and start < e for s, e in taken):
            continue
        col = synonym_column(word, numeric, named=ctx.cols)
        if col and col not in ctx.cols:
            ctx.mentions.append(Mention(start, end, col))
    ctx.mentions.sort(key=lambda m: m.start)
    ctx.__dict__.pop("wording", None)


def _switch_dataset(ctx: Ctx) -> None:
    """Use the one other dataset that has the columns the message names exactly (the current has none)."""
    found = []
    for other in ctx.schemas:
        if other is ctx.ds:
            continue
        mentions = [m for m in _mentions(ctx.low, other, None) if norm(m.column) in ctx.low]
        if mentions:
            found.append((other, mentions))
    if len(found) != 1:
        return
    other, mentions = found[0]
    named = ", ".join(dict.fromkeys(m.column for m in mentions))
    ctx.notes.append(f"_{named} is not a column of {ctx.ds.name}; I used {other.name}, which has it._")
    ctx.ds, ctx.mentions = other, _mentions(ctx.low, other, None)


Rule = Callable[[Ctx], list[ToolCall] | None]

AGG_WORDS = {"average": "avg", "avg": "avg", "mean": "avg", "sum": "sum", "total": "sum", "maximum": "max",
             "max": "max", "highest": "max", "minimum": "min", "min": "min", "lowest": "min", "median": "median",
             "count": "count", "number of": "count", "how many": "count"}
GROUP_SEP = r"\b(by|per|for each|for every|in each|across|grouped by|group by|broken down by|split by|among)\b"


def _value_group(ctx: Ctx) -> tuple[str | None, str | None]:
    """A numeric column and a grouping column, by type first and by order second."""
    parts = ctx.split(GROUP_SEP)
    if parts and parts[0] and parts[1]:
        return parts[0][0], parts[1][0]
    nums, cats = ctx.of_kind("numeric"), ctx.of_kind("categorical")
    if nums and cats:
        return nums[0], cats[0]
    cols = ctx.cols
    return (cols[0] if cols else None), (cols[1] if len(cols) > 1 else None)


def _pair(ctx: Ctx) -> tuple[str | None, str | None]:
    cols = ctx.cols
    return (cols[0] if cols else None), (cols[1] if len(cols) > 1 else None)


def _agg(ctx: Ctx) -> str | None:
    for word, agg in AGG_WORDS.items():
        if ctx.has(rf"\b{word}\b"):
            return {"avg": "mean"}.get(agg, agg)
    return None
