"""Charts of one variable's distribution: histogram, density (KDE), box and violin plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.charts.category import bar
from core.charts.reduce import limit_categories, sample
from core.charts.source import Source, color_column, column, group_columns, is_numeric, is_temporal, q
from core.charts.spec import ChartSpec, px_options
from core.errors import InvalidInput


def histogram(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x")
    groups = group_columns(src, spec)
    dtype = src.dtypes[x]
    if not (is_numeric(dtype) or is_temporal(dtype)):
        return bar(src, spec.model_copy(update={"agg": "count", "y": None}))
    value = f"epoch({q(x)})" if is_temporal(dtype) else f"{q(x)}::DOUBLE"
    lo, hi = src.con.execute(f"SELECT min({value}), max({value}) FROM data").fetchone()
    if lo is None:
        raise InvalidInput(f"Column {x!r} has no values to plot.")
    width = (hi - lo) / spec.nbins or 1.0
    keys = "".join(f", {q(g)}" for g in groups)
    frame = src.df(
        f"SELECT least(floor(({value} - ?) / ?), ? - 1) AS bin{keys}, count(*) AS count FROM data "
        f"WHERE {q(x)} IS NOT NULL GROUP BY ALL ORDER BY bin", [lo, width, spec.nbins])
    frame[x] = lo + (frame["bin"] + 0.5) * width
    if is_temporal(dtype):
        frame[x] = pd.to_datetime(frame[x], unit="s")
    fig = px.bar(frame, x=x, y="count", log_x=spec.log_x, log_y=spec.log_y, **px_options(spec))
    fig.update_layout(bargap=0.02)
    return fig


def kde(src: Source, spec: ChartSpec) -> go.Figure:
    from scipy.stats import gaussian_kde

    x = column(src, spec.x, "x", numeric=True)
    color = color_column(src, spec.color)
    frame = sample(src, [x] + ([color] if color else []), spec.max_points).dropna(subset=[x])
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


def _distribution(src: Source, spec: ChartSpec) -> tuple[pd.DataFrame, str | None, str]:
    y = column(src, spec.y, "y", numeric=True)
    x = column(src, spec.x, "x", required=False)
    groups = group_columns(src, spec)
    if x:
        limit_categories(src, x, None, "count")
    return sample(src, [c for c in (x, y, *groups) if c], spec.max_points), x, y


def box(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, y = _distribution(src, spec)
    return px.box(frame, x=x, y=y, log_y=spec.log_y, **px_options(spec))


def violin(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, y = _distribution(src, spec)
    return px.violin(frame, x=x, y=y, box=True, log_y=spec.log_y, **px_options(spec))
