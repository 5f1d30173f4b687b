"""What a chart may be asked for: the kinds, the limits, and `ChartSpec`, checked by `parse_spec`."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidInput

KINDS = ("histogram", "kde", "scatter", "bar", "line", "area", "heatmap", "box", "violin", "pie", "pair", "custom")
AGGREGATIONS = ("sum", "mean", "count", "min", "max", "median")
MAX_CATEGORIES = 50
MAX_FACETS = 24
PAIR_POINTS = 5_000
LINE_BUCKETS = 2_000
SEED = 42
TITLES = {"kde": "Density", "pair": "Pair plot", "box": "Box plot", "violin": "Violin plot", "bar": "Bar chart",
          "pie": "Pie chart"}

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


def parse_spec(kind: str, spec: dict[str, Any]) -> ChartSpec:
    """Check the chart kind and the spec's option names and types; raise InvalidInput with what is wrong."""
    if kind not in KINDS:
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


def px_options(spec: ChartSpec) -> dict[str, Any]:
    """The colour and facet arguments every plotly.express builder takes."""
    opts: dict[str, Any] = {"color": spec.color, "facet_col": spec.facet, "facet_row": spec.facet_row}
    if spec.facet and not spec.facet_row:
        opts["facet_col_wrap"] = 4
    return opts
