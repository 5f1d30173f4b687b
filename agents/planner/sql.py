"""Intent: SQL. A pasted SELECT runs as it is; aggregates ("average price by city", "how many rows") become
one read-only query."""

from __future__ import annotations

import re

from agents.planner.clarify import missing_column, unknown_phrase
from agents.planner.parse import GROUP_SEP, Ctx, _agg
from agents.reply import ToolCall
from core.duck import quote


def rule_sql(ctx: Ctx) -> list[ToolCall] | None:
    text = re.sub(r"```(sql)?", " ", ctx.text, flags=re.IGNORECASE).strip()
    hit = re.search(r"(?i)\b(select|with)\b\s", text)  # then one scan for FROM: linear, unlike \s.+\bfrom\b.+
    if not hit or not re.compile(r"(?is)\bfrom\b.").search(text, hit.end() + 1):
        return None
    if hit.start() > 0 and not re.search(r"(?i)\b(sql|query|run|execute)\b", text[: hit.start()]):
        return None
    return ctx.call("sql_query", sql=text[hit.start():].strip().rstrip(";").strip())


def rule_aggregate(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    table = quote(ctx.ds.name)
    if ctx.has(r"\bhow many (rows|records|lines|entries|observations)\b|\b(row|record) count\b|"
               r"\bnumber of (rows|records|observations)\b") and not ctx.has(GROUP_SEP):
        return ctx.call("sql_query", sql=f"SELECT COUNT(*) AS row_count FROM {table}")
    if ctx.has(r"\bquartiles?\b|\bstatistic|\bstats\b|\bstd\b|\bstandard deviation|\bvariance\b|\bdescribe"):
        return None
    agg = _agg(ctx)
    top = re.search(r"\btop (\d+)\b", ctx.low)
    if agg is None and not top:
        return None
    parts = ctx.split(GROUP_SEP)
    group = parts[1][0] if parts and parts[1] else None
    value = next((c for c in (parts[0] if parts else ctx.cols) if c != group), None)
    kinds = ctx.ds.kinds
    if group and value and kinds.get(group) == "numeric" and kinds.get(value) == "categorical":
        group, value = value, group  # "top 3 cities by average price"
    if agg == "count" or (agg is None and value is None):
        if ctx.has(r"\b(distinct|unique|different)\b") and value and not group:
            return ctx.call("sql_query", sql=f"SELECT COUNT(DISTINCT {quote(value)}) AS {quote('distinct_' + value)} FROM {table}")
        key = group or value
        if key is None:
            return None
        return ctx.call("sql_query", sql=f"SELECT {quote(key)}, COUNT(*) AS count FROM {table} GROUP BY 1 "
                                         f"ORDER BY count DESC" + (f" LIMIT {top.group(1)}" if top else ""))
    if value is None and unknown_phrase(ctx):
        missing_column(ctx, f"the {agg or 'total'} of a column")
        return None
    if value is None or ctx.ds.kinds.get(value) != "numeric":
        return None
    fn = {"mean": "AVG", "avg": "AVG"}.get(agg or "sum", (agg or "sum").upper())
    alias = f"{(agg or 'sum')}_{value}"
    if group is None:
        return ctx.call("sql_query", sql=f"SELECT {fn}({quote(value)}) AS {quote(alias)} FROM {table}")
    limit = f" LIMIT {top.group(1)}" if top else ""
    return ctx.call("sql_query", sql=f"SELECT {quote(group)}, {fn}({quote(value)}) AS {quote(alias)} FROM {table} "
                                     f"GROUP BY 1 ORDER BY 2 DESC{limit}")
