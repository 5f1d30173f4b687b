"""Schedule rows and their runs: create, list, pause, resume, delete; the due slots and claiming one.

`claim` inserts the run row of a slot. The unique (schedule_id, fire_time) key decides: of two
schedulers that claim the same slot, one insert wins and the other gets None, so a slot fires once.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from core.db import as_uuid, session, utcnow
from core.errors import InvalidInput, NotFound
from core.models.job import Job
from core.models.schedule import RunStatus, Schedule, ScheduleRun
from core.schedules import triggers
from core.schedules.kinds import get_kind


@dataclass(frozen=True)
class Slot:
    schedule: Schedule
    fire_time: datetime


def create(kind: str, target_id: str, *, cron: str | None = None, every_minutes: int | None = None,
           timezone: str = "UTC", params: dict[str, Any] | None = None) -> Schedule:
    """Save a schedule; every input is checked first, so a bad one leaves nothing behind.

    Give `cron` (five fields, counted in `timezone`) or `every_minutes` (1 or more), not both.
    Raises InvalidInput (bad kind, cron, time zone, interval or params) and NotFound (no such target).
    """
    spec = get_kind(kind)
    timezone = triggers.check_timezone(timezone)
    cron, every_minutes = _check_timing(cron, every_minutes, timezone)
    params = _check_params(params)
    label = spec.check(str(target_id).strip(), params)
    now = utcnow()
    row = Schedule(kind=kind, target_id=str(target_id).strip(), target_label=label[:300], cron=cron,
                   every_minutes=every_minutes, timezone=timezone, params=params, anchor_at=now, created=now)
    row.next_run_at = triggers.next_after(trigger_of(row), now)
    with session() as s:
        s.add(row)
    return row


def _check_timing(cron: str | None, every_minutes: object, timezone: str) -> tuple[str | None, int | None]:
    given_cron = bool(cron and str(cron).strip())
    if given_cron == (every_minutes is not None):
        raise InvalidInput("Give either a cron expression or an interval in minutes, not both and not neither.",
                           hint="e.g. every_minutes=60, or cron='0 6 * * *'.")
    if given_cron:
        return triggers.check_cron(str(cron), timezone), None
    return None, triggers.check_every(every_minutes)


def _check_params(params: dict[str, Any] | None) -> dict[str, Any]:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise InvalidInput("Schedule parameters must be a mapping of names to plain values.")
    try:
        text = json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"Schedule parameters must be plain values (ids, numbers, text): {exc}") from exc
    if len(text) > 20_000:
        raise InvalidInput("Schedule parameters are too large (over 20,000 characters).")
    return json.loads(text)


def trigger_of(row: Schedule) -> Any:
    """The APScheduler trigger of a schedule (an interval counts from its creation)."""
    return triggers.make_trigger(cron=row.cron, every_minutes=row.every_minutes, timezone=row.timezone,
                                 start=triggers.as_utc(row.created))


def list_schedules() -> list[Schedule]:
    """Every schedule, oldest first."""
    with session() as s:
        return list(s.exec(select(Schedule).order_by(Schedule.created)).all())


def get_schedule(ref: uuid.UUID | str) -> Schedule:
    """A schedule by id; raises NotFound."""
    key = as_uuid(ref)
    with session() as s:
        row = s.get(Schedule, key) if key is not None else None
    if row is None:
        raise NotFound(f"No schedule {str(ref)!r}.", hint="It may have been deleted; see the Schedules page.")
    return row


def pause(ref: uuid.UUID | str) -> Schedule:
    """Stop firing until `resume`; runs already queued still run."""
    row = get_schedule(ref)
    with session() as s:
        s.exec(update(Schedule).where(Schedule.id == row.id).values(paused=True, next_run_at=None))
    return get_schedule(row.id)


def resume(ref: uuid.UUID | str) -> Schedule:
    """Fire again from now on: the slots skipped while paused do not run."""
    row = get_schedule(ref)
    now = utcnow()
    with session() as s:
        s.exec(update(Schedule).where(Schedule.id == row.id).values(
            paused=False, anchor_at=now, next_run_at=triggers.next_after(trigger_of(row), now)))
    return get_schedule(row.id)


def delete(ref: uuid.UUID | str) -> None:
    """Delete a schedule and its run history (the jobs it started stay on the Jobs page)."""
    row = get_schedule(ref)
    with session() as s:
        s.exec(sql_delete(ScheduleRun).where(ScheduleRun.schedule_id == row.id))
        s.exec(sql_delete(Schedule).where(Schedule.id == row.id))


def history(ref: uuid.UUID | str, *, limit: int = 50) -> list[ScheduleRun]:
    """The runs of a schedule, newest first."""
    row = get_schedule(ref)
    with session() as s:
        runs = list(s.exec(select(ScheduleRun).where(ScheduleRun.schedule_id == row.id)
                           .order_by(ScheduleRun.created.desc()).limit(limit)).all())
    return _settled(runs)


def last_runs() -> dict[uuid.UUID, ScheduleRun]:
    """The newest run of every schedule that has one."""
    newest = select(ScheduleRun.schedule_id, func.max(ScheduleRun.created).label("at")).group_by(
        ScheduleRun.schedule_id).subquery()
    query = select(ScheduleRun).join(newest, (ScheduleRun.schedule_id == newest.c.schedule_id)
                                     & (ScheduleRun.created == newest.c.at))
    with session() as s:
        runs = list(s.exec(query).all())
    return {run.schedule_id: run for run in _settled(runs)}


def _settled(runs: list[ScheduleRun]) -> list[ScheduleRun]:
    """Runs whose job ended without recording the run (cancelled before it started, worker lost) are
    marked failed with the job's reason, so they do not show as running forever."""
    waiting = {r.job_id: r for r in runs if not RunStatus(r.status).finished and r.job_id is not None}
    if not waiting:
        return runs
    with session() as s:
        ended = [j for j in s.exec(select(Job).where(Job.id.in_(list(waiting)))).all() if j.state.finished]
    for job in ended:
        run = waiting[job.id]
        run.status, run.error = RunStatus.failed, job.error or f"Its job was {job.status} before the run finished."
        finish_run(run.id, error=run.error)
    return runs


def due(now: datetime) -> list[Slot]:
    """The slot due at `now` for every active schedule (one per schedule: missed slots are coalesced)."""
    with session() as s:
        active = list(s.exec(select(Schedule).where(Schedule.paused == False)).all())  # noqa: E712
        fired = dict(s.exec(select(ScheduleRun.schedule_id, func.max(ScheduleRun.fire_time))
                            .where(ScheduleRun.manual == False).group_by(ScheduleRun.schedule_id)).all())  # noqa: E712
    slots = []
    for row in active:
        after = triggers.as_utc(row.anchor_at)
        if row.id in fired:
            after = max(after, triggers.as_utc(fired[row.id]))
        slot = triggers.latest_due(trigger_of(row), after, now)
        if slot is not None:
            slots.append(Slot(row, slot))
    return slots


def claim(schedule: Schedule, fire_time: datetime, *, manual: bool = False) -> ScheduleRun | None:
    """Insert the run of one slot; None when another scheduler claimed it first (the unique key)."""
    run = ScheduleRun(schedule_id=schedule.id, fire_time=triggers.as_utc(fire_time), manual=manual)
    try:
        with session() as s:
            s.add(run)
            if not manual:
                upcoming = triggers.next_after(trigger_of(schedule), max(run.fire_time, utcnow()))
                s.exec(update(Schedule).where(Schedule.id == schedule.id, Schedule.paused == False)  # noqa: E712
                       .values(next_run_at=upcoming))
    except IntegrityError:
        return None
    return run


def attach_job(run_id: uuid.UUID, job_id: uuid.UUID) -> None:
    """Record which job carries out a run."""
    with session() as s:
        s.exec(update(ScheduleRun).where(ScheduleRun.id == run_id).values(job_id=job_id))


def start_run(run_id: uuid.UUID | str) -> ScheduleRun:
    """Mark a run as running (its job has started); raises NotFound when the schedule was deleted."""
    key = as_uuid(run_id)
    with session() as s:
        run = s.get(ScheduleRun, key) if key is not None else None
        if run is None:
            raise NotFound(f"No schedule run {run_id!r}: its schedule was deleted.")
        run.status = RunStatus.running
        s.add(run)
        s.flush()
        return run


def finish_run(run_id: uuid.UUID | str, *, summary: str = "", result: dict[str, Any] | None = None,
               drift: bool = False, error: str | None = None) -> None:
    """Record how a run ended: its summary and result, or the error that stopped it."""
    status = RunStatus.failed if error is not None else RunStatus.succeeded
    with session() as s:
        s.exec(update(ScheduleRun).where(ScheduleRun.id == as_uuid(run_id)).values(
            status=status, summary=(summary or (error or ""))[:2000], result=result, drift=drift,
            error=error, finished=utcnow()))


def previous_result(schedule_id: uuid.UUID | str, before: uuid.UUID | str) -> dict[str, Any] | None:
    """The result of the newest succeeded run of a schedule other than `before`."""
    with session() as s:
        run = s.exec(select(ScheduleRun).where(
            ScheduleRun.schedule_id == as_uuid(schedule_id), ScheduleRun.id != as_uuid(before),
            ScheduleRun.status == RunStatus.succeeded).order_by(ScheduleRun.created.desc())).first()
    return run.result if run is not None else None
