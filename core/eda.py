"""Profiling: per-column statistics, correlations and alerts, computed in DuckDB over the stored Parquet file.

The work is a handful of scans, each covering every column at once (base statistics, histograms,
top values, correlations through GROUPING SETS), instead of one pass per column and statistic.
Spearman correlation is computed on a reproducible sample of at most SPEARMAN_SAMPLE rows; every
other figure uses all rows. A profile is cached as JSON beside the version it describes.
"""

from __future__ import annotations

import json
import logging
import math
import time
import uuid
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from pydantic import BaseModel, Field, ValidationError

from core import duck, storage
from core.datasets import get_dataset
from core.duck import quote
from core.progress import Progress, no_progress

log = logging.getLogger(__name__)

PROFILE_FORMAT = 2
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT",
           "USMALLINT", "UINTEGER", "UBIGINT", "REAL")
INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
HIST_BINS = 20
TOP_K = 10
CATEGORICAL_MAX = 50
LOW_CARD_TOP = 1000
MAX_CORR_COLUMNS = 25
SPEARMAN_SAMPLE = 200_000
CHUNK = 150  # columns per aggregate query (keeps SQL text reasonable for very wide data)
KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "identifier")


class Bin(BaseModel):
    start: Any
    end: Any
    count: int


class ValueCount(BaseModel):
    value: Any
    count: int


class ColumnProfile(BaseModel):
    """One column. `dtype` is the storage type; `kind` the semantic type (numeric, categorical, boolean,
    datetime, text, identifier)."""

    name: str
    dtype: str
    kind: str
    missing: int
    missing_pct: float
    distinct: int
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    skewness: float | None = None
    kurtosis: float | None = None
    zeros: int | None = None
    negatives: int | None = None
    histogram: list[Bin] = Field(default_factory=list)
    top_values: list[ValueCount] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    length_min: int | None = None
    length_mean: float | None = None
    length_max: int | None = None
    range_days: float | None = None
    largest_gap_days: float | None = None
    numeric_share: float | None = None
    true_count: int | None = None
    memory_bytes: int = 0


class Correlation(BaseModel):
    a: str
    b: str
    method: str  # pearson, spearman, cramers_v, correlation_ratio
    value: float


class Alert(BaseModel):
    kind: str
    column: str
    message: str
    severity: str = "warning"


class Profile(BaseModel):
    dataset_id: str
    dataset_name: str
    version: int
    rows: int
    columns: list[ColumnProfile]
    duplicate_rows: int = 0
    duplicate_pct: float = 0.0
    memory_bytes: int = 0
    correlations: list[Correlation] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    spearman_sample_rows: int = 0
    seconds: float = 0.0
    format: int = PROFILE_FORMAT

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def matrix(self, method: str) -> dict[str, dict[str, float]]:
        """Correlations of one method as a symmetric {a: {b: value}} mapping (diagonal 1)."""
        out: dict[str, dict[str, float]] = {}
        for c in self.correlations:
            if c.method == method:
                out.setdefault(c.a, {c.a: 1.0})[c.b] = c.value
                out.setdefault(c.b, {c.b: 1.0})[c.a] = c.value
        return out


# ---------------------------------------------------------------- types

def storage_kind(dtype: str) -> str:
    upper = dtype.upper()
    if upper.startswith(NUMERIC):
        return "numeric"
    if upper == "BOOLEAN":
        return "boolean"
    if upper.startswith(("DATE", "TIMESTAMP")):
        return "datetime"
    return "text"


def semantic_kind(storage: str, dtype: str, distinct: int, non_null: int, name: str = "") -> str:
    """numeric, categorical, boolean, datetime, text or identifier, from storage type and cardinality."""
    if storage in ("boolean", "datetime"):
        return storage
    unique = non_null > 20 and distinct >= non_null * 0.99
    lowered = name.lower()
    id_name = lowered == "id" or lowered.endswith(("_id", " id", "id_", "uuid", "key", "code"))
    if storage == "numeric":
        integer = dtype.upper().startswith(INTEGER)
        if integer and unique and (id_name or distinct == non_null):
            return "identifier"
        if integer and distinct <= 2 and non_null > 20:
            return "categorical"
        return "numeric"
    if unique:
        return "identifier"
    if distinct <= CATEGORICAL_MAX or (non_null and distinct / non_null <= 0.05):
        return "categorical"
    return "text"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    return str(value)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


# ---------------------------------------------------------------- entry point

def cache_path(dataset_id: uuid.UUID | str, version: int) -> Path:
    return storage.dataset_dir(dataset_id) / f"profile-v{version}.json"


def cached_profile(dataset_id: uuid.UUID | str) -> Profile | None:
    """The cached profile of the dataset's current version, if one was computed."""
    ds = get_dataset(dataset_id)
    path = cache_path(ds.id, ds.version)
    if not path.is_file():
        return None
    try:
        prof = Profile.model_validate_json(path.read_text())
    except (ValidationError, ValueError):
        return None
    return prof if prof.format == PROFILE_FORMAT else None


def profile(dataset_id: uuid.UUID | str, *, progress: Progress = no_progress, refresh: bool = False) -> Profile:
    """Profile the current version of a dataset: per column type, missing, distinct, top values, numeric
    statistics and histogram, datetime range and gaps, text lengths; duplicates, memory, correlations
    (Pearson, Spearman, Cramér's V, correlation ratio) and alerts. Cached per version."""
    ds = get_dataset(dataset_id)
    if not refresh and (hit := cached_profile(ds.id)) is not None:
        progress(1.0, "Profile loaded from cache")
        return hit
    started = time.perf_counter()
    path = storage.absolute(ds.path)
    with _connection(path) as con:
        prof = _Profiler(con, progress).run(dataset_id=str(ds.id), name=ds.name, version=ds.version)
    prof.seconds = round(time.perf_counter() - started, 3)
    _save(prof, cache_path(ds.id, ds.version))
    progress(1.0, "Profile complete")
    return prof


def _connection(path: Path) -> duckdb.DuckDBPyConnection:
    """A cursor on the shared DuckDB database with the version's rows as temporary view `data`.

    No memory limit is set: aggregates such as exact quantiles over hundreds of columns cannot spill,
    and a profile that fails for lack of memory helps nobody.
    """
    con = duck.cursor()
    con.execute(f"CREATE TEMP VIEW data AS SELECT * FROM read_parquet('{_escape(str(path))}')")
    return con


def _escape(text: str) -> str:
    return text.replace("'", "''")


def _save(prof: Profile, path: Path) -> None:
    try:
        with storage.atomic_path(path) as tmp:
            tmp.write_text(prof.model_dump_json())
    except OSError as exc:  # a cache that cannot be written is not an error for the analyst
        log.warning("could not cache profile at %s: %s", path, exc)


# ---------------------------------------------------------------- the profiler

class _Profiler:
    def __init__(self, con: duckdb.DuckDBPyConnection, progress: Progress) -> None:
        self.con, self.progress = con, progress
        self.schema = [(r[0], r[1]) for r in con.execute("DESCRIBE data").fetchall()]
        self.rows = con.execute("SELECT count(*) FROM data").fetchone()[0]
        self.cols: dict[str, ColumnProfile] = {}

    def run(self, *, dataset_id: str, name: str, version: int) -> Profile:
        steps = [("column statistics", self._base), ("histograms", self._histograms), ("top values", self._top),
                 ("date gaps", self._dates), ("examples", self._examples)]
        for i, (label, fn) in enumerate(steps):
            self.progress(0.05 + 0.6 * i / len(steps), f"Computing {label}")
            fn()
        self.progress(0.7, "Counting duplicate rows")
        dupes = self._duplicates()
        self.progress(0.8, "Computing correlations")
        corrs, sample = self._correlations()
        columns = list(self.cols.values())
        prof = Profile(dataset_id=dataset_id, dataset_name=name, version=version, rows=self.rows, columns=columns,
                       duplicate_rows=dupes, duplicate_pct=round(100 * dupes / self.rows, 2) if self.rows else 0.0,
                       memory_bytes=sum(c.memory_bytes for c in columns), correlations=corrs,
                       spearman_sample_rows=sample)
        prof.alerts = alerts(prof)
        return prof

    # -- base statistics: one scan per chunk of columns
    def _base(self, *, light: bool = False) -> None:
        for start in range(0, len(self.schema), CHUNK):
            chunk = self.schema[start:start + CHUNK]
            parts, layout = [], []
            for name, dtype in chunk:
                exprs = _base_exprs(name, dtype, light=light)
                layout.append((name, dtype, [k for k, _ in exprs]))
                parts += [e for _, e in exprs]
            values = self.con.execute(f"SELECT {', '.join(parts)} FROM data").fetchone()
            pos = 0
            for name, dtype, keys in layout:
                stats = dict(zip(keys, values[pos:pos + len(keys)], strict=True))
                pos += len(keys)
                self.cols[name] = self._column(name, dtype, stats, light=light)

    def _column(self, name: str, dtype: str, s: dict[str, Any], *, light: bool = False) -> ColumnProfile:
        non_null = int(s["n"])
        missing = self.rows - non_null
        distinct = min(int(s["distinct"] or 0), non_null)
        store = storage_kind(dtype)
        if non_null > 20 and distinct >= 0.9 * non_null:
            distinct = self._unique_count(name, dtype, non_null, s, distinct)
        kind = semantic_kind(store, dtype, distinct, non_null, name)
        if kind == "identifier" and store == "text" and non_null and (s.get("spaces") or 0) > 0.1 * non_null:
            kind = "text"  # unique sentences are free text, not keys
        col = ColumnProfile(name=name, dtype=dtype, kind=kind, missing=missing,
                            missing_pct=round(100 * missing / self.rows, 2) if self.rows else 0.0, distinct=distinct,
                            min=_plain(s.get("min")), max=_plain(s.get("max")))
        if light:
            return col
        if store == "numeric":
            q = s.get("q") or [None, None, None]
            col.mean, col.std = _num(s["mean"]), _num(s["std"])
            col.p25, col.median, col.p75 = (_num(v) for v in q)
            col.skewness, col.kurtosis = _num(s["skew"]), _num(s["kurt"])
            col.zeros, col.negatives = int(s["zeros"] or 0), int(s["neg"] or 0)
            col.memory_bytes = 8 * self.rows
        elif store == "datetime":
            col.range_days = _num(s.get("range"))
            col.memory_bytes = 8 * self.rows
        elif store == "boolean":
            col.true_count = int(s["true"] or 0)
            col.memory_bytes = self.rows // 8 + 1
        else:
            col.length_min, col.length_max = s["lmin"], s["lmax"]
            col.length_mean = round(_num(s["lmean"]) or 0.0, 2) if s["lmean"] is not None else None
            col.numeric_share = round(int(s["numeric"] or 0) / non_null, 4) if non_null else None
            col.memory_bytes = int((_num(s["lmean"]) or 0) * non_null) + 4 * self.rows
        return col

    def _unique_count(self, name: str, dtype: str, non_null: int, s: dict[str, Any], approx: int) -> int:
        """Exact distinct count for likely identifiers: integers spanning exactly their count are unique
        (sequential ids, no hash table needed); other candidates are counted exactly."""
        q = quote(name)
        if dtype.upper().startswith(INTEGER):
            lo, hi = self.con.execute(f"SELECT min({q}), max({q}) FROM data").fetchone()
            if hi - lo + 1 == non_null:
                return non_null
        if approx < 0.97 * non_null:
            return approx
        return self.con.execute(f"SELECT count(DISTINCT {q}) FROM data").fetchone()[0]

    # -- histograms: one scan for every numeric and datetime column
    def _histograms(self) -> None:
        targets = [c for c in self.cols.values() if c.kind in ("numeric", "datetime", "categorical")
                   and storage_kind(c.dtype) in ("numeric", "datetime") and c.min is not None and c.min != c.max]
        if not targets:
            return
        specs, parts = [], []
        for col in targets:
            value = f"epoch({quote(col.name)})" if storage_kind(col.dtype) == "datetime" else f"{quote(col.name)}::DOUBLE"
            lo, hi = self.con.execute(f"SELECT min({value}), max({value}) FROM data").fetchone() if \
                storage_kind(col.dtype) == "datetime" else (float(col.min), float(col.max))
            bins = _bin_count(col, lo, hi)
            width = (hi - lo) / bins
            specs.append((col, lo, width, bins))
            parts.append(f"histogram(least(floor(({value} - {lo!r}) / {width!r}), {bins - 1})::INTEGER) "
                         f"FILTER (WHERE {quote(col.name)} IS NOT NULL)")
        for start in range(0, len(parts), CHUNK):
            row = self.con.execute(f"SELECT {', '.join(parts[start:start + CHUNK])} FROM data").fetchone()
            for (col, lo, width, bins), counts in zip(specs[start:start + CHUNK], row, strict=True):
                counts = {int(k): int(v) for k, v in (counts or {}).items() if k is not None}
                col.histogram = [Bin(start=_edge(col, lo + i * width), end=_edge(col, lo + (i + 1) * width),
                                     count=counts.get(i, 0)) for i in range(bins)]

    # -- top values: one GROUPING SETS scan for low-cardinality columns, one query per high-cardinality column
    def _top(self) -> None:
        low = [c for c in self.cols.values() if c.kind != "identifier" and 0 < c.distinct <= LOW_CARD_TOP
               and not (c.kind == "numeric" and c.distinct > CATEGORICAL_MAX)]
        high = [c for c in self.cols.values() if c.kind in ("text", "categorical") and c.distinct > LOW_CARD_TOP]
        for start in range(0, len(low), 40):
            self._top_low(low[start:start + 40])
        for col in high:
            rows = self.con.execute(f"SELECT {quote(col.name)}, count(*) AS n FROM data WHERE {quote(col.name)} IS NOT NULL "
                                    f"GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP_K}").fetchall()
            col.top_values = [ValueCount(value=_plain(v), count=n) for v, n in rows]

    def _top_low(self, cols: list[ColumnProfile]) -> None:
        names = [quote(c.name) for c in cols]
        sets = ", ".join(f"({n})" for n in names)
        grouping = ", ".join(f"GROUPING({n})" for n in names)
        sql = (f"SELECT [{grouping}] AS g, {', '.join(f'{n}::VARCHAR' for n in names)}, count(*) AS n FROM data "
               f"GROUP BY GROUPING SETS ({sets})")
        found: dict[int, list[tuple[Any, int]]] = {i: [] for i in range(len(cols))}
        for g, *values, n in self.con.execute(sql).fetchall():
            i = g.index(0)
            if values[i] is not None:
                found[i].append((values[i], n))
        for i, col in enumerate(cols):
            best = sorted(found[i], key=lambda vn: (-vn[1], str(vn[0])))[:TOP_K]
            col.top_values = [ValueCount(value=v, count=n) for v, n in best]

    # -- datetime gaps
    def _dates(self) -> None:
        for col in self.cols.values():
            if col.kind != "datetime" or col.distinct < 2:
                continue
            q = quote(col.name)
            gap = self.con.execute(
                f"SELECT max(e - p) FROM (SELECT e, lag(e) OVER (ORDER BY e) AS p FROM "
                f"(SELECT DISTINCT epoch({q}) AS e FROM data WHERE {q} IS NOT NULL))").fetchone()[0]
            col.largest_gap_days = round(float(gap) / 86400, 4) if gap is not None else None

    def _examples(self) -> None:
        names = list(self.cols)
        for start in range(0, len(names), CHUNK):
            chunk = names[start:start + CHUNK]
            parts = ", ".join(f"list({quote(n)}::VARCHAR)" for n in chunk)
            row = self.con.execute(f"SELECT {parts} FROM (SELECT * FROM data LIMIT 200)").fetchone()
            for name, values in zip(chunk, row, strict=True):
                unique = dict.fromkeys(str(v)[:80] for v in (values or []) if v is not None)
                self.cols[name].examples = list(unique)[:5]

    def _duplicates(self) -> int:
        names = ", ".join(quote(n) for n, _ in self.schema)
        distinct = self.con.execute(f"SELECT count(DISTINCT hash({names})) FROM data").fetchone()[0]
        return int(self.rows - distinct)

    # -- correlations
    def _correlations(self) -> tuple[list[Correlation], int]:
        numeric = [c for c in self.cols.values() if c.kind == "numeric" and (c.std or 0) > 0][:MAX_CORR_COLUMNS]
        cats = [c for c in self.cols.values() if c.kind in ("categorical", "boolean") and 1 < c.distinct
                <= CATEGORICAL_MAX][:MAX_CORR_COLUMNS]
        out = self._pearson(numeric)
        spearman, sample = self._spearman(numeric)
        out += spearman + self._cramers_v(cats) + self._correlation_ratio(cats, numeric)
        return out, sample

    def _pearson(self, cols: list[ColumnProfile]) -> list[Correlation]:
        pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
        if not pairs:
            return []
        parts = ", ".join(f"corr({quote(a.name)}::DOUBLE, {quote(b.name)}::DOUBLE)" for a, b in pairs)
        values = self.con.execute(f"SELECT {parts} FROM data").fetchone()
        return [Correlation(a=a.name, b=b.name, method="pearson", value=round(v, 4))
                for (a, b), v in zip(pairs, values, strict=True) if _num(v) is not None]

    def _spearman(self, cols: list[ColumnProfile]) -> tuple[list[Correlation], int]:
        if len(cols) < 2:
            return [], 0
        names = [c.name for c in cols]
        select = ", ".join(f"{quote(n)}::DOUBLE" for n in names)
        share = min(100.0, 100.0 * SPEARMAN_SAMPLE / max(self.rows, 1))
        sample = f" USING SAMPLE {share:.4f}% (bernoulli, 42)" if self.rows > SPEARMAN_SAMPLE else ""
        arrays = self.con.execute(f"SELECT {select} FROM data{sample}").fetchnumpy()
        matrix = np.column_stack([np.ma.filled(np.ma.asarray(arrays[k]).astype("float64"), np.nan) for k in arrays])
        n = matrix.shape[0]
        ranks = _rank_columns(matrix)
        out = []
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                mask = ~np.isnan(matrix[:, i]) & ~np.isnan(matrix[:, j])
                if mask.sum() < 3:
                    continue
                ri, rj = (_rank(matrix[mask, i]), _rank(matrix[mask, j])) if not mask.all() else (ranks[:, i], ranks[:, j])
                value = _num(np.corrcoef(ri, rj)[0, 1])
                if value is not None:
                    out.append(Correlation(a=names[i], b=names[j], method="spearman", value=round(value, 4)))
        return out, n

    def _cramers_v(self, cols: list[ColumnProfile]) -> list[Correlation]:
        pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
        if not pairs:
            return []
        names = [quote(c.name) for c in cols]
        sets = ", ".join(f"({quote(a.name)}, {quote(b.name)})" for a, b in pairs)
        grouping = ", ".join(f"GROUPING({n})" for n in names)
        sql = (f"SELECT [{grouping}] AS g, {', '.join(f'{n}::VARCHAR' for n in names)}, count(*) FROM data "
               f"GROUP BY GROUPING SETS ({sets})")
        tables: dict[tuple[int, int], dict[tuple[str, str], int]] = {}
        for g, *values, n in self.con.execute(sql).fetchall():
            i, j = [k for k, flag in enumerate(g) if flag == 0]
            if values[i] is None or values[j] is None:
                continue
            tables.setdefault((i, j), {})[(values[i], values[j])] = n
        out = []
        for (i, j), cells in tables.items():
            value = _cramers_v(cells)
            if value is not None:
                out.append(Correlation(a=cols[i].name, b=cols[j].name, method="cramers_v", value=round(value, 4)))
        return out

    def _correlation_ratio(self, cats: list[ColumnProfile], nums: list[ColumnProfile]) -> list[Correlation]:
        if not cats or not nums:
            return []
        cat_names = [quote(c.name) for c in cats]
        stats = ", ".join(f"count({quote(x.name)}), avg({quote(x.name)}::DOUBLE)" for x in nums)
        grouping = ", ".join(f"GROUPING({n})" for n in cat_names)
        sql = (f"SELECT [{grouping}] AS g, {stats} FROM data GROUP BY GROUPING SETS "
               f"({', '.join(f'({n})' for n in cat_names)})")
        between = np.zeros((len(cats), len(nums)))
        for g, *values in self.con.execute(sql).fetchall():
            i = g.index(0)
            for j, x in enumerate(nums):
                count, mean = values[2 * j], values[2 * j + 1]
                if count and mean is not None and x.mean is not None:
                    between[i, j] += count * (mean - x.mean) ** 2
        out = []
        for j, x in enumerate(nums):
            total = (x.std or 0) ** 2 * (self.rows - x.missing - 1)
            for i, c in enumerate(cats):
                if total > 0:
                    eta = math.sqrt(min(max(between[i, j] / total, 0.0), 1.0))
                    out.append(Correlation(a=c.name, b=x.name, method="correlation_ratio", value=round(eta, 4)))
        return out


class ColumnInfo(BaseModel):
    """Quick facts about one column, without a full profile."""

    name: str
    storage_type: str
    kind: str
    missing: int
    missing_pct: float
    distinct: int
    examples: list[str]


def column_info(dataset_id: uuid.UUID | str) -> list[ColumnInfo]:
    """Storage type, semantic type, missing, (approximate) distinct count and examples of every column."""
    ds = get_dataset(dataset_id)
    with duck.cursor() as con:
        con.execute(f"CREATE TEMP VIEW data AS SELECT * FROM read_parquet('{_escape(str(storage.absolute(ds.path)))}')")
        prof = _Profiler(con, no_progress)
        prof._base(light=True)
        prof._examples()
    return [ColumnInfo(name=c.name, storage_type=c.dtype, kind=c.kind, missing=c.missing, missing_pct=c.missing_pct,
                       distinct=c.distinct, examples=c.examples) for c in prof.cols.values()]


def _base_exprs(name: str, dtype: str, *, light: bool = False) -> list[tuple[str, str]]:
    q = quote(name)
    store = storage_kind(dtype)
    exprs = [("n", f"count({q})"), ("distinct", f"approx_count_distinct({q})")]
    if store == "text":
        v = f"{q}::VARCHAR" if dtype.upper() != "VARCHAR" else q
        exprs.append(("spaces", f"count_if(contains({v}, ' '))"))
    if light:
        return exprs
    if store == "numeric":
        d = f"{q}::DOUBLE"
        exprs += [("min", f"min({q})"), ("max", f"max({q})"), ("mean", f"avg({d})"), ("std", f"stddev_samp({d})"),
                  ("q", f"quantile_cont({q}, [0.25, 0.5, 0.75])"), ("skew", f"skewness({d})"),
                  ("kurt", f"kurtosis({d})"), ("zeros", f"count_if({q} = 0)"), ("neg", f"count_if({q} < 0)")]
    elif store == "datetime":
        exprs += [("min", f"min({q})"), ("max", f"max({q})"), ("range", f"(epoch(max({q})) - epoch(min({q}))) / 86400")]
    elif store == "boolean":
        exprs += [("true", f"count_if({q})")]
    else:
        v = f"{q}::VARCHAR" if dtype.upper() != "VARCHAR" else q
        exprs += [("min", f"min({v})"), ("max", f"max({v})"), ("lmin", f"min(length({v}))"),
                  ("lmean", f"avg(length({v}))"), ("lmax", f"max(length({v}))"),
                  ("numeric", f"count(TRY_CAST({v} AS DOUBLE))")]
    return exprs


def _bin_count(col: ColumnProfile, lo: float, hi: float) -> int:
    if col.dtype.upper().startswith(INTEGER) and hi - lo + 1 <= HIST_BINS:
        return max(int(hi - lo) + 1, 1)
    return HIST_BINS


def _edge(col: ColumnProfile, value: float) -> Any:
    if storage_kind(col.dtype) == "datetime":
        from datetime import UTC, datetime

        return datetime.fromtimestamp(value, UTC).isoformat()
    return round(value, 6)


def _rank(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman needs."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype="float64")
    ranks[order] = np.arange(1, len(values) + 1)
    sorted_vals = values[order]
    _, first, counts = np.unique(sorted_vals, return_index=True, return_counts=True)
    if len(counts) < len(values):
        mean_rank = first + (counts + 1) / 2
        ranks[order] = np.repeat(mean_rank, counts)
    return ranks


def _rank_columns(matrix: np.ndarray) -> np.ndarray:
    if np.isnan(matrix).any():
        return np.full_like(matrix, np.nan)
    return np.column_stack([_rank(matrix[:, i]) for i in range(matrix.shape[1])])


def _cramers_v(cells: dict[tuple[str, str], int]) -> float | None:
    rows = sorted({a for a, _ in cells})
    cols = sorted({b for _, b in cells})
    if len(rows) < 2 or len(cols) < 2:
        return None
    ri, ci = {v: i for i, v in enumerate(rows)}, {v: i for i, v in enumerate(cols)}
    table = np.zeros((len(rows), len(cols)))
    for (a, b), n in cells.items():
        table[ri[a], ci[b]] = n
    total = table.sum()
    expected = np.outer(table.sum(1), table.sum(0)) / total
    chi2 = float(((table - expected) ** 2 / np.where(expected == 0, 1, expected)).sum())
    return math.sqrt(chi2 / total / (min(table.shape) - 1))


# ---------------------------------------------------------------- alerts

def alerts(prof: Profile) -> list[Alert]:
    """Findings an analyst should look at, most important first."""
    out: list[Alert] = []
    for c in prof.columns:
        out += _column_alerts(c, prof.rows)
    strong = [c for c in prof.correlations if abs(c.value) >= 0.9 and c.method != "spearman"]
    for c in strong:
        out.append(Alert(kind="high_correlation", column=f"{c.a} / {c.b}",
                         message=f"{c.a} and {c.b} are highly correlated ({c.method.replace('_', ' ')} {c.value:.2f}).",
                         severity="info"))
    if prof.duplicate_rows:
        out.append(Alert(kind="duplicates", column="(all)", message=f"{prof.duplicate_rows:,} duplicate rows "
                         f"({prof.duplicate_pct:g}%).", severity="warning"))
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(out, key=lambda a: order.get(a.severity, 3))


def _column_alerts(c: ColumnProfile, rows: int) -> list[Alert]:
    out = []
    non_null = rows - c.missing
    if c.missing == rows and rows:
        return [Alert(kind="empty", column=c.name, message=f"{c.name} is empty in every row.", severity="error")]
    if c.missing_pct >= 20:
        out.append(Alert(kind="high_missing", column=c.name, message=f"{c.name} is missing in {c.missing_pct:g}% of rows."))
    if c.distinct == 1:
        out.append(Alert(kind="constant", column=c.name, message=f"{c.name} has a single value"
                         f"{f' ({c.top_values[0].value!r})' if c.top_values else ''}."))
    if c.kind == "identifier":
        out.append(Alert(kind="identifier", column=c.name, message=f"{c.name} looks like an identifier (unique per row).",
                         severity="info"))
    elif c.kind == "text" and non_null and c.distinct / non_null > 0.5:
        out.append(Alert(kind="high_cardinality", column=c.name,
                         message=f"{c.name} has {c.distinct:,} distinct values.", severity="info"))
    if c.skewness is not None and abs(c.skewness) > 2:
        out.append(Alert(kind="skewed", column=c.name, message=f"{c.name} is strongly skewed ({c.skewness:.1f}).",
                         severity="info"))
    if c.kind in ("categorical", "boolean") and c.top_values and non_null and c.distinct > 1:
        share = c.top_values[0].count / non_null
        if share >= 0.9:
            out.append(Alert(kind="imbalance", column=c.name, message=f"{c.name} is imbalanced: "
                             f"{c.top_values[0].value!r} is {share:.0%} of values."))
    if c.numeric_share is not None and 0.05 <= c.numeric_share <= 0.95:
        out.append(Alert(kind="mixed_types", column=c.name, message=f"{c.name} mixes numbers ({c.numeric_share:.0%}) "
                         "and text.", severity="warning"))
    return out


def dumps(prof: Profile) -> str:
    return json.dumps(prof.model_dump(mode="json"))
