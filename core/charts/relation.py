"""Charts of how variables relate: scatter, correlation and pivot heatmaps, pair plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.charts.reduce import grouped, limit_categories, sample
from core.charts.source import Source, color_column, column, group_columns, is_numeric, q
from core.charts.spec import PAIR_POINTS, ChartSpec, px_options
from core.errors import InvalidInput


def scatter(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x", numeric=spec.trendline is not None)
    y = column(src, spec.y, "y", numeric=True)
    groups = group_columns(src, spec)
    frame = sample(src, [x, y, *groups], spec.max_points)
    return px.scatter(frame, x=x, y=y, trendline=spec.trendline, log_x=spec.log_x, log_y=spec.log_y,
                      render_mode="webgl", opacity=0.7 if len(frame) > 1000 else None, **px_options(spec))


def heatmap(src: Source, spec: ChartSpec) -> go.Figure:
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
    limit_categories(src, x, z, agg)
    frame = grouped(src, [x, y], z, agg, order=f"{q(x)}, {q(y)}")
    pivot = frame.pivot_table(index=y, columns=x, values="value", aggfunc="first", observed=True)
    label = f"{agg} of {z}" if z else "count"
    return px.imshow(pivot, aspect="auto", labels={"x": x, "y": y, "color": label})


def pair(src: Source, spec: ChartSpec) -> go.Figure:
    numeric = [c for c, t in src.dtypes.items() if is_numeric(t)]
    cols = [column(src, c, "pair plot", numeric=True) for c in (spec.columns or numeric[:4])]
    if not 2 <= len(cols) <= 8:
        raise InvalidInput(f"A pair plot needs 2 to 8 numeric columns, not {len(cols)}.")
    color = color_column(src, spec.color)
    frame = sample(src, cols + ([color] if color else []), min(spec.max_points, PAIR_POINTS))
    fig = px.scatter_matrix(frame, dimensions=cols, color=color)
    fig.update_traces(diagonal_visible=False, marker={"size": 3})
    return fig
