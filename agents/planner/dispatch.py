"""The dispatcher: the intent of a message from its meaning, then the intent's builder fills the tool call.

`plan` (the grounded planner): a pasted SELECT and the Documents page are settled first; then the semantic
classifier ranks the registered intents on the masked message, a test or chart kind the message names
moves its intent first (a named thing is a slot, not a guess), and the best intent whose builder fills a
call wins. When the two best readings are too close to call and would run different tools, the planner
asks instead, offering both as buttons. A message no intent maps falls back to the keyword rules.
`plan_rules` is the old keyword planner, kept as the baseline the benchmark compares against.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from agents.planner import grounded, semantic
from agents.planner.charts import CHARTS, rule_charts
from agents.planner.datasets import rule_info, rule_list_datasets, rule_shape
from agents.planner.dl import rule_dl
from agents.planner.documents import rule_definition, rule_documents, rule_documents_page
from agents.planner.explore import rule_eda
from agents.planner.forbidden import forbidden
from agents.planner.intents import INTENTS, bank_key
from agents.planner.ml import rule_job, rule_predict, rule_train
from agents.planner.parse import Ctx, Rule, context
from agents.planner.projects import rule_projects
from agents.planner.sql import rule_aggregate, rule_sql
from agents.planner.stats import rule_tests
from agents.reply import Choice, ToolCall

RULES: tuple[Rule, ...] = (rule_projects, rule_sql, rule_documents_page, rule_list_datasets, rule_job, rule_documents,
                           rule_definition, rule_shape, rule_tests, rule_predict, rule_dl, rule_train, rule_charts,
                           rule_aggregate, rule_eda, rule_info)
MAX_PARSE_CHARS = 2000
TRIES = 3
ASK_MARGIN = 0.015
SEMANTIC_CHARS = 400
_loaded: list[bool] = []
FUNCTION_WORDS = {"what", "whats", "is", "are", "the", "a", "an", "and", "of", "about", "in", "my", "for", "with",
                  "me", "on", "s", "it", "its", "this", "that", "these", "those", "or", "to", "vs"}


def load_intents() -> None:
    """Import every module of this package once, so a module that registers intents is plugged in."""
    if _loaded:
        return
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        importlib.import_module(f"agents.planner.{info.name}")
    _loaded.append(True)


def plan_rules(ctx: Ctx) -> list[ToolCall]:
    """The keyword rules in order; the first that produces a complete call wins (the baseline planner).

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


def masked(ctx: Ctx) -> str:
    """The message with its columns, values, dataset and numbers replaced by their kind, for the classifier."""
    spans = [(m.start, m.end, _mask(ctx, m.column)) for m in ctx.mentions]
    spans += [(v.start, v.end, "{val}") for v in ctx.values]
    spans += [(*ctx.ds_span, "{ds}")] if ctx.ds_span else []
    out, last = [], 0
    for start, end, mask in sorted(spans):
        if start < last:
            continue
        out += [ctx.low[last:start], mask]
        last = end
    out.append(ctx.low[last:])
    text = re.sub(r"\b[0-9a-f]{8}(?:[ \-][0-9a-f]{4}){3}[ \-][0-9a-f]{12}\b", "{id}", "".join(out))
    text = re.sub(r"\b\d+(\.\d+)?\b", "{n}", text)
    return semantic.render(text)[:SEMANTIC_CHARS]


def _mask(ctx: Ctx, column: str) -> str:
    """{num} for a number, {val} for a yes/no column (it reads as a value: "churned"), {cat} for the rest."""
    if grounded.is_binary(grounded._levels(ctx, column)):
        return "{val}"
    return "{num}" if ctx.ds.kinds.get(column) == "numeric" else "{cat}"


def ranked_intents(ctx: Ctx, encoder: str | None = None) -> list[tuple[str, float]]:
    """Intents by score, with one the message names outright (a test, a chart kind) moved first."""
    load_intents()
    ranked = semantic.rank(masked(ctx), bank_key(), encoder or semantic.DEFAULT_ENCODER)
    first = _named_intent(ctx, ranked)
    if first:
        top = ranked[0][1]
        ranked = [(first, top + 1.0)] + [(n, s) for n, s in ranked if n != first]
    return ranked


def _named_intent(ctx: Ctx, ranked: list[tuple[str, float]]) -> str | None:
    test = grounded.named_test(ctx)
    if test == "shapiro" and not ctx.has(r"\bshapiro|\bnormality\b|\btest\b|\bnormally\b|\bnormal distribution"):
        test = None
    if test:
        return {"shapiro": "normality", "chi2_independence": "relation_test", "fisher_exact": "relation_test",
                "pearson": "relation_test", "spearman": "relation_test", "kendall": "relation_test"}.get(
                    test, "compare_groups")
    if any(ctx.has(pattern) for pattern, _ in CHARTS):
        return "chart"
    return None


def plan(ctx: Ctx, encoder: str | None = None) -> list[ToolCall]:
    """The tool calls the message asks for, from the intent of its meaning and the data it names.

    A builder that recognises the request but cannot fill it sets `ctx.clarification` and planning stops;
    two close readings that would run different tools set a clarification with both as `ctx.choices`.
    """
    for rule in (rule_projects, rule_sql, rule_documents_page, rule_definition, rule_dl):  # explicit commands first
        calls = rule(ctx)
        if calls:
            return calls
    if ctx.ds is None or len(ctx.low) > MAX_PARSE_CHARS:
        return plan_rules(ctx)
    if ctx.cols and not set(re.findall(r"[a-z]+", ctx.wording)) - FUNCTION_WORDS:
        return []  # only column names ("what is the mean radius"): `explain_unmapped` offers the readings
    ranked = ranked_intents(ctx, encoder)
    if ranked[0][0] == "none":
        return []
    for i, (name, score) in enumerate(ranked[:TRIES]):
        calls = INTENTS[name].build(ctx)
        if ctx.clarification:
            return []
        if not calls:
            continue
        rival = _rival(ctx, ranked[i + 1:i + 2], score, calls)
        if rival:
            _ask_between(ctx, calls, rival)
            return []
        return calls
    return plan_rules(ctx)


def _rival(ctx: Ctx, following: list[tuple[str, float]], score: float, calls: list[ToolCall]) -> list[ToolCall] | None:
    """The next reading, when it scores within ASK_MARGIN and would run another tool (then the planner asks)."""
    if not following or score - following[0][1] >= ASK_MARGIN or following[0][0] == "none":
        return None
    probe = context_copy(ctx)
    other = INTENTS[following[0][0]].build(probe)
    return other if other and other[0].name != calls[0].name else None


def context_copy(ctx: Ctx) -> Ctx:
    """A copy whose notes and clarification a trial build may change without touching the real one."""
    import copy

    probe = copy.copy(ctx)
    probe.notes, probe.clarification, probe.choices = [], None, []
    return probe


def _ask_between(ctx: Ctx, *readings: list[ToolCall]) -> None:
    from agents.planner.clarify import describe_call

    choices = [Choice(label=describe_call(calls[0]), calls=calls) for calls in readings]
    ctx.clarify(f"I am not sure what you mean in **{ctx.ds.name}**. I can read it as "
                + " or as ".join(f"*{c.label}*" for c in choices) + ". Which one?", choices=choices)


def plan_offline(message: str, *, dataset_id: str | None = None, page: str | None = None) -> list[ToolCall]:
    """Turn a common analyst request into tool calls with no LLM; [] when it cannot be mapped."""
    if forbidden(message):
        return []
    return plan(context(message, dataset_id=dataset_id, page=page))
