"""The chart tool: a Plotly chart of a dataset through `core.charts`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from agents import resolve
from agents.tools.registry import DatasetArg, ToolResult

CHART_KINDS = ("histogram", "kde", "scatter", "bar", "line", "area", "heatmap", "box", "violin", "pie", "pair")


class ChartArgs(DatasetArg):
    kind: Literal[CHART_KINDS] = Field(description="Chart type.")  # type: ignore[valid-type]
    x: str | None = Field(None, description="Column on the x axis (or the column of a histogram/pie).")
    y: str | None = Field(None, description="Column on the y axis.")
    color: str | None = Field(None, description="Column that colours the marks.")
    agg: Literal["count", "sum", "mean", "median", "min", "max"] | None = Field(
        None, description="Aggregation of y per x (bar, line).")


def create_visualization(args: ChartArgs) -> ToolResult:
    from core import charts

    ds = resolve.dataset(args.dataset)
    spec = {k: resolve.column(ds, v) for k, v in (("x", args.x), ("y", args.y), ("color", args.color)) if v}
    if args.agg:
        spec["agg"] = args.agg
    fig = charts.make_chart(args.kind, str(ds.id), **spec)
    axes = " vs ".join(v for k, v in spec.items() if k in ("y", "x"))
    return ToolResult(f"Made a {args.kind} chart of {axes or ds.name} from {ds.name}.", figure=fig)

