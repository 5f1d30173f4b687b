"""Charts of a value along an ordered axis: line and area charts (aggregated, bucketed in DuckDB)."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go

from core.charts.reduce import series
from core.charts.source import Source
from core.charts.spec import ChartSpec, px_options


def line(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, label = series(src, spec, "mean")
    return px.line(frame, x=x, y=label, log_x=spec.log_x, log_y=spec.log_y, **px_options(spec))


def area(src: Source, spec: ChartSpec) -> go.Figure:
    frame, x, label = series(src, spec, "sum")
    return px.area(frame, x=x, y=label, log_x=spec.log_x, log_y=spec.log_y, **px_options(spec))
