"""Firing schedules: `tick` enqueues every run due at an instant, `run_now` one run at once.

Re-exports `core.schedules`, so `from jobs import schedules` is the whole API:

    s = schedules.create("dataset.refresh", ds.id, every_minutes=60)
    schedules.tick()            # the scheduler process calls this every SCHEDULER_TICK_S
    schedules.run_now(s.id)

A run is first claimed in the database (its unique (schedule, fire time) key), then its job is
submitted; only the process whose claim won submits, so two concurrent ticks enqueue each run once.
A job that cannot be queued (Redis down) leaves a failed run saying so, and the slot is spent.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from core import users
from core.db import utcnow
from core.errors import Conflict, WorkbenchError
from core.models import Job
from core.schedules import (
    Schedule,
    ScheduleRun,
    attach_job,
    attention,
    claim,
    create,
    delete,
    due,
    finish_run,
    get_kind,
    get_schedule,
    history,
    kinds,
    last_runs,
    list_schedules,
    pause,
    profile_dataset,
    refresh_dataset,
    resume,
)
from core.schedules.triggers import as_utc
from jobs import submit
from jobs.tasks import schedules as _tasks  # noqa: F401  (registers the job kinds scheduled runs use)

log = logging.getLogger(__name__)

__all__ = ["Schedule", "ScheduleRun", "attention", "create", "delete", "get_schedule", "history", "kinds",
           "last_runs", "list_schedules", "pause", "profile_dataset", "refresh_dataset", "resume", "run_now", "tick"]


def tick(now: datetime | None = None) -> list[Job]:
    """Enqueue every run due at `now` (default: now): one per schedule, missed slots coalesced.

    Safe to call from several processes at once: each due run is enqueued by exactly one of them.
    """
    moment = as_utc(now or utcnow())
    fired = []
    for slot in due(moment):
        job = _fire(slot.schedule, slot.fire_time, manual=False)
        if job is not None:
            fired.append(job)
    return fired


def run_now(ref: uuid.UUID | str) -> Job:
    """Run a schedule once now, paused or not; raises BrokerUnavailable when the queue is down."""
    schedule = get_schedule(ref)
    job = _fire(schedule, utcnow(), manual=True)
    if job is None:
        raise Conflict("Another run of this schedule started at the same instant.", hint="Try again.")
    return job


def _fire(schedule: Schedule, fire_time: datetime, *, manual: bool) -> Job | None:
    kind = get_kind(schedule.kind)
    run = claim(schedule, fire_time, manual=manual)
    if run is None:
        return None
    try:
        with users.acting_as(schedule.owner_id):  # a schedule's runs are its owner's jobs
            job = submit(kind.job_kind, title=f"{kind.title}: {schedule.target_label}"[:300],
                         schedule_id=str(schedule.id), run_id=str(run.id), target_id=schedule.target_id,
                         params=dict(schedule.params))
    except WorkbenchError as exc:
        finish_run(run.id, error=f"Not queued: {exc}")
        if manual:
            raise
        log.warning("schedule %s: run for %s not queued: %s", schedule.id, fire_time, exc)
        return None
    attach_job(run.id, job.id)
    return job
