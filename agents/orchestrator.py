"""`ask`: the one entry point. A message goes to a specialist, which acts through tools; the turn is stored.

The top of the assistant: it uses the planner, the router and the LLM loop, and none of them uses it.
"""

from __future__ import annotations

import logging
import time

from agents import events, intent, memory, planner, router
from agents.reply import Choice, Reply, TextSink, ToolCall, ToolRun
from agents.specialists import DEFAULT, SPECIALISTS, owner_of, settings_for
from agents.tools import ToolResult, run_tool
from core.config import get_settings
from core.errors import InvalidInput, LLMError

log = logging.getLogger(__name__)

REFUSAL = ("I can't do that: the assistant has no tool that deletes or changes data or runs code, by design — "
           "it only reads, analyses and charts your data, and starts training jobs. To delete a dataset use the "
           "Datasets page; to run your own code use a notebook with the `core` library.")


def llm_configured() -> bool:
    key = get_settings().openai_api_key
    return bool(key and key.get_secret_value())


def ask(message: str, *, conversation_id: str | None = None, dataset_id: str | None = None,
        agent: str | None = None, page: str | None = None, on_text: TextSink | None = None,
        on_event: events.EventSink | None = None, choice: Choice | None = None) -> Reply:
    """Answer a message: route it (or use the pinned agent), run tools, store both turns, return the Reply.

    conversation_id None starts a new conversation. `agent` pins a specialist for this message;
    `on_text` receives the answer text as it streams; `on_event` receives the same text and each tool step and
    hand-off as it happens (`agents.events`). `choice` is a button the assistant offered (a reading of an
    unclear request, or "run this plan"): its calls run as they are, with no planning.
    Raises InvalidInput for an empty message or unknown agent.
    """
    started = time.perf_counter()
    message = (message or "").strip()
    if not message:
        raise InvalidInput("Type a question or a request first.")
    if agent is not None and agent not in SPECIALISTS:
        raise InvalidInput(f"No agent {agent!r}.", hint=f"Agents: {', '.join(SPECIALISTS)}.")
    conv = (memory.get_conversation(conversation_id) if conversation_id
            else memory.new_conversation(message, dataset_id=dataset_id))
    pinned = agent or conv.agent
    dataset_id = dataset_id or conv.dataset_id
    prior = memory.history(conv.id, budget=get_settings().llm_context_tokens) if llm_configured() else []
    memory.add_message(conv.id, "user", message, meta={"page": page, "dataset_id": dataset_id})
    with events.listening(on_event):
        if choice is not None:
            reply = _emit(run_plan(choice.calls, message, pinned=pinned), _text_sink(on_text))
        else:
            reply = _answer(message, pinned=pinned, dataset_id=dataset_id, page=page, prior=prior,
                            on_text=_text_sink(on_text))
    reply.conversation_id = str(conv.id)
    reply.elapsed_s = round(time.perf_counter() - started, 4)
    memory.add_message(conv.id, "assistant", reply.text, agent=reply.agent,
                       tool_calls=[r.record() for r in reply.tool_runs],
                       meta={"mode": reply.mode, "handoffs": reply.handoffs, "refused": reply.refused,
                             "elapsed_s": reply.elapsed_s, "choices": [c.model_dump() for c in reply.choices]})
    return reply


def _text_sink(on_text: TextSink | None) -> TextSink:
    def sink(chunk: str) -> None:
        if on_text is not None:
            on_text(chunk)
        events.emit(events.TextChunk(chunk))

    return sink


def _answer(message: str, *, pinned: str | None, dataset_id: str | None, page: str | None,
            prior: list[dict[str, str]], on_text: TextSink | None) -> Reply:
    if planner.forbidden(message):
        return _emit(Reply(text=REFUSAL, agent=pinned or DEFAULT, mode="offline"), on_text)
    if not llm_configured():
        return _emit(answer_offline(message, pinned=pinned, dataset_id=dataset_id, page=page), on_text)
    try:
        return _answer_llm(message, pinned=pinned, dataset_id=dataset_id, page=page, prior=prior, on_text=on_text)
    except LLMError as exc:
        log.warning("LLM unavailable, answering offline: %s", exc)
        reply = answer_offline(message, pinned=pinned, dataset_id=dataset_id, page=page)
        reply.text = f"⚠️ {exc} I answered with the offline planner instead.\n\n{reply.text}"
        return _emit(reply, on_text)


def _answer_llm(message: str, *, pinned: str | None, dataset_id: str | None, page: str | None,
                prior: list[dict[str, str]], on_text: TextSink | None) -> Reply:
    """Route (unless pinned), decide from the message alone which tools it needs, then run the LLM loop."""
    from agents import llm  # the openai SDK loads only when a model is configured

    steps, ctx = planner.plan_request(message, dataset_id=dataset_id, page=page)
    planned = [c.name for c in steps.calls]
    agent = pinned or router.route_llm(message, [])
    needed = intent.needed_tools(message, agent=agent, planned=planned)
    team = intent.needed_specialists(message, agent=agent, planned=planned)
    return llm.answer(message, agent=agent, needed=needed, team=team, dataset_id=dataset_id, page=page,
                      prior=prior, on_text=on_text, grounding=planner.grounding_note(ctx, steps))


def _emit(reply: Reply, on_text: TextSink | None) -> Reply:
    if on_text is not None:
        on_text(reply.text)
    return reply


def answer_offline(message: str, *, pinned: str | None = None, dataset_id: str | None = None,
                   page: str | None = None) -> Reply:
    """Plan tool calls with the offline planner and run them as the owning specialist (handing off from a
    pinned one if needed). A plan of several steps runs in order; one with a step that changes data is shown
    first, with a button that runs it. When the planner is not sure, the reply says what it understood and
    offers the likeliest readings as buttons.
    """
    steps, ctx = planner.plan_request(message, dataset_id=dataset_id, page=page)
    calls = steps.calls
    if not calls:
        text = ctx.clarification or planner.explain_unmapped(ctx)
        return Reply(text=text, agent=pinned or router.route_offline(message, []), mode="offline",
                     choices=list(ctx.choices))
    if steps.changes_data:
        return _proposal(steps, pinned=pinned or router.route_offline(message, calls))
    return run_plan(calls, message, pinned=pinned, notes=ctx.notes + [n for s in steps.steps for n in s.ctx.notes
                                                                     if n not in ctx.notes])


def _proposal(steps: planner.Plan, *, pinned: str) -> Reply:
    """The plan in words with a button that runs it: shown before a step changes data."""
    lines = [f"{i}. {planner.describe_call(c)}" + (" — makes a new version; the current one is kept"
                                                   if planner.changes_data([c]) else "")
             for i, c in enumerate(steps.calls, 1)]
    skipped = f"\n\nNot understood, left out: {'; '.join(steps.unmapped)}." if steps.unmapped else ""
    text = "Here is the plan. It changes data, so it runs only when you confirm:\n" + "\n".join(lines) + skipped
    return Reply(text=text, agent=pinned, mode="offline",
                 choices=[Choice(label="Run this plan", calls=steps.calls, confirm=True)])


def run_plan(calls: list[ToolCall], message: str, *, pinned: str | None = None,
             notes: list[str] | None = None) -> Reply:
    """Run planned calls in order as the owning specialist; a failed step stops the steps after it (they
    would read what it did not make)."""
    agent, handoffs = router.route_offline(message, calls), []
    if pinned:
        agent = owner_of(calls[0].name, prefer=pinned)
        if agent != pinned:
            handoffs.append(f"{pinned}->{agent}")
            events.emit(events.Handoff(pinned, agent))
    runs: list[ToolRun] = []
    for call in calls:
        owner = owner_of(call.name, prefer=agent)
        if owner != agent:
            events.emit(events.Handoff(agent, owner))
        runs.append(ToolRun(name=call.name, arguments=call.arguments, agent=owner,
                            result=_run(call, owner, settings_for(owner).enabled_tools)))
        if not runs[-1].ok:
            break
    text = _compose(runs, handoffs, list(notes or []))
    if len(runs) < len(calls):
        text += f"\n\n_Step {len(runs)} failed, so the {len(calls) - len(runs)} step(s) after it did not run._"
    return Reply(text=text, agent=agent, mode="offline", tool_runs=runs, handoffs=handoffs)


def _run(call: ToolCall, agent: str, enabled: list[str]) -> ToolResult:
    events.emit(events.ToolStarted(call.name, call.arguments, agent))
    if call.name not in enabled:
        result = ToolResult(f"The {call.name} tool is turned off for the {SPECIALISTS[agent].name} in Settings.",
                            ok=False)
    else:
        result = run_tool(call.name, call.arguments, allowed=enabled)
    events.emit(events.ToolFinished(call.name, call.arguments, agent, result))
    return result


def _compose(runs: list[ToolRun], handoffs: list[str], notes: list[str]) -> str:
    parts = []
    for h in handoffs:
        src, dst = h.split("->")
        parts.append(f"_{SPECIALISTS[src].name} handed this to the {SPECIALISTS[dst].name}._")
    parts += notes
    parts += [r.result.text if r.ok else f"⚠️ {r.result.text}" for r in runs]
    return "\n\n".join(parts)
