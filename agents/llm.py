"""The LLM path: the official `openai` SDK with tool calling against any OpenAI-compatible endpoint.

The model sees a system prompt, the dataset schemas and the current dataset's profile (never raw
rows), the trimmed conversation, and the JSON schemas of its specialist's enabled tools. Its tool
calls are validated by pydantic and run through the registry; errors go back to it as text. At most
LLM_MAX_TOOL_ROUNDS rounds. A failed SQL query gets one repair round. Nothing it writes is executed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import openai

from agents.orchestrator import Reply, TextSink, ToolRun
from agents.specialists import SPECIALISTS, settings_for
from agents.tools import ToolResult, available, run_tool
from core.config import get_settings
from core.errors import LLMError

log = logging.getLogger(__name__)

TOOL_TEXT_CHARS = 4000
TABLE_ROWS_FOR_MODEL = 20
HANDOFF = {"type": "function", "function": {
    "name": "handoff",
    "description": "Pass this conversation to a better-suited specialist, who continues with its own tools.",
    "parameters": {"type": "object", "properties": {
        "agent": {"type": "string", "enum": list(SPECIALISTS)},
        "reason": {"type": "string", "description": "Why the other specialist fits better."}},
        "required": ["agent"]}}}


def client() -> openai.OpenAI:
    """An SDK client for the configured endpoint (OPENAI_BASE_URL, OPENAI_API_KEY, LLM_TIMEOUT_S)."""
    s = get_settings()
    key = s.openai_api_key.get_secret_value() if s.openai_api_key else ""
    return openai.OpenAI(api_key=key, base_url=s.openai_base_url or None, timeout=s.llm_timeout_s, max_retries=1)


def _llm_error(exc: Exception) -> LLMError:
    s = get_settings()
    where = s.openai_base_url or "api.openai.com"
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"The language model at {where} did not answer within {s.llm_timeout_s:g} s.")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"The language model at {where} could not be reached.")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"The language model at {where} returned an error (HTTP {exc.status_code}).")
    return LLMError(f"The language model at {where} sent an answer that could not be read.")


def complete(messages: list[dict[str, Any]], *, max_tokens: int = 200, model: str | None = None) -> str:
    """One non-streamed completion's text; raises LLMError."""
    try:
        resp = client().chat.completions.create(model=model or get_settings().llm_model, messages=messages,
                                                max_tokens=max_tokens, temperature=0)
        return resp.choices[0].message.content or ""
    except (openai.OpenAIError, ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise _llm_error(exc) from exc


@dataclass
class Call:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class Turn:
    text: str = ""
    calls: list[Call] = field(default_factory=list)


def stream_turn(messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, model: str, temperature: float,
                on_text: TextSink | None) -> Turn:
    """One streamed completion: text chunks go to `on_text`, tool-call deltas are assembled. Raises LLMError."""
    turn, calls = Turn(), {}
    try:
        stream = client().chat.completions.create(model=model, messages=messages, tools=tools or openai.omit,
                                                  temperature=temperature, stream=True)
        for chunk in stream:
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta.content:
                    turn.text += delta.content
                    if on_text is not None:
                        on_text(delta.content)
                for tc in delta.tool_calls or []:
                    call = calls.setdefault(tc.index, Call())
                    call.id = tc.id or call.id
                    if tc.function is not None:
                        call.name += tc.function.name or ""
                        call.arguments += tc.function.arguments or ""
    except (openai.OpenAIError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise _llm_error(exc) from exc
    turn.calls = [c for _, c in sorted(calls.items())]
    if not turn.text and not turn.calls:
        raise LLMError("The language model sent an empty or unreadable answer.")
    return turn


def context(dataset_id: str | None, page: str | None) -> str:
    """What the model knows about the workbench: the page, the dataset schemas and the current profile."""
    from core import datasets, eda

    rows = datasets.list_datasets()[:20]
    current = next((d for d in rows if str(d.id) == str(dataset_id)), rows[0] if rows else None)
    lines = [f"The user is on the {page} page." if page else ""]
    if not rows:
        return "\n".join([*lines, "There are no datasets yet; the user can import one on the Datasets page."])
    lines.append("Datasets (each is a SQL table named after the dataset; quote names with double quotes):")
    for d in rows:
        cols = ", ".join(f"{c['name']} {c['dtype']}" for c in d.schema_[:60])
        lines.append(f"- {d.name} ({d.rows:,} rows): {cols}")
    lines.append(f"Current dataset: {current.name}. Profile (column: kind, missing, distinct, min, max, mean):")
    try:
        for c in eda.profile(current.id).columns[:60]:
            lines.append(f"- {c.name}: {c.kind}, {c.missing} missing, {c.distinct} distinct, "
                         f"{c.min}, {c.max}, {'' if c.mean is None else f'{c.mean:.4g}'}")
    except Exception as exc:  # a profile is context, not a requirement
        log.info("no profile for the LLM context: %s", exc)
    return "\n".join(line for line in lines if line)


def _for_model(result: ToolResult) -> str:
    text = result.text if result.ok else f"ERROR: {result.text}"
    if result.table is not None:
        text += f"\nTable ({len(result.table)} rows; first {TABLE_ROWS_FOR_MODEL}):\n"
        text += result.table.head(TABLE_ROWS_FOR_MODEL).to_csv(index=False)
    if result.figure is not None:
        text += "\n(The chart is shown to the user.)"
    return text[:TOOL_TEXT_CHARS]


@dataclass
class Session:
    """The state of one answer: who is answering, the messages so far, what ran."""

    agent: str
    messages: list[dict[str, Any]]
    ctx: str
    runs: list[ToolRun] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    sql_failures: int = 0

    def system(self) -> dict[str, str]:
        return {"role": "system", "content": f"{SPECIALISTS[self.agent].system_prompt()}\n\n{self.ctx}"}

    def tool_specs(self) -> list[dict[str, Any]]:
        names = settings_for(self.agent).enabled_tools
        if self.sql_failures >= 2:
            names = [n for n in names if n != "sql_query"]
        return [t.spec() for t in available(names).values()] + [HANDOFF]


def answer(message: str, *, pinned: str | None, dataset_id: str | None, page: str | None,
           prior: list[dict[str, str]], on_text: TextSink | None) -> Reply:
    """Answer with the LLM and tools. Raises LLMError when the endpoint fails before any tool ran."""
    from agents import router

    agent = pinned or router.route_llm(message, [])
    ctx = context(dataset_id, page)
    session = Session(agent=agent, messages=[*_fit(prior, ctx, message), {"role": "user", "content": message}],
                      ctx=ctx)
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
                 handoffs=session.handoffs)


def _run_call(session: Session, call: Call) -> str:
    if call.name == "handoff":
        return _handoff(session, call)
    result = run_tool(call.name, call.arguments, allowed=settings_for(session.agent).enabled_tools)
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        arguments = {"raw": call.arguments[:500]}
    session.runs.append(ToolRun(name=call.name, arguments=arguments if isinstance(arguments, dict) else
                                {"raw": arguments}, agent=session.agent, result=result))
    content = _for_model(result)
    if call.name == "sql_query" and not result.ok:
        session.sql_failures += 1
        content += ("\nFix the SQL using the schemas and try once more." if session.sql_failures == 1 else
                    "\nThe SQL failed twice. Do not retry: tell the user the error and show the SQL.")
    return content


def _handoff(session: Session, call: Call) -> str:
    try:
        target = json.loads(call.arguments or "{}").get("agent")
    except (json.JSONDecodeError, AttributeError):
        target = None
    if target not in SPECIALISTS:
        return f"ERROR: handoff needs an agent, one of {', '.join(SPECIALISTS)}."
    if target != session.agent:
        session.handoffs.append(f"{session.agent}->{target}")
        session.agent = target
    return f"You are now the {SPECIALISTS[target].name}; continue with your tools."
