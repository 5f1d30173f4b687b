"""Charts of amounts per category: bar charts and pie charts."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.charts.reduce import grouped, limit_categories
from core.charts.source import Source, column, group_columns
from core.charts.spec import ChartSpec, px_options
from core.errors import InvalidInput


def bar(src: Source, spec: ChartSpec) -> go.Figure:
    x = column(src, spec.x, "x")
    y = column(src, spec.y, "y", numeric=spec.agg != "count", required=False)
    agg = spec.agg or ("sum" if y else "count")
    groups = group_columns(src, spec)
    limit_categories(src, x, y, agg)
    frame = grouped(src, [x, *groups], y, agg, order="value DESC NULLS LAST")
    label = f"{agg} of {y}" if y else "count"
    frame = frame.rename(columns={"value": label})
    return px.bar(frame, x=x, y=label, log_x=spec.log_x, log_y=spec.log_y, **px_options(spec))


def pie(src: Source, spec: ChartSpec) -> go.Figure:
    names = column(src, spec.x, "names (x)")
    values = column(src, spec.y, "values (y)", numeric=True, required=False)
    agg = spec.agg or ("sum" if values else "count")
    if agg not in ("sum", "count"):
        raise InvalidInput(f"A pie chart shows parts of a whole; {agg!r} is not one.", hint="Use sum or count.")
    frame = grouped(src, [names], values, agg, order="value DESC NULLS LAST")
    if len(frame) > 20:
        src.notes.append(f"top 19 of {len(frame):,} {names} values, the rest as 'Other'")
        other = pd.DataFrame({names: ["Other"], "value": [frame["value"].iloc[19:].sum()]})
        frame = pd.concat([frame.iloc[:19].astype({names: "object"}), other], ignore_index=True)
    return px.pie(frame, names=names, values="value")
