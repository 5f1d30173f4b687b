"""Job rows: create, read, and the state transitions the worker and the pages make."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import func, select

from core.db import as_uuid, session, utcnow
from core.errors import Conflict, NotFound
from core.models import Job, JobStatus
from jobs.running import WORKER_ID


def _uuid(job_id: uuid.UUID | str) -> uuid.UUID:
    key = as_uuid(job_id)
    if key is None:
        raise NotFound(f"No job {job_id!r}.")
    return key


def create(kind: str, queue: str, title: str, params: dict[str, Any]) -> Job:
    """A new queued row, recorded as queued now by this process (its message is sent right after)."""
    job = Job(kind=kind, queue=queue, title=title, params=params, enqueued_at=utcnow(), enqueued_by=WORKER_ID)
    with session() as s:
        s.add(job)
    return job


def delete(job_id: uuid.UUID) -> None:
    """Remove a row whose message could not be sent (a submit that failed leaves nothing behind)."""
    with session() as s:
        job = s.get(Job, job_id)
        if job is not None:
            s.delete(job)


def not_queued(job_id: uuid.UUID, error: str) -> None:
    """Mark a queued job failed because its message could not be sent (a retry while the broker is down)."""
    with session() as s:
        s.exec(update(Job).where(Job.id == job_id, Job.status == JobStatus.queued).values(
            status=JobStatus.failed, finished=utcnow(), message="not queued", error=error))


def get_job(job_id: uuid.UUID | str) -> Job:
    """A job by id; raises NotFound."""
    with session() as s:
        job = s.get(Job, _uuid(job_id))
        if job is None:
            raise NotFound(f"No job {job_id}.", hint="It may have been deleted; see the Jobs page.")
        return job


def list_jobs(*, status: str | None = None, kind: str | None = None, limit: int = 200) -> list[Job]:
    """Jobs, newest first, optionally filtered by status and kind."""
    query = select(Job).order_by(Job.created.desc()).limit(limit)
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    with session() as s:
        return list(s.exec(query).all())


def counts() -> dict[str, int]:
    """Number of jobs in each status."""
    with session() as s:
        rows = s.exec(select(Job.status, func.count()).group_by(Job.status)).all()
    return {status.value: 0 for status in JobStatus} | {status: n for status, n in rows}


def claim(job_id: uuid.UUID, worker: str) -> bool:
    """Move a queued job to running; False when it is not queued (cancelled, done, or taken)."""
    now = utcnow()
    with session() as s:
        res = s.exec(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.queued)
            .values(status=JobStatus.running, started=now, heartbeat_at=now, worker=worker,
                    attempts=Job.attempts + 1, message="started", finished=None)
        )
        return res.rowcount == 1


def finish(job_id: uuid.UUID, status: JobStatus, *, result: dict | None = None, error: str | None = None) -> None:
    """Record the end of a running job."""
    values: dict[str, Any] = {"status": status, "finished": utcnow(), "heartbeat_at": utcnow()}
    if status == JobStatus.succeeded:
        values |= {"progress": 1.0, "result": result, "message": "finished", "error": None}
    elif status == JobStatus.cancelled:
        values |= {"message": "cancelled", "error": None}
    else:
        values |= {"error": error, "message": "failed"}
    with session() as s:
        s.exec(update(Job).where(Job.id == job_id, Job.status == JobStatus.running).values(**values))


def write_progress(
    job_id: uuid.UUID, fraction: float | None, message: str | None, metrics: dict[str, Any] | None
) -> bool:
    """Write progress and heartbeat; return True when the job has been cancelled."""
    with session() as s:
        job = s.get(Job, job_id)
        if job is None:
            return True
        if fraction is not None:
            job.progress = min(max(float(fraction), 0.0), 1.0)
        if message is not None:
            job.message = message[:2000]
        if metrics:
            job.metrics = [*job.metrics, metrics]
        job.heartbeat_at = utcnow()
        s.add(job)
        return job.cancel_requested or job.status == JobStatus.cancelled


def touch(job_ids: list[uuid.UUID]) -> None:
    """Refresh the heartbeat of jobs a live worker is running."""
    if not job_ids:
        return
    with session() as s:
        s.exec(update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.running).values(heartbeat_at=utcnow()))


def request_cancel(job_id: uuid.UUID | str) -> Job:
    """Cancel a job: a queued one at once, a running one at its next progress report."""
    job = get_job(job_id)
    if job.state.finished:
        raise Conflict(f"The job already {job.status}; there is nothing to cancel.")
    with session() as s:
        s.exec(update(Job).where(Job.id == job.id, Job.status == JobStatus.queued)
               .values(status=JobStatus.cancelled, finished=utcnow(), message="cancelled before it started"))
        s.exec(update(Job).where(Job.id == job.id).values(cancel_requested=True))
    return get_job(job.id)


def reset_for_retry(job_id: uuid.UUID | str) -> Job:
    """Put a failed or cancelled job back in the queue with its progress cleared."""
    job = get_job(job_id)
    if job.status not in (JobStatus.failed, JobStatus.cancelled):
        raise Conflict(f"Only failed or cancelled jobs can be retried; this one is {job.status}.")
    with session() as s:
        s.exec(update(Job).where(Job.id == job.id).values(
            status=JobStatus.queued, progress=0.0, message="queued for retry", error=None, result=None,
            metrics=[], cancel_requested=False, started=None, finished=None, heartbeat_at=None,
            enqueued_at=utcnow(), enqueued_by=WORKER_ID, requeues=0))
    return get_job(job.id)


def queued_before(cutoff: datetime) -> list[Job]:
    """Queued jobs last sent to the broker before `cutoff` (candidates for a lost message)."""
    sent = func.coalesce(Job.enqueued_at, Job.created)
    with session() as s:
        return list(s.exec(select(Job).where(Job.status == JobStatus.queued, sent < cutoff)).all())


def mark_requeued(job: Job, *, manual: bool = False) -> bool:
    """Record that `job`'s lost message is sent again; False when another process did it first.

    The update only applies if the row is still queued and was last sent when `job` says, so two
    maintenance threads that find the same lost job send it once.
    """
    sent = Job.enqueued_at.is_(None) if job.enqueued_at is None else Job.enqueued_at == job.enqueued_at
    what = "queued again by hand" if manual else "queued again: its queue message was lost"
    with session() as s:
        res = s.exec(update(Job).where(Job.id == job.id, Job.status == JobStatus.queued, sent).values(
            enqueued_at=utcnow(), enqueued_by=WORKER_ID, message=what,
            requeues=0 if manual else Job.requeues + 1))
        return res.rowcount == 1


def fail_lost(job: Job, error: str) -> bool:
    """Fail a queued job whose message was lost too often; False when it is no longer queued."""
    with session() as s:
        res = s.exec(update(Job).where(Job.id == job.id, Job.status == JobStatus.queued).values(
            status=JobStatus.failed, finished=utcnow(), message="queue message lost", error=error))
        return res.rowcount == 1


def reap(timeout_s: float) -> int:
    """Mark running jobs whose heartbeat is older than `timeout_s` as failed; return how many."""
    cutoff = utcnow() - timedelta(seconds=timeout_s)
    with session() as s:
        res = s.exec(
            update(Job)
            .where(Job.status == JobStatus.running, Job.heartbeat_at < cutoff)
            .values(status=JobStatus.failed, finished=utcnow(), message="worker lost",
                    error=f"worker lost: no heartbeat for over {timeout_s:g} s (the worker stopped or crashed). "
                          "Retry the job.")
        )
        return res.rowcount


def delete_finished(older_than_days: int = 0) -> int:
    """Delete finished jobs (all of them when `older_than_days` is 0)."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    finished = [JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled]
    with session() as s:
        jobs = s.exec(select(Job).where(Job.status.in_(finished), Job.created <= cutoff)).all()
        for job in jobs:
            s.delete(job)
        return len(jobs)
