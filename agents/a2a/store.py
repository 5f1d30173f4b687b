"""The A2A task store in our database (`A2ATask`): a task outlives a server restart, on SQLite or PostgreSQL.

Each store serves one agent and scopes every read to the caller (the token's principal), so one
client never sees, cancels or resumes another's tasks. The whole Task is kept as its protobuf JSON.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import UTC, datetime
from typing import Any

import anyio
from a2a.server.context import ServerCallContext
from a2a.server.id_generator import IDGenerator, IDGeneratorContext
from a2a.server.tasks import TaskStore
from a2a.types.a2a_pb2 import ListTasksRequest, ListTasksResponse, Task, TaskState
from a2a.utils.constants import DEFAULT_LIST_TASKS_PAGE_SIZE
from a2a.utils.errors import InvalidParamsError, TaskNotFoundError
from google.protobuf.json_format import MessageToDict, ParseDict
from sqlmodel import func, select

from core.db import session, utcnow
from core.models.protocols import A2ATask


def owner_of(context: ServerCallContext) -> str:
    """The owner key the guard put on the request (a token's principal, or 'local')."""
    return context.user.user_name or "local"


def _stamp(task: Task) -> datetime:
    if task.status.HasField("timestamp"):
        return task.status.timestamp.ToDatetime(tzinfo=UTC)
    return utcnow()


def _meta(task: Task, key: str) -> str | None:
    value = task.metadata.fields.get(key)
    return value.string_value if value is not None and value.string_value else None


FLUSH_S = 0.5
FRESH_KEPT = 4096


class FreshIds(IDGenerator):
    """UUIDs made here for new tasks and contexts, remembered until first stored (at most FRESH_KEPT): such an id
    is in no database row yet, so reading it back needs no query (three per new task otherwise)."""

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}

    def generate(self, context: IDGeneratorContext) -> str:
        new = str(uuid.uuid4())
        self._ids[new] = None
        if len(self._ids) > FRESH_KEPT:
            del self._ids[next(iter(self._ids))]
        return new

    def __contains__(self, value: object) -> bool:
        return value in self._ids

    def stored(self, value: str) -> None:
        self._ids.pop(value, None)

DURABLE_STATES = frozenset({TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED,
                            TaskState.TASK_STATE_REJECTED, TaskState.TASK_STATE_INPUT_REQUIRED,
                            TaskState.TASK_STATE_AUTH_REQUIRED})


class DbTaskStore(TaskStore):
    """TaskStore over the `a2a_task` table for one agent (its key in `agent`).

    Every update of a running task would be a database commit (eight or more per request), so updates
    are written behind: a final or interrupted state, and the first update naming a background job, are
    written at once; the others at most FLUSH_S later (the newest wins). Reads in this process see the
    newest state; another process may see a running task's state up to FLUSH_S old.
    """

    def __init__(self, agent: str, fresh: FreshIds | None = None) -> None:
        self.agent, self.fresh = agent, fresh or FreshIds()
        self._pending: dict[str, tuple[Task, str]] = {}
        self._jobs: dict[str, str | None] = {}
        self._flushes: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    async def save(self, task: Task, context: ServerCallContext) -> None:
        owner, copy = owner_of(context), Task()
        copy.CopyFrom(task)
        self.fresh.stored(copy.id)
        self.fresh.stored(copy.context_id)
        job = _meta(copy, "job_id")
        if copy.status.state in DURABLE_STATES or (job and self._jobs.get(copy.id) != job):
            async with self._lock(copy.id):
                self._pending.pop(copy.id, None)
                await anyio.to_thread.run_sync(self._save, copy, owner)
            self._jobs[copy.id] = job
            if copy.status.state in DURABLE_STATES:
                self._locks.pop(copy.id, None)
            return
        if copy.id not in self._pending:
            flush = asyncio.ensure_future(self._flush_later(copy.id))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        self._pending[copy.id] = (copy, owner)

    def _lock(self, task_id: str) -> asyncio.Lock:
        """One writer per task at a time, so a late flush never races (or overwrites) a newer write."""
        return self._locks.setdefault(task_id, asyncio.Lock())

    async def _flush_later(self, task_id: str) -> None:
        await asyncio.sleep(FLUSH_S)
        async with self._lock(task_id):
            item = self._pending.pop(task_id, None)
            if item is not None:
                await anyio.to_thread.run_sync(self._save, *item)

    def _save(self, task: Task, owner: str) -> None:
        with session() as s:
            row = s.get(A2ATask, task.id)
            if row is None:
                row = A2ATask(id=task.id, owner=owner, agent=self.agent)
            elif row.owner != owner or row.agent != self.agent:
                raise TaskNotFoundError(message=f"Task {task.id} was not found.")  # another caller's: says nothing more
            row.context_id, row.state = task.context_id, TaskState.Name(task.status.state)
            row.job_id, row.last_updated = _meta(task, "job_id"), _stamp(task)
            row.task = MessageToDict(task)
            s.add(row)

    async def get(self, task_id: str, context: ServerCallContext) -> Task | None:
        pending = self._pending.get(task_id)
        if pending is not None:
            if pending[1] != owner_of(context):
                return None
            copy = Task()
            copy.CopyFrom(pending[0])
            return copy
        if task_id in self.fresh:
            return None
        return await anyio.to_thread.run_sync(self._get, task_id, owner_of(context))

    async def flush(self) -> None:
        """Write every pending update now (at shutdown)."""
        for task_id in list(self._pending):
            async with self._lock(task_id):
                item = self._pending.pop(task_id, None)
                if item is not None:
                    await anyio.to_thread.run_sync(self._save, *item)

    def _get(self, task_id: str, owner: str) -> Task | None:
        with session() as s:
            row = s.get(A2ATask, task_id)
        if row is None or row.owner != owner or row.agent != self.agent:
            return None
        return ParseDict(row.task, Task(), ignore_unknown_fields=True)

    async def list(self, params: ListTasksRequest, context: ServerCallContext) -> ListTasksResponse:
        return await anyio.to_thread.run_sync(self._list, params, owner_of(context))

    def _list(self, params: ListTasksRequest, owner: str) -> ListTasksResponse:
        query = select(A2ATask).where(A2ATask.owner == owner, A2ATask.agent == self.agent)
        if params.context_id:
            query = query.where(A2ATask.context_id == params.context_id)
        if params.status:
            query = query.where(A2ATask.state == TaskState.Name(params.status))
        if params.HasField("status_timestamp_after"):
            query = query.where(A2ATask.last_updated >= params.status_timestamp_after.ToDatetime(tzinfo=UTC))
        offset, size = _decode(params.page_token), params.page_size or DEFAULT_LIST_TASKS_PAGE_SIZE
        with session() as s:
            total = s.exec(select(func.count()).select_from(query.subquery())).one()
            rows = s.exec(query.order_by(A2ATask.last_updated.desc(), A2ATask.id.desc())
                          .offset(offset).limit(size)).all()
        more = offset + len(rows) < total
        return ListTasksResponse(tasks=[ParseDict(r.task, Task(), ignore_unknown_fields=True) for r in rows],
                                 total_size=total, page_size=size,
                                 next_page_token=_encode(offset + len(rows)) if more else "")

    async def delete(self, task_id: str, context: ServerCallContext) -> None:
        self._pending.pop(task_id, None)
        await anyio.to_thread.run_sync(self._delete, task_id, owner_of(context))

    def _delete(self, task_id: str, owner: str) -> None:
        with session() as s:
            row = s.get(A2ATask, task_id)
            if row is not None and row.owner == owner and row.agent == self.agent:
                s.delete(row)


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode(token: str) -> int:
    if not token:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        offset = int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParamsError(message="Invalid page token: pass back the nextPageToken of a ListTasks reply.") \
            from exc
    if kind != "offset" or offset < 0:
        raise InvalidParamsError(message="Invalid page token: pass back the nextPageToken of a ListTasks reply.")
    return offset


def conversation_of(context_id: str, owner: str) -> str | None:
    """The workbench conversation an A2A context continues (from its latest task), if any."""
    with session() as s:
        rows = s.exec(select(A2ATask).where(A2ATask.context_id == context_id, A2ATask.owner == owner)
                      .order_by(A2ATask.last_updated.desc()).limit(5)).all()
    for row in rows:
        value: Any = (row.task.get("metadata") or {}).get("conversation_id")
        if isinstance(value, str) and value:
            return value
    return None
