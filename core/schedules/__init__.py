"""Schedules: refresh a dataset from its source, re-profile it, re-run a template, on an interval or cron.

    s = schedules.create("dataset.refresh", ds.id, every_minutes=60)
    s = schedules.create("dataset.profile", ds.id, cron="0 6 * * mon-fri", timezone="Europe/Paris")
    schedules.pause(s.id); schedules.resume(s.id); schedules.history(s.id); schedules.delete(s.id)

Firing needs the job queue, which `core` cannot import: `jobs.schedules.tick(now)` enqueues every
run due at `now` and `jobs.schedules.run_now(id)` one run at once (`jobs.schedules` re-exports this
module, so `from jobs import schedules` gives the whole API). The database decides what fires: a
unique (schedule, fire time) key on the run rows, so two schedulers never fire a slot twice.

Modules, lowest first: `triggers` (APScheduler cron/interval, validation, the due slot), `kinds`
(what a schedule can do), `store` (rows, due slots, claiming), `refresh` (the dataset work),
`leader` (the advisory lock that elects one scheduler process).
"""

from __future__ import annotations

from core.models.schedule import RunStatus, Schedule, ScheduleRun
from core.schedules.kinds import Kind, Outcome, get_kind, kinds, register
from core.schedules.refresh import profile_dataset, refresh_dataset
from core.schedules.store import (
    Slot,
    attach_job,
    claim,
    create,
    delete,
    due,
    finish_run,
    get_schedule,
    history,
    last_runs,
    list_schedules,
    pause,
    previous_result,
    resume,
    start_run,
)

__all__ = ["Kind", "Outcome", "RunStatus", "Schedule", "ScheduleRun", "Slot", "attach_job", "attention", "claim",
           "create", "delete", "due", "finish_run", "get_kind", "get_schedule", "history", "kinds", "last_runs",
           "list_schedules", "pause", "previous_result", "profile_dataset", "refresh_dataset", "register", "resume",
           "start_run"]


def attention() -> list[tuple[Schedule, ScheduleRun]]:
    """Schedules whose newest run failed or found drifted data (what Home flags)."""
    latest = last_runs()
    return [(s, latest[s.id]) for s in list_schedules()
            if s.id in latest and (latest[s.id].status == RunStatus.failed or latest[s.id].drift)]
