"""The A2A AgentExecutor: one request through `agents.ask`, streamed as status and artifact updates.

While the assistant answers, each event (`agents.events`) becomes an update: a tool step or hand-off
is a WORKING status whose message names the specialist ("who did what", kept in the task history);
answer text is appended to the `answer` artifact; a table becomes a data part with its columns and
rows, a chart a data part holding the Plotly JSON, SQL a text part. A reply that started a background
job (training) keeps the task WORKING with the job's progress until the job ends; CancelTask cancels
the job. Runs in a worker thread: `ask` is synchronous and touches the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio
from a2a.helpers import new_data_part, new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.tasks import TaskUpdater
from a2a.types.a2a_pb2 import Message, Part, SendMessageConfiguration, TaskState

from agents import events
from agents.a2a.cards import PLOTLY_JSON, SQL, WORKBENCH
from agents.a2a.checks import accepts
from agents.a2a.store import FreshIds, conversation_of, owner_of
from agents.specialists import SPECIALISTS
from agents.tools.registry import ToolResult
from core.errors import WorkbenchError

log = logging.getLogger(__name__)

JOB_POLL_S = 0.5
_DONE = object()


def agent_name(key: str) -> str:
    return SPECIALISTS[key].name if key in SPECIALISTS else "Workbench"


def table_part(result: ToolResult) -> Part:
    """A table as a data part: {"columns": [...], "rows": [[...], ...]} (at most MAX_TABLE_ROWS rows)."""
    record = result.record()["table"]
    return new_data_part({"columns": record["columns"], "rows": record["data"]}, media_type="application/json")


def chart_part(result: ToolResult) -> Part:
    """A Plotly figure as a data part holding its JSON (data and layout)."""
    return new_data_part(json.loads(result.figure.to_json()), media_type=PLOTLY_JSON)


class Relay:
    """Turns assistant events into A2A updates for one task."""

    def __init__(self, updater: TaskUpdater, agent: str, config: SendMessageConfiguration | None = None) -> None:
        self.updater, self.agent, self.streamed, self.steps, self.config = updater, agent, False, 0, config
        self.answer_id = f"{updater.task_id}-answer"
        self.text_type = "text/markdown" if accepts(config, "text/markdown") else "text/plain"

    def message(self, text: str, agent: str, **meta: Any) -> Message:
        return self.updater.new_agent_message([new_text_part(text)], metadata={"agent": agent, **meta})

    async def text(self, chunk: str) -> None:
        await self.updater.add_artifact([new_text_part(chunk, media_type=self.text_type)], artifact_id=self.answer_id,
                                        name="answer", append=self.streamed, last_chunk=False)
        self.streamed = True

    async def event(self, ev: events.Event) -> None:
        if isinstance(ev, events.TextChunk):
            await self.text(ev.text)
        elif isinstance(ev, events.ToolStarted):
            args = json.dumps(ev.arguments, default=str)[:500]
            await self.updater.update_status(TaskState.TASK_STATE_WORKING, message=self.message(
                f"{agent_name(ev.agent)} runs {ev.tool} {args}", ev.agent, event="tool_started", tool=ev.tool))
        elif isinstance(ev, events.ToolFinished):
            await self.finished(ev)
        elif isinstance(ev, events.Handoff):
            await self.updater.update_status(TaskState.TASK_STATE_WORKING, message=self.message(
                f"{agent_name(ev.source)} handed this to the {agent_name(ev.target)}.", ev.source, event="handoff",
                target=ev.target))

    async def finished(self, ev: events.ToolFinished) -> None:
        self.steps += 1
        outcome = "done" if ev.ok else "failed"
        await self.updater.update_status(TaskState.TASK_STATE_WORKING, message=self.message(
            f"{agent_name(ev.agent)}: {ev.tool} {outcome}. {ev.result.text[:300]}", ev.agent, event="tool_finished",
            tool=ev.tool, ok=ev.ok))
        parts = []
        if ev.result.table is not None:
            parts.append(table_part(ev.result))
        if ev.result.figure is not None:
            parts.append(chart_part(ev.result))
        if ev.result.sql:
            parts.append(new_text_part(ev.result.sql, media_type=SQL))
        parts = [p for p in parts if accepts(self.config, p.media_type)]  # what the client said it takes
        if parts:
            await self.updater.add_artifact(parts, artifact_id=f"{self.updater.task_id}-step{self.steps}",
                                            name=f"{ev.tool} ({agent_name(ev.agent)})",
                                            metadata={"tool": ev.tool, "agent": ev.agent})


class WorkbenchExecutor(AgentExecutor):
    """Answers as the routing workbench (agent None) or as one pinned specialist."""

    def __init__(self, agent: str = WORKBENCH, fresh: FreshIds | None = None) -> None:
        self.agent, self.fresh = agent, fresh or FreshIds()

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task or new_task_from_user_message(context.message)
        if context.current_task is None:
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        text = context.get_user_input().strip()
        relay = Relay(updater, self.agent, context.configuration)
        if not text:
            await updater.reject(relay.message("Send the request as a text part (e.g. 'plot price by region').",
                                               self.agent))
            return
        owner = owner_of(context.call_context)
        known = task.context_id not in self.fresh  # a context made for this request has no conversation yet
        await updater.start_work(relay.message(f"{agent_name(self.agent)} is working on it.", self.agent))
        try:
            reply = await self._answer(text, partial(conversation_of, task.context_id, owner) if known else None,
                                       relay)
        except WorkbenchError as exc:
            await updater.failed(relay.message(str(exc), self.agent))
            return
        await self._finish(reply, relay)

    async def _answer(self, text: str, conversation: Callable[[], str | None] | None, relay: Relay) -> Any:
        """`agents.ask` in a worker thread (with the context's conversation looked up there: one thread hop),
        its events relayed as they come."""
        import agents

        loop, queue = asyncio.get_running_loop(), asyncio.Queue()

        def work() -> Any:
            try:
                return agents.ask(text, conversation_id=conversation() if conversation else None, page="A2A",
                                  agent=None if self.agent == WORKBENCH else self.agent,
                                  on_event=lambda ev: loop.call_soon_threadsafe(queue.put_nowait, ev))
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        running = asyncio.ensure_future(anyio.to_thread.run_sync(work, abandon_on_cancel=True))
        done = False
        while not done:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            done = any(ev is _DONE for ev in batch)
            for item in _merge_text(batch):
                await relay.event(item)
        return await running

    async def _finish(self, reply: Any, relay: Relay) -> None:
        updater = relay.updater
        if not relay.streamed and reply.text:
            await relay.text(reply.text)
        await updater.add_artifact([new_text_part("", media_type=relay.text_type)], artifact_id=relay.answer_id,
                                   name="answer", append=True, last_chunk=True)
        meta = {"agent": reply.agent, "conversation_id": reply.conversation_id or "", "mode": reply.mode,
                "handoffs": ",".join(reply.handoffs)}
        if reply.job_ids:
            await self._follow_job(reply, relay, meta)
            return
        state = TaskState.TASK_STATE_COMPLETED
        await updater.update_status(state, message=relay.message(reply.text, reply.agent), metadata=meta)

    async def _follow_job(self, reply: Any, relay: Relay, meta: dict[str, str]) -> None:
        import jobs

        job_id, updater, seen = reply.job_ids[-1], relay.updater, None
        await updater.update_status(TaskState.TASK_STATE_WORKING, metadata={**meta, "job_id": job_id},
                                    message=relay.message(f"Background job {job_id} started.", reply.agent,
                                                          job_id=job_id))
        while True:
            job = await anyio.to_thread.run_sync(jobs.get_job, job_id)
            if job.state.finished:
                break
            if (job.status, round(job.progress, 2), job.message) != seen:
                seen = (job.status, round(job.progress, 2), job.message)
                await updater.update_status(TaskState.TASK_STATE_WORKING, message=relay.message(
                    f"Job {job.title or job.kind}: {job.shown_status} {job.progress:.0%} {job.message}".strip(),
                    reply.agent, job_id=job_id, progress=f"{job.progress:.3f}"))
            await asyncio.sleep(JOB_POLL_S)
        await finish_job(updater, relay, job, reply.agent)

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        task = context.current_task
        job_id = task.metadata.fields["job_id"].string_value if task and "job_id" in task.metadata.fields else None
        if job_id:
            await anyio.to_thread.run_sync(cancel_job, job_id)
        updater = TaskUpdater(event_queue, context.task_id or "", context.context_id or "")
        relay = Relay(updater, self.agent)
        await updater.cancel(relay.message("Cancelled" + (f"; job {job_id} cancelled." if job_id else "."),
                                           self.agent))


def cancel_job(job_id: str) -> None:
    """Cancel a task's background job (a job that already ended is left as it is)."""
    import jobs

    try:
        jobs.cancel(job_id)
    except WorkbenchError as exc:
        log.info("job %s not cancelled: %s", job_id, exc)


async def finish_job(updater: TaskUpdater, relay: Relay, job: Any, agent: str) -> None:
    """The terminal update of a job-backed task: its result (text, leaderboard table) and final state."""
    from agents.tools import run_tool

    if job.status == "cancelled":
        await updater.cancel(relay.message(f"Job {job.id} was cancelled.", agent))
        return
    result = await anyio.to_thread.run_sync(partial(run_tool, "get_job_status", {"job": str(job.id)}))
    parts = [new_text_part(result.text)] + ([table_part(result)] if result.table is not None else [])
    await updater.add_artifact(parts, artifact_id=f"{updater.task_id}-job", name="job result",
                               metadata={"job_id": str(job.id)})
    if job.status == "succeeded":
        await updater.complete(relay.message(result.text, agent, job_id=str(job.id)))
    else:
        await updater.failed(relay.message(result.text, agent, job_id=str(job.id)))


def _merge_text(batch: list[Any]) -> list[Any]:
    """Consecutive text chunks as one (fewer updates when the model streams faster than we relay)."""
    out: list[Any] = []
    for ev in batch:
        if ev is _DONE:
            continue
        if isinstance(ev, events.TextChunk) and out and isinstance(out[-1], events.TextChunk):
            out[-1] = events.TextChunk(out[-1].text + ev.text)
        else:
            out.append(ev)
    return out
