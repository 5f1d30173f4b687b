"""The heavy work done in DuckDB before Plotly sees the data: sampling, GROUP BY, top categories, buckets."""

from __future__ import annotations

import pandas as pd

from core.charts.source import Source, column, group_columns, is_numeric, is_temporal, q
from core.charts.spec import LINE_BUCKETS, MAX_CATEGORIES, SEED, ChartSpec


def sample(src: Source, columns: list[str], limit: int) -> pd.DataFrame:
    """The given columns, a reservoir sample of `limit` rows when the dataset is larger (noted)."""
    cols = ", ".join(q(c) for c in dict.fromkeys(columns))
    if src.rows <= limit:
        return src.df(f"SELECT {cols} FROM data")
    src.notes.append(f"random sample of {limit:,} of {src.rows:,} rows")
    return src.df(f"SELECT {cols} FROM data USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE ({SEED})")


def agg_expr(agg: str, y: str | None) -> str:
    if agg == "count" or y is None:
        return "count(*)" if y is None else f"count({q(y)})"
    return f"{agg}({q(y)})"


def grouped(src: Source, keys: list[str], y: str | None, agg: str, *, order: str) -> pd.DataFrame:
    """GROUP BY keys with one aggregate called `value`."""
    keys_sql = ", ".join(q(k) for k in dict.fromkeys(keys))
    return src.df(f"SELECT {keys_sql}, {agg_expr(agg, y)} AS value FROM data GROUP BY ALL ORDER BY {order}")


def limit_categories(src: Source, x: str, y: str | None, agg: str) -> None:
    """Keep only the MAX_CATEGORIES largest values of x (by the aggregate) in the `data` view, and say so."""
    total = src.df(f"SELECT count(DISTINCT {q(x)}) AS n FROM data")["n"][0]
    if total <= MAX_CATEGORIES:
        return
    src.notes.append(f"top {MAX_CATEGORIES} of {total:,} {x} values")
    top = (f"SELECT {q(x)} FROM base GROUP BY 1 ORDER BY {agg_expr(agg, y)} DESC NULLS LAST "
           f"LIMIT {MAX_CATEGORIES}")
    src.con.execute(f"CREATE OR REPLACE TEMP VIEW data AS SELECT * FROM base WHERE {q(x)} IN ({top})")


def series(src: Source, spec: ChartSpec, default_agg: str) -> tuple[pd.DataFrame, str, str]:
    """y aggregated per x (and colour/facet) in DuckDB. A numeric or time x with more distinct values than
    LINE_BUCKETS is cut into LINE_BUCKETS equal buckets first; a text x with too many is sampled."""
    x = column(src, spec.x, "x")
    y = column(src, spec.y, "y", numeric=True)
    agg = spec.agg or default_agg
    groups = group_columns(src, spec)
    extra = "".join(f", {q(g)}" for g in dict.fromkeys(groups) if g != x)
    distinct = src.con.execute(f"SELECT approx_count_distinct({q(x)}) FROM data").fetchone()[0]
    dtype = src.dtypes[x]
    if distinct > LINE_BUCKETS and (is_numeric(dtype) or is_temporal(dtype)):
        value = f"epoch({q(x)})" if is_temporal(dtype) else f"{q(x)}::DOUBLE"
        lo, hi = src.con.execute(f"SELECT min({value}), max({value}) FROM data").fetchone()
        width = (hi - lo) / LINE_BUCKETS or 1.0
        src.notes.append(f"{agg} per {LINE_BUCKETS:,} {x} buckets of ~{distinct:,} values")
        start = f"{lo!r} + _b * {width!r}"
        start = f"make_timestamp((({start}) * 1000000)::BIGINT)" if is_temporal(dtype) else start
        bucketed = f"SELECT *, least(floor(({value} - {lo!r}) / {width!r}), {LINE_BUCKETS - 1}) AS _b FROM data"
        sql = f"SELECT {start} AS {q(x)}{extra}, {agg_expr(agg, y)} AS value FROM ({bucketed}) GROUP BY _b{extra}"
    else:
        sql = f"SELECT {q(x)}{extra}, {agg_expr(agg, y)} AS value FROM data GROUP BY ALL"
        if distinct > spec.max_points:
            src.notes.append(f"random sample of {spec.max_points:,} of ~{distinct:,} {x} values")
            sql = f"SELECT * FROM ({sql}) USING SAMPLE reservoir({spec.max_points} ROWS) REPEATABLE ({SEED})"
    label = f"{agg} of {y}"
    frame = src.df(f"SELECT * FROM ({sql}) ORDER BY {q(x)}").rename(columns={"value": label})
    return frame, x, label
