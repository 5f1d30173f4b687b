"""Two scheduler processes against the real PostgreSQL and Redis: ticking the same simulated minutes at
the same moment, every slot fires exactly once; then as real schedulers, one leads (the advisory lock),
fires a due run in real time, and the other takes over when it stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from core import datasets
from core.db import get_engine, session
from core.models import Job
from core.models.schedule import Schedule, ScheduleRun
from core.schedules import triggers
from core.schedules.leader import SCHEDULER_LOCK_KEY, Leadership
from jobs import schedules
from jobs.broker import pending_job_ids
from tests.integration.workers import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MINUTES = 15


@pytest.fixture
def deployed(postgres: str, redis_url: str) -> str:
    return redis_url


def _all(model: type, **where: object) -> list:
    query = select(model).filter_by(**where)
    with session() as s:
        return list(s.exec(query).all())


def _lock_holders() -> list[int]:
    with get_engine().connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND ((classid::bigint << 32) | objid::bigint) = :k"), {"k": SCHEDULER_LOCK_KEY})]


def _due_in_a_second(ds_id: object) -> Schedule:
    """A one-minute schedule whose first slot is a second or two away (it was 'created' 58 s ago)."""
    row = schedules.create("dataset.profile", ds_id, every_minutes=1)
    back = triggers.as_utc(row.created) - timedelta(seconds=58)
    with session() as s:
        s.exec(update(Schedule).where(Schedule.id == row.id).values(created=back, anchor_at=back))
    return schedules.get_schedule(row.id)


def _start(start: str, tmp_path: Path, i: int) -> subprocess.Popen:
    env = {**os.environ, "SCHEDULER_TICK_S": "0.3"}
    return subprocess.Popen([sys.executable, "-m", "tests.integration.schedule_ticker", start, str(MINUTES)],
                            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            stderr=open(tmp_path / f"scheduler-{i}.log", "w"), start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def test_two_schedulers_fire_each_slot_once_and_one_leads(deployed: str, csv_file: Path, tmp_path: Path) -> None:
    # Given three schedules that fire every minute, all counted from the same instant
    ds = datasets.ingest_file(csv_file, name="sales")
    made = [schedules.create("dataset.profile", ds.id, every_minutes=1) for _ in range(3)]
    start = triggers.as_utc(made[0].created)
    with session() as s:  # one origin for all three, so each simulated minute has three due slots
        s.exec(update(Schedule).values(created=start, anchor_at=start))
    procs = [_start(start.isoformat(), tmp_path, i) for i in range(2)]
    try:
        # When two scheduler processes tick the same fifteen simulated minutes at the same moment
        assert [p.stdout.readline().strip() for p in procs] == ["ready", "ready"]
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [json.loads(p.stdout.readline()) for p in procs]
        # Then every slot has exactly one run and one job, split between them, and each job has its message
        runs = _all(ScheduleRun)
        expected = {(row.id, start + timedelta(minutes=k)) for row in made for k in range(1, MINUTES + 1)}
        assert sorted((r.schedule_id, triggers.as_utc(r.fire_time)) for r in runs) == sorted(expected)
        enqueued = [job for out in outputs for job in out["jobs"]]
        assert len(enqueued) == len(set(enqueued)) == 3 * MINUTES
        assert {str(j.id) for j in _all(Job)} == set(enqueued) == {str(r.job_id) for r in runs}
        assert {str(i) for i in pending_job_ids()} == set(enqueued)
        assert sorted(out["led"] for out in outputs) == [False, True]  # exactly one held the advisory lock

        # When they go on as real schedulers (a round every 0.3 s) and a slot falls due a second from now
        due = _due_in_a_second(ds.id)
        wait_until(lambda: _all(ScheduleRun, schedule_id=due.id), 30, what="the real-time run")
        time.sleep(1.0)  # several more rounds of both
        # Then it fired once, the leader alone holds the lock, and this process cannot take it
        (run,) = _all(ScheduleRun, schedule_id=due.id)
        assert triggers.as_utc(run.fire_time) == triggers.as_utc(due.created) + timedelta(minutes=1)
        (holder,) = _lock_holders()
        assert Leadership().hold() is False
        # When the leader stops, Then the other takes the lock over and fires the next due slot
        leader = procs[[out["led"] for out in outputs].index(True)]
        _stop(leader)
        wait_until(lambda: _lock_holders() not in ([], [holder]), 30, what="the takeover")
        later = _due_in_a_second(ds.id)
        wait_until(lambda: _all(ScheduleRun, schedule_id=later.id), 30, what="a run fired by the new leader")
        assert len(_all(ScheduleRun, schedule_id=later.id)) == 1
    finally:
        for proc in procs:
            _stop(proc)
    assert "scheduler stopped" in "".join((tmp_path / f"scheduler-{i}.log").read_text() for i in range(2))
