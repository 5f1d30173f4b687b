"""Custom charts: any allow-listed plotly.express function, with every argument checked (never code)."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

import plotly.express as px
import plotly.graph_objects as go

from core.charts.reduce import sample
from core.charts.source import Source, column
from core.charts.spec import ChartSpec
from core.errors import InvalidInput

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


def custom(src: Source, spec: ChartSpec) -> go.Figure:
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
    frame = sample(src, used, spec.max_points)
    try:
        return fn(frame, **args)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"px.{fn_name} could not draw this: {exc}".split("\n")[0]) from exc
