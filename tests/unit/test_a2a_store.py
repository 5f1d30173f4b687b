"""The A2A task store: written behind for running tasks, at once for final states and job links, per caller."""

from __future__ import annotations

import asyncio

import pytest
from a2a.auth.user import User
from a2a.server.context import ServerCallContext
from a2a.types.a2a_pb2 import ListTasksRequest, Task, TaskState
from a2a.utils.errors import InvalidParamsError

from agents.a2a import store
from core.db import session
from core.models.protocols import A2ATask


class Caller(User):
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def user_name(self) -> str:
        return self.name


def ctx(name: str = "token:abc") -> ServerCallContext:
    return ServerCallContext(user=Caller(name))


def task(state: int, task_id: str = "t1", job: str | None = None) -> Task:
    t = Task(id=task_id, context_id="c1")
    t.status.state = state
    t.status.timestamp.GetCurrentTime()
    if job:
        t.metadata.update({"job_id": job})
    return t


def _row(task_id: str = "t1") -> A2ATask | None:
    with session() as s:
        return s.get(A2ATask, task_id)


def test_running_updates_wait_final_ones_are_written_at_once_without_racing_a_flush(
        backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "FLUSH_S", 0)
    db = store.DbTaskStore("sql_expert")

    async def scenario() -> tuple:
        await db.save(task(TaskState.TASK_STATE_WORKING), ctx())
        seen_pending = await db.get("t1", ctx())
        hidden = await db.get("t1", ctx("token:other"))
        await db.save(task(TaskState.TASK_STATE_COMPLETED), ctx())  # races the flush scheduled above
        await asyncio.sleep(0.05)
        return seen_pending, hidden

    seen_pending, hidden = asyncio.run(scenario())
    assert seen_pending.status.state == TaskState.TASK_STATE_WORKING and hidden is None
    assert _row().state == "TASK_STATE_COMPLETED" and _row().owner == "token:abc"


def test_a_job_link_is_written_at_once_and_reads_are_scoped_to_caller_and_agent(backend: str) -> None:
    db, other_agent = store.DbTaskStore("ml_engineer"), store.DbTaskStore("sql_expert")

    async def scenario() -> tuple:
        await db.save(task(TaskState.TASK_STATE_WORKING, job="job-1"), ctx())
        mine = await db.list(ListTasksRequest(), ctx())
        theirs = await db.list(ListTasksRequest(), ctx("token:other"))
        wrong_agent = await other_agent.get("t1", ctx())
        return mine, theirs, wrong_agent

    mine, theirs, wrong_agent = asyncio.run(scenario())
    assert _row().job_id == "job-1" and _row().state == "TASK_STATE_WORKING"
    assert [t.id for t in mine.tasks] == ["t1"] and theirs.total_size == 0 and wrong_agent is None


@pytest.mark.parametrize("token", ["garbage", "b2Zmc2V0Oi0x", "bm9wZToz", "%%%"])
def test_a_forged_page_token_is_invalid_params(token: str) -> None:
    db = store.DbTaskStore("sql_expert")
    with pytest.raises(InvalidParamsError):
        asyncio.run(db.list(ListTasksRequest(page_token=token), ctx()))


def test_ids_made_here_are_read_without_a_query_until_stored_and_their_context_then_is_known(backend: str) -> None:
    # Given a store and the id generator the request handler uses for new tasks and contexts
    fresh = store.FreshIds()
    db = store.DbTaskStore("sql_expert", fresh)
    task_id, context_id = fresh.generate(store.IDGeneratorContext()), fresh.generate(store.IDGeneratorContext())
    t = task(TaskState.TASK_STATE_COMPLETED, task_id=task_id)
    t.context_id = context_id

    async def scenario() -> tuple:
        before = await db.get(task_id, ctx())
        await db.save(t, ctx())
        return before, await db.get(task_id, ctx())

    # When the new task is read, then stored, then read again
    before, after = asyncio.run(scenario())
    # Then it was absent, then the stored row; neither id counts as new once a task in it is stored
    assert before is None and after.id == task_id and _row(task_id).context_id == context_id
    assert task_id not in fresh and context_id not in fresh


def test_the_ids_remembered_as_new_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "FRESH_KEPT", 3)
    fresh = store.FreshIds()
    made = [fresh.generate(store.IDGeneratorContext()) for _ in range(5)]
    assert [m in fresh for m in made] == [False, False, True, True, True]
