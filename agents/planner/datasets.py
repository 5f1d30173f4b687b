"""Intent: the datasets themselves. Which there are, and one dataset's columns and size."""

from __future__ import annotations

from agents.planner.parse import Ctx
from agents.reply import ToolCall


def rule_list_datasets(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.has(r"(?m)^(?>.*?\b(which|what|list|show|available|my|all)\b).*\bdatasets\b|^(?>.*?\bdatasets\b).*\b(do i have|available)\b"):
        return ctx.call("list_datasets")
    return None


def rule_info(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    if ctx.has(r"(?m)\bdescribe\b|\bcolumns\b|\bschema\b|\bfields\b|\bvariables\b|\bdata ?types\b|\bdtypes\b|"
               r"\binfo(rmation)?\b|\bwhat('s| is) in\b|^(?>.*?\bwhat does ).*contain|\bhow big\b|\bsize of\b"):
        return ctx.call("get_dataset_info")
    return None


SHAPE = (r"\bhow many (rows|records|observations|lines)\b.*\b(columns|fields|variables)\b"
         r"|\bhow many (columns|fields|variables)\b|\b(shape|dimensions?) of\b|\bhow (big|large) is\b")


def rule_shape(ctx: Ctx) -> list[ToolCall] | None:
    """"How many rows and columns does X have?": the dataset's info, whose first sentence gives both numbers."""
    if ctx.ds is None or not ctx.has(SHAPE):
        return None
    return ctx.call("get_dataset_info")
