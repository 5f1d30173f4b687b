"""Charts: Plotly figures built from a declarative spec, aggregated or sampled in DuckDB first.

`make_chart(kind, dataset_id, **spec)` validates the spec against the dataset's schema
(unknown columns get a "did you mean"), pushes the heavy work (binning, group-by,
correlation, sampling) into DuckDB over the Parquet file and hands Plotly only the small
result. A sampled chart says so in its subtitle. Charts are saved to the gallery
(`save_chart`), reopened (`open_chart`) and exported (`to_html`, `to_image`).
"""

from __future__ import annotations

import difflib
import inspect
import logging
import threading
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import select

from core import datasets, duck
from core.db import session
from core.errors import InvalidInput, NotFound, WorkbenchError
from core.models.explore import Visualization

log = logging.getLogger(__name__)

KINDS = ("histogram", "kde", "scatter", "bar", "line", "area", "heatmap", "box", "violin", "pie", "pair", "custom")
AGGREGATIONS = ("sum", "mean", "count", "min", "max", "median")
MAX_CATEGORIES = 50
MAX_FACETS = 24
PAIR_POINTS = 5_000
LINE_BUCKETS = 2_000
SEED = 42
TITLES = {"kde": "Density", "pair": "Pair plot", "box": "Box plot", "violin": "Violin plot", "bar": "Bar chart",
          "pie": "Pie chart"}


class ExportFailed(WorkbenchError):
    """A chart that could not be exported as an image."""


Agg = Literal["sum", "mean", "count", "min", "max", "median"]


class ChartSpec(BaseModel):
    """Everything a chart may be asked for; each kind uses the fields it needs."""

    model_config = ConfigDict(extra="forbid")

    x: str | None = None
    y: str | None = None
    z: str | None = None
    color: str | None = None
    facet: str | None = None
    facet_row: str | None = None
    columns: list[str] | None = None
    agg: Agg | None = None
    log_x: bool = False
    log_y: bool = False
    title: str | None = Field(None, max_length=300)
    nbins: int = Field(30, ge=2, le=500)
    trendline: Literal["ols", "lowess"] | None = None
    max_points: int = Field(20_000, ge=100, le=200_000)
    function: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Source:
    """A dataset opened in DuckDB as the view `data`, with its schema and row count."""

    con: duckdb.DuckDBPyConnection
    dataset_id: str
    name: str
    version: int
    rows: int
    dtypes: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- column checks


def is_numeric(dtype: str) -> bool:
    return dtype.startswith(("int", "uint", "float", "double", "decimal", "halffloat"))


def _is_temporal(dtype: str) -> bool:
    return dtype.startswith(("date", "timestamp", "time"))


def column(src: Source, name: str | None, role: str, *, numeric: bool = False, required: bool = True) -> str | None:
    """Check that `name` is a column of the dataset (and numeric when asked); raise InvalidInput if not."""
    if name is None or name == "":
        if required:
            raise InvalidInput(f"Choose a column for {role}.", hint=f"Columns: {', '.join(src.dtypes)}")
        return None
    if name not in src.dtypes:
        close = difflib.get_close_matches(name, list(src.dtypes), n=1, cutoff=0.5)
        hint = f"Did you mean {close[0]!r}?" if close else f"Columns: {', '.join(src.dtypes)}"
        raise InvalidInput(f"Unknown column {name!r} for {role} in dataset {src.name!r}.", hint=hint)
    if numeric and not is_numeric(src.dtypes[name]):
        numerics = [c for c, t in src.dtypes.items() if is_numeric(t)]
        raise InvalidInput(f"Column {name!r} ({src.dtypes[name]}) is not numeric; {role} needs numbers.",
                           hint=f"Numeric columns: {', '.join(numerics) or 'none'}")
    return name


def _color(src: Source, name: str | None) -> str | None:
    """The colour column, checked: a text colour may have at most MAX_CATEGORIES values (one trace each)."""
    if column(src, name, "color", required=False) is None:
        return None
    if not is_numeric(src.dtypes[name]):
        distinct = src.df(f"SELECT count(DISTINCT {q(name)}) AS n FROM data")["n"][0]
        if distinct > MAX_CATEGORIES:
            raise InvalidInput(f"The colour column {name!r} has {distinct:,} values; at most {MAX_CATEGORIES} can "
                               "be told apart.", hint="Colour by a column with fewer values, or facet instead.")
    return name


def _groups(src: Source, spec: ChartSpec) -> list[str]:
    """The colour and facet columns (checked; facets limited to MAX_FACETS values)."""
    out = []
    if _color(src, spec.color):
        out.append(spec.color)
    for role, name in (("facet", spec.facet), ("facet row", spec.facet_row)):
        if column(src, name, role, required=False) is None:
            continue
        distinct = src.df(f"SELECT count(DISTINCT {q(name)}) AS n FROM data")["n"][0]
        if distinct > MAX_FACETS:
            raise InvalidInput(f"The facet column {name!r} has {distinct} values; at most {MAX_FACETS} fit.",
                               hint="Facet by a column with fewer distinct values.")
        if name not in out:
            out.append(name)
    return out


def _px_options(spec: ChartSpec) -> dict[str, Any]:
    opts: dict[str, Any] = {"color": spec.color, "facet_col": spec.facet, "facet_row": spec.facet_row}
    if spec.facet and not spec.facet_row:
        opts["facet_col_wrap"] = 4
    return opts


# ---------------------------------------------------------------- DuckDB helpers


def _sample(src: Source, columns: list[str], limit: int) -> pd.DataFrame:
    """The given columns, a reservoir sample of `limit` rows when the dataset is larger (noted)."""
    cols = ", ".join(q(c) for c in dict.fromkeys(columns))
    if src.rows <= limit:
        return src.df(f"SELECT {cols} FROM data")
    src.notes.append(f"random sample of {limit:,} of {src.rows:,} rows")
    return src.df(f"SELECT {cols} FROM data USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE ({SEED})")


def _agg_expr(agg: str, y: str | None) -> str:
    if agg == "count" or y is None:
        return "count(*)" if y is None else f"count({q(y)})"
    return f"{agg}({q(y)})"


def _grouped(src: Source, keys: list[str], y: str | None, agg: str, *, order: str) -> pd.DataFrame:
    """GROUP BY keys with one aggregate called `value`."""
    keys_sql = ", ".join(q(k) for k in dict.fromkeys(keys))
    return src.df(f"SELECT {keys_sql}, {_agg_expr(agg, y)} AS value FROM data GROUP BY ALL ORDER BY {order}")


def _limit_categories(src: Source, x: str, y: str | None, agg: str) -> None:
    """Keep only the MAX_CATEGORIES largest values of x (by the aggregate) in the `data` view, and say so."""
    total = src.df(f"SELECT count(DISTINCT {q(x)}) AS n FROM data")["n"][0]
    if total <= MAX_CATEGORIES:
        return
    src.notes.append(f"top {MAX_CATEGORIES} of {total:,} {x} values")
    top = (f"SELECT {q(x)} FROM base GROUP BY 1 ORDER BY {_agg_expr(agg, y)} DESC NULLS LAST "
           f"LIMIT {MAX_CATEGORIES}")
    src.con.execute(f"CREATE OR REPLACE TEMP VIEW data AS SELECT * FROM base WHERE {q(x)} IN ({top})")


# ---------------------------------------------------------------- builders, one per kind


def _histogram(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x")
    groups = _groups(src, spec)
    dtype = src.dtypes[x]
    if not (is_numeric(dtype) or _is_temporal(dtype)):
        return _bar(src, spec.model_copy(update={"agg": "count", "y": None}))
    value = f"epoch({q(x)})" if _is_temporal(dtype) else f"{q(x)}::DOUBLE"
    lo, hi = src.con.execute(f"SELECT min({value}), max({value}) FROM data").fetchone()
    if lo is None:
        raise InvalidInput(f"Column {x!r} has no values to plot.")
    width = (hi - lo) / spec.nbins or 1.0
    keys = "".join(f", {q(g)}" for g in groups)
    frame = src.df(
        f"SELECT least(floor(({value} - ?) / ?), ? - 1) AS bin{keys}, count(*) AS count FROM data "
        f"WHERE {q(x)} IS NOT NULL GROUP BY ALL ORDER BY bin", [lo, width, spec.nbins])
    frame[x] = lo + (frame["bin"] + 0.5) * width
    if _is_temporal(dtype):
        frame[x] = pd.to_datetime(frame[x], unit="s")
    fig = px.bar(frame, x=x, y="count", log_x=spec.log_x, log_y=spec.log_y, **_px_options(spec))
    fig.update_layout(bargap=0.02)
    return fig


def _kde(src: Source, spec: ChartSpec) -> go.Figure:
    from scipy.stats import gaussian_kde

    x = column(src, spec.x, "x", numeric=True)
    color = _color(src, spec.color)
    frame = _sample(src, [x] + ([color] if color else []), spec.max_points).dropna(subset=[x])
    parts = frame.groupby(color, dropna=False, observed=True) if color else [(None, frame)]
    lines = []
    values = frame[x].astype(float)
    grid = np.linspace(values.min(), values.max(), 200) if len(values) else np.array([])
    for key, part in parts:
        series = part[x].astype(float).to_numpy()
        if len(series) < 2 or np.ptp(series) == 0:
            continue
        lines.append(pd.DataFrame({x: grid, "density": gaussian_kde(series)(grid), color or "_": key}))
    if not lines:
        raise InvalidInput(f"Column {x!r} needs at least two different values for a density estimate.")
    return px.line(pd.concat(lines), x=x, y="density", color=color, log_x=spec.log_x, log_y=spec.log_y)


def _scatter(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x", numeric=spec.trendline is not None)
    y = column(src, spec.y, "y", numeric=True)
    groups = _groups(src, spec)
    frame = _sample(src, [x, y, *groups], spec.max_points)
    return px.scatter(frame, x=x, y=y, trendline=spec.trendline, log_x=spec.log_x, log_y=spec.log_y,
                      render_mode="webgl", opacity=0.7 if len(frame) > 1000 else None, **_px_options(spec))


def _bar(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x")
    y = column(src, spec.y, "y", numeric=spec.agg != "count", required=False)
    agg = spec.agg or ("sum" if y else "count")
    groups = _groups(src, spec)
    _limit_categories(src, x, y, agg)
    frame = _grouped(src, [x, *groups], y, agg, order="value DESC NULLS LAST")
    label = f"{agg} of {y}" if y else "count"
    frame = frame.rename(columns={"value": label})
    return px.bar(frame, x=x, y=label, log_x=spec.log_x, log_y=spec.log_y, **_px_options(spec))


def _series(src: Source, spec: ChartSpec, default_agg: str) -> tuple[pd.DataFrame, str, str]:
    """y aggregated per x (and colour/facet) in DuckDB. A numeric or time x with more distinct values than
    LINE_BUCKETS is cut into LINE_BUCKETS equal buckets first; a text x with too many is sampled."""
    x = column(src, spec.x, "x")
    y = column(src, spec.y, "y", numeric=True)
    agg = spec.agg or default_agg
    groups = _groups(src, spec)
    extra = "".join(f", {q(g)}" for g in dict.fromkeys(groups) if g != x)
    distinct = src.con.execute(f"SELECT approx_count_distinct({q(x)}) FROM data").fetchone()[0]
    dtype = src.dtypes[x]
    if distinct > LINE_BUCKETS and (is_numeric(dtype) or _is_temporal(dtype)):
        value = f"epoch({q(x)})" if _is_temporal(dtype) else f"{q(x)}::DOUBLE"
        lo, hi = src.con.execute(f"SELECT min({value}), max({value}) FROM data").fetchone()
        width = (hi - lo) / LINE_BUCKETS or 1.0
        src.notes.append(f"{agg} per {LINE_BUCKETS:,} {x} buckets of ~{distinct:,} values")
        start = f"{lo!r} + _b * {width!r}"
        start = f"make_timestamp((({start}) * 1000000)::BIGINT)" if _is_temporal(dtype) else start
        bucketed = f"SELECT *, least(floor(({value} - {lo!r}) / {width!r}), {LINE_BUCKETS - 1}) AS _b FROM data"
        sql = f"SELECT {start} AS {q(x)}{extra}, {_agg_expr(agg, y)} AS value FROM ({bucketed}) GROUP BY _b{extra}"
    else:
        sql = f"SELECT {q(x)}{extra}, {_agg_expr(agg, y)} AS value FROM data GROUP BY ALL"
        if distinct > spec.max_points:
            src.notes.append(f"random sample of {spec.max_points:,} of ~{distinct:,} {x} values")
            sql = f"SELECT * FROM ({sql}) USING SAMPLE reservoir({spec.max_points} ROWS) REPEATABLE ({SEED})"
    label = f"{agg} of {y}"
    frame = src.df(f"SELECT * FROM ({sql}) ORDER BY {q(x)}").rename(columns={"value": label})
    return frame, x, label


def _line(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, label = _series(src, spec, "mean")
    return px.line(frame, x=x, y=label, log_x=spec.log_x, log_y=spec.log_y, **_px_options(spec))


def _area(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, label = _series(src, spec, "sum")
    return px.area(frame, x=x, y=label, log_x=spec.log_x, log_y=spec.log_y, **_px_options(spec))


def _heatmap(src: Source, spec: ChartSpec) -> go.Figure:
    if spec.x or spec.y or spec.z:
        return _pivot_heatmap(src, spec)
    numeric = [c for c, t in src.dtypes.items() if is_numeric(t)]
    cols = [column(src, c, "correlation", numeric=True) for c in (spec.columns or numeric[:20])]
    if len(cols) < 2:
        raise InvalidInput("A correlation heatmap needs at least two numeric columns.",
                           hint="Pick numeric columns, or give x, y (and z) for a pivot heatmap.")
    pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
    row = src.con.execute("SELECT " + ", ".join(f"corr({q(a)}, {q(b)})" for a, b in pairs) + " FROM data").fetchone()
    matrix = pd.DataFrame(np.eye(len(cols)), index=cols, columns=cols)
    for (a, b), value in zip(pairs, row, strict=True):
        matrix.loc[a, b] = matrix.loc[b, a] = np.nan if value is None else value
    return px.imshow(matrix, zmin=-1, zmax=1, color_continuous_scale="RdBu_r", text_auto=".2f", aspect="auto")


def _pivot_heatmap(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x")
    y = column(src, spec.y, "y")
    z = column(src, spec.z, "z", numeric=True, required=False)
    agg = spec.agg or ("mean" if z else "count")
    _limit_categories(src, x, z, agg)
    frame = _grouped(src, [x, y], z, agg, order=f"{q(x)}, {q(y)}")
    pivot = frame.pivot_table(index=y, columns=x, values="value", aggfunc="first", observed=True)
    label = f"{agg} of {z}" if z else "count"
    return px.imshow(pivot, aspect="auto", labels={"x": x, "y": y, "color": label})


def _distribution(src: Source, spec: ChartSpec) -> tuple[pd.DataFrame, str | None, str]:
    y = column(src, spec.y, "y", numeric=True)
    x = column(src, spec.x, "x", required=False)
    groups = _groups(src, spec)
    if x:
        _limit_categories(src, x, None, "count")
    return _sample(src, [c for c in (x, y, *groups) if c], spec.max_points), x, y


def _box(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, y = _distribution(src, spec)
    return px.box(frame, x=x, y=y, log_y=spec.log_y, **_px_options(spec))


def _violin(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, y = _distribution(src, spec)
    return px.violin(frame, x=x, y=y, box=True, log_y=spec.log_y, **_px_options(spec))


def _pie(src: Source, spec: ChartSpec) -> go.Figure:
    names = column(src, spec.x, "names (x)")
    values = column(src, spec.y, "values (y)", numeric=True, required=False)
    agg = spec.agg or ("sum" if values else "count")
    if agg not in ("sum", "count"):
        raise InvalidInput(f"A pie chart shows parts of a whole; {agg!r} is not one.", hint="Use sum or count.")
    frame = _grouped(src, [names], values, agg, order="value DESC NULLS LAST")
    if len(frame) > 20:
        src.notes.append(f"top 19 of {len(frame):,} {names} values, the rest as 'Other'")
        other = pd.DataFrame({names: ["Other"], "value": [frame["value"].iloc[19:].sum()]})
        frame = pd.concat([frame.iloc[:19].astype({names: "object"}), other], ignore_index=True)
    return px.pie(frame, names=names, values="value")


def _pair(src: Source, spec: ChartSpec) -> go.Figure:
    numeric = [c for c, t in src.dtypes.items() if is_numeric(t)]
    cols = [column(src, c, "pair plot", numeric=True) for c in (spec.columns or numeric[:4])]
    if not 2 <= len(cols) <= 8:
        raise InvalidInput(f"A pair plot needs 2 to 8 numeric columns, not {len(cols)}.")
    color = _color(src, spec.color)
    frame = _sample(src, cols + ([color] if color else []), min(spec.max_points, PAIR_POINTS))
    fig = px.scatter_matrix(frame, dimensions=cols, color=color)
    fig.update_traces(diagonal_visible=False, marker={"size": 3})
    return fig


# ---------------------------------------------------------------- custom: any allowed px function


PX_FUNCTIONS: dict[str, Callable[..., go.Figure]] = {
    "scatter": px.scatter, "line": px.line, "area": px.area, "bar": px.bar, "histogram": px.histogram,
    "box": px.box, "violin": px.violin, "strip": px.strip, "ecdf": px.ecdf, "pie": px.pie,
    "sunburst": px.sunburst, "treemap": px.treemap, "icicle": px.icicle, "funnel": px.funnel,
    "funnel_area": px.funnel_area, "density_heatmap": px.density_heatmap, "density_contour": px.density_contour,
    "scatter_matrix": px.scatter_matrix, "parallel_coordinates": px.parallel_coordinates,
    "parallel_categories": px.parallel_categories, "scatter_3d": px.scatter_3d, "line_3d": px.line_3d,
    "scatter_polar": px.scatter_polar, "line_polar": px.line_polar, "bar_polar": px.bar_polar,
    "timeline": px.timeline,
}
COLUMN_ARGS = frozenset({"x", "y", "z", "color", "symbol", "size", "facet_row", "facet_col", "hover_name", "text",
                         "names", "values", "parents", "ids", "line_group", "pattern_shape", "r", "theta",
                         "x_start", "x_end", "error_x", "error_y", "line_dash", "animation_frame",
                         "animation_group"})
COLUMN_LIST_ARGS = frozenset({"path", "dimensions", "hover_data", "custom_data"})
CHOICES: dict[str, tuple[Any, ...]] = {
    "orientation": ("v", "h"), "barmode": ("group", "overlay", "relative", "stack"),
    "histfunc": ("count", "sum", "avg", "min", "max"), "histnorm": ("percent", "probability", "density",
                                                                     "probability density"),
    "marginal": ("rug", "box", "violin", "histogram"), "trendline": ("ols", "lowess", "rolling", "expanding"),
    "points": ("all", "outliers", "suspectedoutliers", False), "boxmode": ("group", "overlay"),
    "violinmode": ("group", "overlay"), "line_shape": ("linear", "spline", "hv", "vh", "hvh", "vhv"),
    "ecdfnorm": ("probability", "percent"), "ecdfmode": ("standard", "complementary", "reversed"),
    "render_mode": ("auto", "svg", "webgl"), "groupnorm": ("fraction", "percent"),
}
TYPED_ARGS: dict[str, type | tuple[type, ...]] = {
    "title": str, "nbins": int, "nbinsx": int, "nbinsy": int, "facet_col_wrap": int, "height": int, "width": int,
    "log_x": bool, "log_y": bool, "log_z": bool, "markers": bool, "notched": bool, "box": bool, "text_auto": bool,
    "opacity": (int, float), "hole": (int, float), "template": str, "labels": dict, "range_x": list,
    "range_y": list, "cumulative": bool, "color_continuous_scale": str,
}


def _custom_arg(src: Source, fn_name: str, name: str, value: Any) -> Any:
    if name in COLUMN_ARGS:
        return column(src, value, f"{fn_name}({name}=)")
    if name in COLUMN_LIST_ARGS:
        if not isinstance(value, list) or not value:
            raise InvalidInput(f"Argument {name!r} takes a list of column names.")
        return [column(src, v, f"{fn_name}({name}=)") for v in value]
    if name in CHOICES:
        if value not in CHOICES[name]:
            raise InvalidInput(f"{name}={value!r} is not allowed.", hint=f"Choose one of {CHOICES[name]}.")
        return value
    wanted = TYPED_ARGS[name]
    if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
        raise InvalidInput(f"Argument {name!r} has the wrong type ({type(value).__name__}).")
    if isinstance(value, dict) and not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInput(f"Argument {name!r} maps names to labels (text to text).")
    if isinstance(value, list) and not all(isinstance(v, (int, float)) for v in value):
        raise InvalidInput(f"Argument {name!r} takes a list of numbers.")
    return value


def _custom(src: Source, spec: ChartSpec) -> go.Figure:
    fn_name = spec.function or ""
    fn = PX_FUNCTIONS.get(fn_name)
    if fn is None:
        close = difflib.get_close_matches(fn_name, list(PX_FUNCTIONS), n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Allowed: {', '.join(sorted(PX_FUNCTIONS))}"
        raise InvalidInput(f"Unknown or disallowed plotly.express function {fn_name!r}.", hint=hint)
    params = inspect.signature(fn).parameters
    args: dict[str, Any] = {}
    for name, value in spec.args.items():
        known = name in COLUMN_ARGS | COLUMN_LIST_ARGS | set(CHOICES) | set(TYPED_ARGS)
        if name not in params or not known:
            raise InvalidInput(f"px.{fn_name} does not take the argument {name!r} here.",
                               hint="Allowed: " + ", ".join(sorted(p for p in params if p in COLUMN_ARGS
                                                                   | COLUMN_LIST_ARGS | set(CHOICES)
                                                                   | set(TYPED_ARGS))))
        args[name] = _custom_arg(src, fn_name, name, value)
    used = [v for k, v in args.items() if k in COLUMN_ARGS] + [c for k in COLUMN_LIST_ARGS for c in args.get(k, [])]
    if not used:
        raise InvalidInput(f"px.{fn_name} needs at least one column argument (x, y, names, …).")
    frame = _sample(src, used, spec.max_points)
    try:
        return fn(frame, **args)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"px.{fn_name} could not draw this: {exc}".split("\n")[0]) from exc


BUILDERS: dict[str, Callable[[Source, ChartSpec], go.Figure]] = {
    "histogram": _histogram, "kde": _kde, "scatter": _scatter, "bar": _bar, "line": _line, "area": _area,
    "heatmap": _heatmap, "box": _box, "violin": _violin, "pie": _pie, "pair": _pair, "custom": _custom,
}


# ---------------------------------------------------------------- public API


def parse_spec(kind: str, spec: dict[str, Any]) -> ChartSpec:
    """Check the chart kind and the spec's option names and types; raise InvalidInput with what is wrong."""
    if kind not in BUILDERS:
        close = difflib.get_close_matches(str(kind), KINDS, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Kinds: {', '.join(KINDS)}"
        raise InvalidInput(f"Unknown chart kind {kind!r}.", hint=hint)
    if "facet_col" in spec and "facet" not in spec:
        spec = {**spec, "facet": spec.pop("facet_col")}
    try:
        return ChartSpec(**spec)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"The {kind} chart options are not valid: {problems}.",
                           hint=f"Options: {', '.join(ChartSpec.model_fields)}") from exc


def _title(kind: str, spec: ChartSpec, src: Source) -> str:
    given = spec.title or spec.args.get("title")
    if given:
        return str(given)
    if kind == "custom":
        return f"{spec.function} of {src.name}"
    if kind in ("scatter", "line", "area") and spec.x and spec.y:
        return f"{spec.y} vs {spec.x}"
    if kind == "heatmap" and not (spec.x or spec.y):
        return "Correlation matrix"
    subject = " by ".join(p for p in (spec.y or spec.z, spec.x) if p) or ", ".join(spec.columns or []) or src.name
    return f"{TITLES.get(kind, kind.capitalize())} of {subject}"


def make_chart(kind: str, dataset_id: uuid.UUID | str, **spec: Any) -> go.Figure:
    """Build a Plotly figure of a dataset; large data is aggregated or sampled in DuckDB first.

    `kind`: one of KINDS. `spec`: x, y, z, color, facet, facet_row, columns, agg, log_x, log_y,
    title, nbins, trendline, max_points; for kind 'custom': function (a plotly.express name)
    and args. Raises InvalidInput (unknown kind, option or column, non-numeric axis), NotFound.
    """
    parsed = parse_spec(kind, dict(spec))
    ds = datasets.get_dataset(dataset_id)
    with duck.connect() as con:
        con.read_parquet(str(datasets.dataset_path(ds.id))).create_view("base")
        con.execute("CREATE TEMP VIEW data AS SELECT * FROM base")
        src = Source(con=con, dataset_id=str(ds.id), name=ds.name, version=ds.version, rows=ds.rows,
                     dtypes={c["name"]: c["dtype"] for c in ds.schema_})
        fig = BUILDERS[kind](src, parsed)
    _finish(fig, kind, parsed, src)
    return fig


def _finish(fig: go.Figure, kind: str, spec: ChartSpec, src: Source) -> None:
    note = "; ".join(src.notes)
    subtitle = f"{src.name} · {note}" if note else src.name
    fig.update_layout(
        title={"text": _title(kind, spec, src), "subtitle": {"text": subtitle}},
        margin={"t": 90},
        meta={"workbench": {"kind": kind, "dataset_id": src.dataset_id, "dataset_name": src.name,
                            "dataset_version": src.version, "sampled": bool(src.notes), "notes": src.notes,
                            "spec": spec.model_dump(exclude_defaults=True)}},
    )


def chart_info(fig: go.Figure) -> dict[str, Any]:
    """What `make_chart` recorded about a figure: kind, dataset, version, spec, sampling notes."""
    meta = fig.layout.meta
    info = meta.get("workbench") if isinstance(meta, dict) else None
    if not info:
        raise InvalidInput("This figure was not made by make_chart, so it cannot be saved to the gallery.")
    return dict(info)


# ---------------------------------------------------------------- gallery


def save_chart(fig: go.Figure, *, name: str | None = None) -> Visualization:
    """Save a figure made by `make_chart` to the gallery (its spec, its JSON, the dataset version)."""
    info = chart_info(fig)
    row = Visualization(
        name=(name or fig.layout.title.text or info["kind"])[:300], kind=info["kind"],
        dataset_id=uuid.UUID(info["dataset_id"]), dataset_name=info["dataset_name"],
        dataset_version=info["dataset_version"], spec=info["spec"], figure=fig.to_json(),
    )
    with session() as s:
        s.add(row)
    return row


def list_charts(*, dataset_id: uuid.UUID | str | None = None, limit: int = 100) -> list[Visualization]:
    """Gallery charts, newest first (optionally of one dataset)."""
    stmt = select(Visualization).order_by(Visualization.created.desc()).limit(limit)
    if dataset_id is not None:
        stmt = stmt.where(Visualization.dataset_id == uuid.UUID(str(dataset_id)))
    with session() as s:
        return list(s.exec(stmt).all())


def get_chart(chart_id: uuid.UUID | str) -> Visualization:
    """A gallery chart by id; raises NotFound."""
    try:
        key = uuid.UUID(str(chart_id))
    except ValueError as exc:
        raise NotFound(f"No chart {chart_id!r}.") from exc
    with session() as s:
        row = s.get(Visualization, key)
    if row is None:
        raise NotFound(f"No chart {chart_id!r}.", hint="It may have been deleted; the gallery lists the others.")
    return row


def open_chart(chart_id: uuid.UUID | str) -> go.Figure:
    """The saved figure of a gallery chart, exactly as it was saved."""
    return pio.from_json(get_chart(chart_id).figure)


def rebuild_chart(chart_id: uuid.UUID | str) -> go.Figure:
    """Build a gallery chart again from its spec over the dataset's current version."""
    row = get_chart(chart_id)
    return make_chart(row.kind, row.dataset_id, **row.spec)


def delete_chart(chart_id: uuid.UUID | str) -> None:
    row = get_chart(chart_id)
    with session() as s:
        s.delete(s.get(Visualization, row.id))


def _figure(fig_or_id: go.Figure | uuid.UUID | str) -> go.Figure:
    return fig_or_id if isinstance(fig_or_id, go.Figure) else open_chart(fig_or_id)


def to_html(fig_or_id: go.Figure | uuid.UUID | str) -> str:
    """A self-contained HTML page of the chart (plotly.js inlined, so it opens offline)."""
    return _figure(fig_or_id).to_html(include_plotlyjs=True, full_html=True)


_kaleido_lock = threading.Lock()
_kaleido_started = threading.Event()


def _start_kaleido() -> None:
    """Keep one headless Chromium for exports in this process (the first export pays its start-up)."""
    if _kaleido_started.is_set():
        return
    import kaleido

    with _kaleido_lock:
        if not _kaleido_started.is_set():
            kaleido.start_sync_server(silence_warnings=True)
            _kaleido_started.set()


def to_image(fig_or_id: go.Figure | uuid.UUID | str, *, fmt: Literal["png", "svg"] = "png", scale: float = 2.0
             ) -> bytes:
    """The chart as PNG or SVG, rendered by kaleido with the local Chromium; raises ExportFailed."""
    if fmt not in ("png", "svg"):
        raise InvalidInput(f"Images can be PNG or SVG, not {fmt!r}.")
    fig = _figure(fig_or_id)
    try:
        _start_kaleido()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "kopts ignored when using a server"
            return pio.to_image(fig, format=fmt, scale=scale if fmt == "png" else 1)
    except Exception as exc:  # kaleido raises many types (no Chromium, timeouts)
        log.warning("image export failed: %s", exc)
        raise ExportFailed(f"The chart could not be exported as {fmt.upper()}: {exc}".split("\n")[0],
                           hint="Download it as HTML instead (it opens offline in any browser).") from exc
