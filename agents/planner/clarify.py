"""When the planner is not sure: say what it understood and ask, naming a column that no dataset has.

A rule that recognises a request (a histogram, a t-test, an average) but cannot fill its columns calls
`missing_column`; the dispatcher then stops, so no later rule answers a different question.
"""

from __future__ import annotations

import re

from agents.planner.parse import STOP, VOCABULARY, Ctx, _mentions
from agents.reply import ToolCall
from agents.resolve import norm

UNKNOWN_AFTER = r"\b(?:of|for|on|in|between|vs|versus|against|about)\s+(?:the\s+)?(?P<phrase>[\w' ]+?)" \
                r"(?=\s+(?:and|by|per|in|vs|versus|against|across|from|with|for|on)\b|\s*[?.!,]|$)"


def unknown_phrase(ctx: Ctx) -> str | None:
    """A phrase that reads like a column name ("histogram of mean radius") but names no column of the dataset."""
    for hit in re.finditer(UNKNOWN_AFTER, ctx.wording):
        words = [w for w in hit.group("phrase").split() if w not in VOCABULARY and w not in STOP
                 and w not in FILLER and "\x00" not in w]
        if words and "\x00" not in hit.group("phrase"):
            return " ".join(words)
    return None


FILLER = {"a", "an", "it", "this", "that", "these", "those", "them", "all", "my", "our", "your", "me", "us",
          "dataset", "data", "table", "columns", "column", "chart", "plot", "graph", "histogram", "each", "every"}


def where_column(ctx: Ctx, phrase: str) -> str:
    """Which dataset has a column like `phrase`, said as a sentence (or that none has)."""
    for other in ctx.schemas:
        if other is not ctx.ds and _mentions(norm(phrase), other, None):
            return f"{other.name} has a column like it: ask again naming {other.name}, or select it."
    return "No dataset has a column by that name."


def missing_column(ctx: Ctx, understood: str) -> None:
    """Ask for the column(s) a recognised request needs, naming an unknown one if the message has it."""
    name = ctx.ds.name if ctx.ds else "the dataset"
    cols = ", ".join(ctx.ds.columns[:15]) + (", ..." if ctx.ds and len(ctx.ds.columns) > 15 else "") if ctx.ds else ""
    named = f" of {', '.join(ctx.cols)}" if ctx.cols else ""
    phrase = unknown_phrase(ctx)
    found = f" There is no column {phrase!r} in {name}. {where_column(ctx, phrase)}" if phrase else ""
    which = "which other column" if ctx.cols else "which column(s)"
    ctx.clarify(f"I understood: {understood}{named} in **{name}**, but not {which} to use.{found} "
                f"Which column do you mean? Columns of {name}: {cols}.")


def describe_call(call: ToolCall) -> str:
    """A tool call in an analyst's words, for a button ("mann-whitney of bill_amount by insurance")."""
    a = call.arguments
    if call.name == "hypothesis_test":
        cols = f"{a['value']} by {a['group']}" if a.get("value") and a.get("group") else \
            " and ".join(str(a[k]) for k in ("x", "y", "value") if a.get(k))
        levels = f" ({' vs '.join(map(str, a['levels']))})" if a.get("levels") else ""
        return f"{a.get('test')} test of {cols}{levels}"
    if call.name == "create_visualization":
        axes = " by ".join(str(a[k]) for k in ("y", "x") if a.get(k))
        return f"{a.get('kind')} chart of {axes}".strip()
    if call.name == "eda_analysis":
        cols = f" of {', '.join(a['columns'])}" if a.get("columns") else ""
        return f"{str(a.get('analysis')).replace('_', ' ')}{cols}"
    if call.name == "sql_query":
        return f"query: {a.get('sql', '')[:120]}"
    if call.name == "clean_dataset":
        return f"{a.get('op')} {a.get('column') or ''} {a.get('method') or ''}".strip()
    shown = ", ".join(f"{k}={v}" for k, v in a.items() if k != "dataset")
    return f"{call.name.replace('_', ' ')}" + (f" ({shown})" if shown else "")
