"""The dispatcher: the intent rules in order; the first that produces a complete call wins."""

from __future__ import annotations

from agents.planner.charts import rule_charts
from agents.planner.datasets import rule_info, rule_list_datasets, rule_shape
from agents.planner.dl import rule_dl
from agents.planner.documents import rule_definition, rule_documents, rule_documents_page
from agents.planner.explore import rule_eda
from agents.planner.forbidden import forbidden
from agents.planner.ml import rule_job, rule_predict, rule_train
from agents.planner.parse import Ctx, Rule, context
from agents.planner.sql import rule_aggregate, rule_sql
from agents.planner.stats import rule_tests
from agents.reply import ToolCall

RULES: tuple[Rule, ...] = (rule_sql, rule_documents_page, rule_list_datasets, rule_job, rule_documents,
                           rule_definition, rule_shape, rule_tests, rule_predict, rule_dl, rule_train, rule_charts,
                           rule_aggregate, rule_eda, rule_info)


def plan(ctx: Ctx) -> list[ToolCall]:
    """The tool calls of the first rule that maps the parsed message.

    A rule that recognises the request but cannot fill it stops the search (its question is in
    `ctx.clarification`), so a later rule never answers a different question.
    """
    for rule in RULES:
        calls = rule(ctx)
        if calls:
            return calls
        if ctx.clarification:
            return []
    return []


def plan_offline(message: str, *, dataset_id: str | None = None, page: str | None = None) -> list[ToolCall]:
    """Turn a common analyst request into tool calls with no LLM; [] when it cannot be mapped."""
    if forbidden(message):
        return []
    return plan(context(message, dataset_id=dataset_id, page=page))
