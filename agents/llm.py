"""The LLM path: a specialist answers with tool calling against any OpenAI-compatible endpoint.

The model sees a system prompt, the dataset schemas and the current dataset's profile (never raw
rows), the trimmed conversation, and the JSON schemas of the tools the user's request needs. Everything
that did not come from the user (names, values, documents, tool output) reaches it fenced as untrusted
data (`core.untrusted`). Its tool calls are validated by pydantic and run through the registry;
errors go back to it as text. A tool or hand-off outside what the request needs is refused. At most
LLM_MAX_TOOL_ROUNDS rounds and LLM_MAX_HANDOFFS hand-offs. A failed SQL query gets one repair round.
Nothing it writes is executed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from agents import events
from agents.llm_client import Call, stream_turn
from agents.reply import Reply, TextSink, ToolRun
from agents.specialists import SPECIALISTS, settings_for
from agents.tools import ToolResult, available, run_tool
from core.config import get_settings
from core.errors import LLMError
from core.untrusted import RULE, fence

log = logging.getLogger(__name__)

TOOL_TEXT_CHARS = 4000
TABLE_ROWS_FOR_MODEL = 20


HANDOFF = {"type": "function", "function": {
    "name": "handoff",
    "description": "Pass this conversation to a better-suited specialist, who continues with its own tools. "
                   "Only for what the user asked; a hand-off the request does not need is refused.",
    "parameters": {"type": "object", "properties": {
        "agent": {"type": "string", "enum": list(SPECIALISTS)},
        "reason": {"type": "string", "description": "Why the other specialist fits better."}},
        "required": ["agent"]}}}


def context(dataset_id: str | None, page: str | None) -> str:
    """What the model knows about the workbench: the page, the dataset schemas and the current profile."""
    from core import datasets

    rows = datasets.list_datasets()[:20]
    current = next((d for d in rows if str(d.id) == str(dataset_id)), rows[0] if rows else None)
    lines = [f"The user is on the {page} page." if page else ""]
    if not rows:
        return "\n".join([*lines, "There are no datasets yet; the user can import one on the Datasets page."])
    lines.append("Datasets (each is a SQL table named after the dataset; quote names with double quotes):")
    schemas = "\n".join(f"- {d.name} ({d.rows:,} rows): " + ", ".join(f"{c['name']} {c['dtype']}"
                                                                       for c in d.schema_[:60]) for d in rows)
    lines.append(fence("dataset names and columns", schemas))
    lines.append(f"Current dataset: {fence('dataset name', current.name)}\n"
                 "Profile (column: kind, missing, distinct, min, max, mean):")
    lines.append(fence("profile of the current dataset", _profile(current.id)))
    return "\n".join(line for line in lines if line)


def _profile(dataset_id: Any) -> str:
    from core import eda

    try:
        return "\n".join(f"- {c.name}: {c.kind}, {c.missing} missing, {c.distinct} distinct, {c.min}, {c.max}, "
                         f"{'' if c.mean is None else f'{c.mean:.4g}'}" for c in eda.profile(dataset_id).columns[:60])
    except Exception as exc:  # a profile is context, not a requirement
        log.info("no profile for the LLM context: %s", exc)
        return "(no profile)"


def _for_model(name: str, result: ToolResult) -> str:
    text = result.text if result.ok else f"ERROR: {result.text}"
    if result.table is not None:
        text += f"\nTable ({len(result.table)} rows; first {TABLE_ROWS_FOR_MODEL}):\n"
        text += result.table.head(TABLE_ROWS_FOR_MODEL).to_csv(index=False)
    if result.figure is not None:
        text += "\n(The chart is shown to the user.)"
    return fence(f"tool result: {name}", text[:TOOL_TEXT_CHARS])


@dataclass
class Session:
    """The state of one answer: who is answering, what the request needs, the messages so far, what ran."""

    agent: str
    messages: list[dict[str, Any]]
    ctx: str
    needed: set[str]
    team: set[str]
    runs: list[ToolRun] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    sql_failures: int = 0

    def system(self) -> dict[str, str]:
        return {"role": "system", "content": f"{SPECIALISTS[self.agent].system_prompt()}\n\n{RULE}\n\n{self.ctx}"}

    def tools(self) -> list[str]:
        """The current specialist's enabled tools that the request needs."""
        names = [n for n in settings_for(self.agent).enabled_tools if n in self.needed]
        return [n for n in names if n != "sql_query"] if self.sql_failures >= 2 else names

    def handoff_targets(self) -> list[str]:
        """Specialists a hand-off may go to: those the request needs (its team), within the cap."""
        if len(self.handoffs) >= get_settings().llm_max_handoffs:
            return []
        return [key for key in SPECIALISTS if key != self.agent and key in self.team]

    def tool_specs(self) -> list[dict[str, Any]]:
        capped = len(self.handoffs) >= get_settings().llm_max_handoffs
        return [t.spec() for t in available(self.tools()).values()] + ([] if capped else [HANDOFF])


def answer(message: str, *, agent: str, needed: set[str], team: set[str], dataset_id: str | None,
           page: str | None, prior: list[dict[str, str]], on_text: TextSink | None,
           grounding: str | None = None) -> Reply:
    """Answer with the LLM and tools as `agent`, using only the `needed` tools and handing off only within
    `team` (both decided from the user's message alone). `grounding` is the offline planner's reading of the
    message (resolved columns and values, the planned steps), added to the context fenced like the schemas.

    Raises LLMError when the endpoint fails before any tool ran.
    """
    ctx = context(dataset_id, page)
    if grounding:
        ctx += "\n" + fence("the offline planner's reading of the request (columns and values resolved in the "
                            "data; a multi-step request is one tool call per step, in order)", grounding)
    session = Session(agent=agent, messages=[*_fit(prior, ctx, message), {"role": "user", "content": message}],
                      ctx=ctx, needed=set(needed), team=set(team))
    rounds = get_settings().llm_max_tool_rounds
    for _ in range(rounds):
        cfg = settings_for(session.agent)
        try:
            turn = stream_turn([session.system(), *session.messages], session.tool_specs(), model=cfg.model,
                               temperature=cfg.temperature, on_text=on_text)
        except LLMError as exc:
            if not session.runs:
                raise
            done = "\n\n".join(r.result.text for r in session.runs[-3:])
            return _reply(session, f"⚠️ {exc} What ran before it stopped:\n\n{done}")
        if not turn.calls:
            return _reply(session, turn.text)
        session.messages.append({"role": "assistant", "content": turn.text or None, "tool_calls": [
            {"id": c.id or f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for i, c in enumerate(turn.calls)]})
        for i, call in enumerate(turn.calls):
            content = _run_call(session, call)
            session.messages.append({"role": "tool", "tool_call_id": call.id or f"call_{i}", "content": content})
    summary = "\n\n".join(r.result.text for r in session.runs[-3:])
    return _reply(session, f"I stopped after {rounds} tool rounds, the limit for one message. So far:\n\n{summary}")


def _fit(prior: list[dict[str, str]], ctx: str, message: str) -> list[dict[str, str]]:
    """Drop the oldest turns until history, context and message fit LLM_CONTEXT_TOKENS (the newest stay)."""
    from agents.memory import tokens

    budget = get_settings().llm_context_tokens - tokens(ctx) - tokens(message) - 500  # 500: prompt and tools
    kept = list(prior)
    while kept and sum(tokens(m["content"]) for m in kept) > budget:
        kept.pop(0)
    return kept


def _reply(session: Session, text: str) -> Reply:
    return Reply(text=text.strip() or "(no answer)", agent=session.agent, mode="llm", tool_runs=session.runs,
                 handoffs=session.handoffs, refused=session.refused)


def _arguments(call: Call) -> dict[str, Any]:
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return {"raw": call.arguments[:500]}
    return arguments if isinstance(arguments, dict) else {"raw": arguments}


def _run_call(session: Session, call: Call) -> str:
    if call.name == "handoff":
        return _handoff(session, call)
    if call.name in SPECIALIST_TOOLS and call.name not in session.tools():
        session.refused.append(call.name)
        log.warning("refused tool %s: not needed for the user's request", call.name)
        return (f"REFUSED: {call.name} is not needed for what the user asked, so it cannot run in this answer. "
                f"Tools you may use: {', '.join(session.tools()) or 'none'}.")
    events.emit(events.ToolStarted(call.name, _arguments(call), session.agent))
    result = run_tool(call.name, call.arguments, allowed=session.tools())
    events.emit(events.ToolFinished(call.name, _arguments(call), session.agent, result))
    session.runs.append(ToolRun(name=call.name, arguments=_arguments(call), agent=session.agent, result=result))
    content = _for_model(call.name, result)
    if call.name == "sql_query" and not result.ok:
        session.sql_failures += 1
        content += ("\nFix the SQL using the schemas and try once more." if session.sql_failures == 1 else
                    "\nThe SQL failed twice. Do not retry: tell the user the error and show the SQL.")
    return content


SPECIALIST_TOOLS = frozenset(t for s in SPECIALISTS.values() for t in s.tools)


def _handoff(session: Session, call: Call) -> str:
    target = _arguments(call).get("agent")
    if target not in SPECIALISTS:
        return f"ERROR: handoff needs an agent, one of {', '.join(session.handoff_targets()) or 'none'}."
    if target == session.agent:
        return f"You are already the {SPECIALISTS[target].name}; continue with your tools."
    if target not in session.handoff_targets():
        session.refused.append(f"handoff:{target}")
        log.warning("refused hand-off %s->%s: not needed for the user's request", session.agent, target)
        return (f"REFUSED: the user's request does not need the {SPECIALISTS[target].name}'s tools (or the "
                "hand-off limit is reached). Continue with your own tools or answer.")
    session.handoffs.append(f"{session.agent}->{target}")
    events.emit(events.Handoff(session.agent, target))
    session.agent = target
    return f"You are now the {SPECIALISTS[target].name}; continue with your tools."
