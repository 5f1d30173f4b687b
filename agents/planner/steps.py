"""Multi-step requests: "fill missing prices with the median, then plot price by region and test whether it differs"
becomes an ordered plan of tool calls, one step per clause.

A clause that names no column ("test whether it differs") is about the previous step's columns. Steps run in
order on the same dataset, so a cleaning step's new version is what the next step reads. A plan with a step
that changes data (`intents.changes_data`) is shown before it runs (the orchestrator asks to confirm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.planner.intents import changes_data
from agents.planner.parse import Ctx, Schema, context
from agents.reply import ToolCall

MAX_STEPS = 6
MAX_CHARS = 2000
VERBS = (r"fill|impute|replace|remove|drop|dedupe|deduplicate|plot|draw|chart|graph|visuali[sz]e|test|check|train|"
         r"build|fit|show|count|compute|calculate|compare|run|make|give|find|list|describe|summari[sz]e|"
         r"histogram|scatter|predict|how many|what|is|are|does|do")
# Each separator starts where a run of spaces starts and takes the run whole (possessive), so a message of
# spaces is scanned once: no backtracking over whitespace.
SPLIT = re.compile(rf";|(?<![\s,]),?\s++(?:(?:and\s++)?then|after that|afterwards|finally|"
                   rf"and\s++(?=(?:{VERBS})\b))\b", re.IGNORECASE)
LEAD = re.compile(r"^\s*(?:first(?:ly)?|then|next|and|also|please)\b[\s,]*", re.IGNORECASE)


@dataclass
class Step:
    text: str
    calls: list[ToolCall]
    ctx: Ctx


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)

    @property
    def calls(self) -> list[ToolCall]:
        return [c for s in self.steps for c in s.calls]

    @property
    def changes_data(self) -> bool:
        return changes_data(self.calls)


def clauses(message: str) -> list[str]:
    """The message split at 'then', ';', 'after that' and 'and' before a verb; one clause when it has no steps."""
    parts = [LEAD.sub("", p).strip(" ,.") for p in SPLIT.split(message[:MAX_CHARS])]
    return [p for p in parts if p][:MAX_STEPS]


def plan_steps(message: str, *, dataset_id: str | None = None, schemas: list[Schema] | None = None,
               page: str | None = None, encoder: str | None = None) -> Plan | None:
    """The ordered plan of a multi-step request, or None when the message is one request."""
    from agents.planner.dispatch import plan
    from agents.planner.parse import load_schemas

    parts = clauses(message)
    if len(parts) < 2:
        return None
    schemas = load_schemas() if schemas is None else schemas
    out, previous, current = Plan(), None, dataset_id
    for part in parts:
        ctx = context(part, dataset_id=current, schemas=schemas, page=page)
        if not ctx.cols and previous is not None:
            ctx = context(f"{part} {_about(previous)}", dataset_id=current, schemas=schemas, page=page)
        calls = plan(ctx, encoder)
        if not calls:
            out.unmapped.append(part)
            continue
        out.steps.append(Step(part, calls, ctx))
        previous, current = calls[0], ctx.ds.id if ctx.ds else current
    return out if len(out.steps) >= 2 or (out.steps and out.unmapped) else None


def _about(call: ToolCall) -> str:
    """The columns of a step, as words a following clause can borrow ("of price by region")."""
    a = call.arguments
    value = a.get("value") or a.get("y") or a.get("column") or (a.get("columns") or [None])[0]
    group = a.get("group") or (a.get("x") if a.get("y") else None)
    if value is None:
        value = a.get("x")
    return " ".join(p for p in (f"of {value}" if value else "", f"by {group}" if group else "") if p)


def plan_request(message: str, *, dataset_id: str | None = None, schemas: list[Schema] | None = None,
                 page: str | None = None, encoder: str | None = None) -> tuple[Plan, Ctx]:
    """Everything the offline assistant plans for a message: its steps (one for a single request) and the
    parse of the whole message (for the clarification, the notes and the grounding shown to an LLM)."""
    from agents.planner.dispatch import plan

    ctx = context(message, dataset_id=dataset_id, schemas=schemas, page=page)
    multi = plan_steps(message, dataset_id=dataset_id, schemas=ctx.schemas, page=page, encoder=encoder)
    if multi is not None:
        return multi, ctx
    calls = plan(ctx, encoder)
    return Plan([Step(message, calls, ctx)] if calls else []), ctx


def grounding_note(ctx: Ctx, plan_: Plan) -> str:
    """What the parse resolved, for the LLM's context: columns, values with their column, the planned calls."""
    if ctx.ds is None:
        return ""
    lines = [f"dataset: {ctx.ds.name}"]
    if ctx.cols:
        lines.append("columns named: " + ", ".join(f"{c} ({ctx.ds.kinds.get(c)})" for c in ctx.cols))
    for v in ctx.values:
        lines.append(f"value {v.level!r} is a level of column {v.column}" + (" (negated)" if v.negated else ""))
    for i, call in enumerate(plan_.calls, 1):
        lines.append(f"step {i}: {call.name} {call.model_dump_json(include={'arguments'})}")
    return "\n".join(lines)
