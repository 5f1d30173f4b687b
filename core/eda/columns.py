"""Per-column statistics of one chunk of columns (an Arrow table, also registered as `data` in DuckDB):
base statistics, exact distinct counts for likely identifiers, histograms, top values, datetime gaps and
examples.

Moments, quantiles and lengths come from one DuckDB scan of the chunk; exact distinct counts, numeric
histograms and top values from pyarrow and numpy (`core.eda.values`), which cost microseconds per column
where the DuckDB aggregates cost milliseconds; datetime gaps run one query per column against the chunk
alone. Nothing costs more because the dataset is wider.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from core.duck import quote
from core.eda.kinds import CATEGORICAL_MAX, INTEGER, num, plain, refine_text_kind, semantic_kind, storage_kind
from core.eda.models import Bin, ColumnProfile, ValueCount
from core.eda.source import arrow_duck_types
from core.eda.values import distinct_count, examples, histogram_counts, largest_gap_seconds, value_counts
from core.eda.values import top_values as common_values

HIST_BINS = 20
TOP_K = 10
LOW_CARD_TOP = 1000


def profile_chunk(con: duckdb.DuckDBPyConnection, table: pa.Table, rows: int) -> list[ColumnProfile]:
    """Every statistic of the chunk `table`, which is registered as `data` on `con`."""
    schema = list(zip(table.column_names, arrow_duck_types(con, table.schema), strict=True))
    cols, counts = base(con, table, schema, rows)
    histograms(con, table, cols)
    top_values(table, cols, counts)
    date_gaps(con, table, cols)
    for col in cols:
        col.examples = examples(table.column(col.name))
    return cols


# ---------------------------------------------------------------- base statistics

def base(con: duckdb.DuckDBPyConnection, table: pa.Table, schema: list[tuple[str, str]], rows: int
         ) -> tuple[list[ColumnProfile], dict[str, pa.Table]]:
    """Counts, distinct values, ranges, moments and lengths of every column: what pyarrow computes faster
    (`arrow_stats`) from the column itself, the rest in one DuckDB scan. Also the value counts of the text
    columns summarised by them, by name."""
    parts, layout, known = [], [], []
    for name, dtype in schema:
        found = arrow_stats(con, table.column(name), dtype)
        exprs = [(k, e) for k, e in base_exprs(name, dtype) if k not in found]
        layout.append((name, dtype, [k for k, _ in exprs]))
        known.append(found)
        parts += [e for _, e in exprs]
    values = con.execute(f"SELECT {', '.join(parts)} FROM data").fetchall()[0] if parts else ()
    stats, pos = [], 0
    for (name, dtype, keys), found in zip(layout, known, strict=True):
        stats.append((name, dtype, {**found, **dict(zip(keys, values[pos:pos + len(keys)], strict=True))}))
        pos += len(keys)
    exact = _exact_distinct(table, stats)
    counts = {name: s.pop("counts") for name, _, s in stats if "counts" in s}
    return [_column(name, dtype, s, rows, exact.get(name)) for name, dtype, s in stats], counts


def base_exprs(name: str, dtype: str) -> list[tuple[str, str]]:
    """(key, SQL aggregate) pairs of the base statistics of one column."""
    q = quote(name)
    store = storage_kind(dtype)
    exprs = [("n", f"count({q})"), ("distinct", f"approx_count_distinct({q})")]
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
        exprs += [("spaces", f"count_if(contains({v}, ' '))"), ("min", f"min({v})"), ("max", f"max({v})"),
                  ("lmin", f"min(length({v}))"), ("lmean", f"avg(length({v}))"), ("lmax", f"max(length({v}))"),
                  ("numeric", f"count(TRY_CAST({v} AS DOUBLE))")]
    return exprs


def arrow_stats(con: duckdb.DuckDBPyConnection, values: pa.ChunkedArray, dtype: str) -> dict[str, Any]:
    """The base statistics of a tall column that cost DuckDB most, computed another way with the same result:
    numeric moments and exact quantiles by pyarrow (ten times faster than DuckDB's aggregates), every statistic
    of a text column with few distinct values from its value counts (`text_stats`). Empty below ARROW_ROWS rows,
    where DuckDB's one scan costs less than a call per column (wide data)."""
    if len(values) < ARROW_ROWS:
        return {}
    store = storage_kind(dtype)
    if store == "numeric":
        return numeric_moments(values)
    if store == "text" and dtype.upper() == "VARCHAR" and _few_distinct(values):
        return text_stats(con, value_counts(values))
    return {}


ARROW_ROWS = 100_000  # rows from which `arrow_stats` replaces DuckDB's aggregates
SAMPLE_ROWS = 65_536  # rows a text column's cardinality is judged on
FEW_DISTINCT = 0.05  # share of distinct values in that sample under which text is summarised by its value counts


def numeric_moments(values: pa.ChunkedArray) -> dict[str, Any]:
    """Mean, sample standard deviation, exact quartiles (linear interpolation, as DuckDB's quantile_cont),
    bias-corrected skewness and excess kurtosis (as DuckDB's) of a numeric column; {} for a type pyarrow
    cannot convert to float64."""
    try:  # pyarrow's kernels take integers and floats as they are (no float64 copy of the column)
        plain_type = pa.types.is_integer(values.type) or pa.types.is_float32(values.type) or pa.types.is_float64(
            values.type)
        x = values if plain_type else pc.cast(values, pa.float64(), safe=False)
        q = pc.quantile(x, q=[0.25, 0.5, 0.75], interpolation="linear").to_pylist() if x.null_count < len(x) else None
        return {"mean": pc.mean(x).as_py(), "std": pc.stddev(x, ddof=1, min_count=2).as_py(), "q": q,
                "skew": pc.skew(x, biased=False, min_count=3).as_py(),
                "kurt": pc.kurtosis(x, biased=False, min_count=4).as_py()}
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return {}


def _few_distinct(values: pa.ChunkedArray) -> bool:
    head = values.slice(0, SAMPLE_ROWS)
    return distinct_count(head) <= FEW_DISTINCT * max(len(head) - head.null_count, 1)


def text_stats(con: duckdb.DuckDBPyConnection, counts: pa.Table) -> dict[str, Any]:
    """Every base statistic of a text column (`base_exprs`) from its value counts (`value`, `count`), each
    distinct value weighted by its count: exact, and the distinct count too. The counts are kept (`counts`)
    for the top values."""
    con.register("value_counts", counts)
    try:
        row = con.execute(
            'SELECT coalesce(sum("count"), 0), count(*), coalesce(sum("count") FILTER (WHERE contains("value", \' \')), 0), '
            'min("value"), max("value"), min(length("value")), sum(length("value") * "count") / sum("count"), '
            'max(length("value")), coalesce(sum("count") FILTER (WHERE TRY_CAST("value" AS DOUBLE) IS NOT NULL), 0) '
            "FROM value_counts").fetchall()[0]
    finally:
        con.unregister("value_counts")
    keys = ("n", "distinct", "spaces", "min", "max", "lmin", "lmean", "lmax", "numeric")
    return {**dict(zip(keys, row, strict=True)), "counts": counts}


def _exact_distinct(table: pa.Table, stats: list[tuple[str, str, dict[str, Any]]]) -> dict[str, int]:
    """Exact distinct counts for likely identifiers: integers spanning exactly their count are unique
    (sequential ids, no hash table needed); other candidates are counted exactly."""
    out: dict[str, int] = {}
    for name, dtype, s in stats:
        non_null, approx = int(s["n"]), min(int(s["distinct"] or 0), int(s["n"]))
        if non_null <= 20 or approx < 0.9 * non_null or "counts" in s:  # value counts give the exact figure
            continue
        lo, hi = s.get("min"), s.get("max")
        if dtype.upper().startswith(INTEGER) and lo is not None and hi - lo + 1 == non_null:
            out[name] = non_null
        elif approx >= 0.97 * non_null:
            out[name] = distinct_count(table.column(name))
        else:
            out[name] = approx
    return out


def _column(name: str, dtype: str, s: dict[str, Any], rows: int, exact: int | None) -> ColumnProfile:
    non_null = int(s["n"])
    missing = rows - non_null
    distinct = exact if exact is not None else min(int(s["distinct"] or 0), non_null)
    store = storage_kind(dtype)
    kind = refine_text_kind(semantic_kind(store, dtype, distinct, non_null, name), store, non_null,
                            int(s.get("spaces") or 0))
    col = ColumnProfile(name=name, dtype=dtype, kind=kind, missing=missing,
                        missing_pct=round(100 * missing / rows, 2) if rows else 0.0, distinct=distinct,
                        min=plain(s.get("min")), max=plain(s.get("max")))
    _details(col, store, s, rows, non_null)
    return col


def _details(col: ColumnProfile, store: str, s: dict[str, Any], rows: int, non_null: int) -> None:
    if store == "numeric":
        q = s.get("q") or [None, None, None]
        col.mean, col.std = num(s["mean"]), num(s["std"])
        col.p25, col.median, col.p75 = (num(v) for v in q)
        col.skewness, col.kurtosis = num(s["skew"]), num(s["kurt"])
        col.zeros, col.negatives = int(s["zeros"] or 0), int(s["neg"] or 0)
        col.memory_bytes = 8 * rows
    elif store == "datetime":
        col.range_days = num(s.get("range"))
        col.memory_bytes = 8 * rows
    elif store == "boolean":
        col.true_count = int(s["true"] or 0)
        col.memory_bytes = rows // 8 + 1
    else:
        col.length_min, col.length_max = s["lmin"], s["lmax"]
        col.length_mean = round(num(s["lmean"]) or 0.0, 2) if s["lmean"] is not None else None
        col.numeric_share = round(int(s["numeric"] or 0) / non_null, 4) if non_null else None
        col.memory_bytes = int((num(s["lmean"]) or 0) * non_null) + 4 * rows


# ---------------------------------------------------------------- histograms

def histograms(con: duckdb.DuckDBPyConnection, table: pa.Table, cols: list[ColumnProfile]) -> None:
    """Equal-width histograms of every numeric column (numpy) and datetime column (one DuckDB scan)."""
    targets = [c for c in cols if c.kind in ("numeric", "datetime", "categorical")
               and storage_kind(c.dtype) in ("numeric", "datetime") and c.min is not None and c.min != c.max]
    if not targets:
        return
    ranges = _epoch_ranges(con, [c for c in targets if storage_kind(c.dtype) == "datetime"])
    specs, parts = [], []
    for col in targets:
        dated = storage_kind(col.dtype) == "datetime"
        lo, hi = ranges[col.name] if dated else (float(col.min), float(col.max))
        bins = _bin_count(col, lo, hi)
        width = (hi - lo) / bins
        if not dated:
            _set_bins(col, lo, width, histogram_counts(table.column(col.name), lo, width, bins))
            continue
        specs.append((col, lo, width, bins))
        parts.append(f"histogram(least(floor((epoch({quote(col.name)}) - {lo!r}) / {width!r}), {bins - 1})::INTEGER) "
                     f"FILTER (WHERE {quote(col.name)} IS NOT NULL)")
    if not parts:
        return
    row = con.execute(f"SELECT {', '.join(parts)} FROM data").fetchall()[0]
    for (col, lo, width, bins), counts in zip(specs, row, strict=True):
        found = {int(k): int(v) for k, v in (counts or {}).items() if k is not None}
        _set_bins(col, lo, width, [found.get(i, 0) for i in range(bins)])


def _set_bins(col: ColumnProfile, lo: float, width: float, counts: list[int]) -> None:
    col.histogram = [Bin(start=_edge(col, lo + i * width), end=_edge(col, lo + (i + 1) * width), count=n)
                     for i, n in enumerate(counts)]


def _epoch_ranges(con: duckdb.DuckDBPyConnection, cols: list[ColumnProfile]) -> dict[str, tuple[float, float]]:
    if not cols:
        return {}
    parts = ", ".join(f"min(epoch({quote(c.name)})), max(epoch({quote(c.name)}))" for c in cols)
    row = con.execute(f"SELECT {parts} FROM data").fetchall()[0]
    return {c.name: (row[2 * i], row[2 * i + 1]) for i, c in enumerate(cols)}


def _bin_count(col: ColumnProfile, lo: float, hi: float) -> int:
    if col.dtype.upper().startswith(INTEGER) and hi - lo + 1 <= HIST_BINS:
        return max(int(hi - lo) + 1, 1)
    return HIST_BINS


def _edge(col: ColumnProfile, value: float) -> Any:
    if storage_kind(col.dtype) == "datetime":
        return datetime.fromtimestamp(value, UTC).isoformat()
    return round(value, 6)


# ---------------------------------------------------------------- top values

def top_values(table: pa.Table, cols: list[ColumnProfile], counts: dict[str, pa.Table] | None = None) -> None:
    """The TOP_K commonest values: as text for low-cardinality columns, as stored for high-cardinality text
    (from the value counts `base` already made, where it made them)."""
    for col in cols:
        low = col.kind != "identifier" and 0 < col.distinct <= LOW_CARD_TOP and not (
            col.kind == "numeric" and col.distinct > CATEGORICAL_MAX)
        high = col.kind in ("text", "categorical") and col.distinct > LOW_CARD_TOP
        if low or high:
            found = common_values(table.column(col.name), TOP_K, as_text=low, counts=(counts or {}).get(col.name))
            col.top_values = [ValueCount(value=v if low else plain(v), count=n) for v, n in found]


# ---------------------------------------------------------------- dates

def date_gaps(con: duckdb.DuckDBPyConnection, table: pa.Table, cols: list[ColumnProfile]) -> None:
    """The largest gap, in days, between consecutive distinct dates of each datetime column (numpy over the
    sorted values; DuckDB for a type numpy does not read)."""
    for col in cols:
        if col.kind != "datetime" or col.distinct < 2:
            continue
        gap = largest_gap_seconds(table.column(col.name))
        if gap is None:
            q = quote(col.name)
            gap = con.execute(
                f"SELECT max(e - p) FROM (SELECT e, lag(e) OVER (ORDER BY e) AS p FROM "
                f"(SELECT DISTINCT epoch({q}) AS e FROM data WHERE {q} IS NOT NULL))").fetchall()[0][0]
        col.largest_gap_days = round(float(gap) / 86400, 4) if gap is not None else None
