"""Intent: charts. The chart kind from the wording, its axes from the columns named and their types."""

from __future__ import annotations

from agents.planner.clarify import missing_column
from agents.planner.parse import GROUP_SEP, Ctx, _agg, _pair, _value_group
from agents.reply import ToolCall


def _chart(ctx: Ctx, kind: str) -> list[ToolCall] | None:
    value, group = _value_group(ctx)
    if kind in ("histogram", "kde"):
        x = (ctx.of_kind("numeric") or ctx.cols or [None])[0]
        return ctx.call("create_visualization", kind=kind, x=x) if x else None
    if kind in ("box", "violin"):
        y = (ctx.of_kind("numeric") or [None])[0]
        x = next((c for c in ctx.cols if c != y), None)
        return ctx.call("create_visualization", kind=kind, y=y, x=x) if y else None
    if kind == "pie":
        x = (ctx.of_kind("categorical") or ctx.cols or [None])[0]
        return ctx.call("create_visualization", kind="pie", x=x, agg="count") if x else None
    if kind in ("bar", "line", "area"):
        if group is None and value is not None:
            only = value
            if kind == "bar" or ctx.ds.kinds.get(only) == "categorical":
                return ctx.call("create_visualization", kind=kind, x=only, agg="count")
            return None
        if value is None:
            return None
        parts = ctx.split(r"\b(over|by|per|across|vs|versus|against)\b")
        x, y = (group, value) if parts and parts[1] else (value, group)
        return ctx.call("create_visualization", kind=kind, x=x, y=y, agg=_agg(ctx) or ("mean" if kind == "bar"
                                                                                      else None))
    if kind == "pair":
        return ctx.call("create_visualization", kind="pair")
    x, y = _pair(ctx)
    if x and y:
        color = ctx.cols[2] if len(ctx.cols) > 2 and ctx.has(r"\b(colou?r(ed)?|by|per|hue)\b") else None
        return ctx.call("create_visualization", kind=kind, x=x, y=y, color=color)
    return None


CHARTS = (
    (r"\bpair ?plot|scatter ?matrix|pairwise", "pair"),
    (r"\bhistogram|\bhist\b", "histogram"),
    (r"\bdensity|\bkde\b", "kde"),
    (r"\bbox[\s\-]?(plot|chart|and whisker)s?|\bboxplot|\bwhisker", "box"),
    (r"\bviolin", "violin"),
    (r"\bpie\b|\bdonut\b", "pie"),
    (r"\bbar[\s\-]?(chart|plot|graph)?s?\b|\bcolumn chart", "bar"),
    (r"\bline[\s\-]?(chart|plot|graph)|\bover time\b|\btrend\b", "line"),
    (r"\barea[\s\-](chart|plot|graph)", "area"),
    (r"\bscatter", "scatter"),
)


def rule_charts(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    for pattern, kind in CHARTS:
        if ctx.has(pattern):
            calls = _chart(ctx, kind)
            if not calls:
                missing_column(ctx, f"a {kind} chart")
            return calls
    if not ctx.has(r"\b(plot|chart|graph|visuali[sz]e|visuali[sz]ation|draw|show me|display)\b|\bvs\b|versus"
                   r"|\bagainst\b"):
        return None
    if ctx.has(r"\bdistribution\b") and ctx.cols:
        return _chart(ctx, "histogram")
    if len(ctx.cols) >= 2:
        if ctx.has(GROUP_SEP) and ctx.of_kind("categorical") and not ctx.has(r"\bvs\b|versus|against"):
            return _chart(ctx, "bar")
        return _chart(ctx, "scatter")
    if len(ctx.cols) == 1 and ctx.has(r"\b(plot|chart|graph|visuali[sz]e|draw)\b"):
        return _chart(ctx, "histogram" if ctx.of_kind("numeric") else "bar")
    return None
