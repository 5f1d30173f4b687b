"""Background jobs: submit work, follow it, cancel or retry it.

    job = jobs.submit("profile", dataset_id=str(ds.id))
    jobs.get_job(job.id).progress
"""

from __future__ import annotations

import uuid
from typing import Any

from core.config import get_settings
from core.errors import Conflict, InvalidInput, WorkbenchError
from core.models import Job, JobStatus
from jobs import store
from jobs.store import counts, delete_finished, get_job, list_jobs

__all__ = [
    "Job",
    "JobStatus",
    "cancel",
    "counts",
    "delete_finished",
    "ensure_started",
    "get_job",
    "list_jobs",
    "reap",
    "retry",
    "submit",
    "wait_idle",
]


def submit(kind: str, *, title: str | None = None, **params: Any) -> Job:
    """Queue a job of a registered kind; params must be JSON values (pass ids, not objects).

    Atomic: the row is written, then its message sent; if the send fails the row is removed again
    and BrokerUnavailable says the job queue is unreachable.
    """
    from jobs.broker import send
    from jobs.registry import get_task

    task = get_task(kind)
    _check_json(params)
    params = with_project(params)
    _ensure_embedded_worker()
    job = store.create(kind, task.queue, title or task.title, params)
    try:
        send(job.id, task.queue)
    except BaseException:
        store.delete(job.id)
        raise
    return job


def with_project(params: dict[str, Any]) -> dict[str, Any]:
    """The params plus the current project's id (PROJECT_PARAM), so what the job creates joins that project."""
    from core import project_context

    current = project_context.current()
    if current is None or PROJECT_PARAM in params:
        return params
    return {**params, PROJECT_PARAM: str(current)}


PROJECT_PARAM = "_project_id"


def _ensure_embedded_worker() -> None:
    if get_settings().embedded:
        from jobs.embedded import ensure_embedded_worker

        ensure_embedded_worker()


def _check_json(params: dict[str, Any]) -> None:
    import json

    try:
        json.dumps(params)
    except TypeError as exc:
        raise InvalidInput(f"Job parameters must be plain values (ids, numbers, text): {exc}") from exc


def cancel(job_id: uuid.UUID | str) -> Job:
    """Cancel a queued or running job."""
    return store.request_cancel(job_id)


def retry(job_id: uuid.UUID | str) -> Job:
    """Queue a failed or cancelled job again, or a queued one whose queue message was lost (stuck).

    Raises Conflict for a job that is running, succeeded, or queued with its message still waiting,
    and BrokerUnavailable (the job is then marked failed, ready for a later retry) when the queue is down.
    """
    from jobs import recovery
    from jobs.broker import send

    _ensure_embedded_worker()
    job = store.get_job(job_id)
    if job.status == JobStatus.queued:
        if not recovery.requeue_by_hand(job):
            raise Conflict("The job is still waiting in the queue; it runs when a worker is free.",
                           hint="Start a worker (`make worker`) if none is running, or cancel the job.")
        return store.get_job(job.id)
    job = store.reset_for_retry(job.id)
    try:
        send(job.id, job.queue)
    except WorkbenchError as exc:
        store.not_queued(job.id, str(exc))
        raise
    return job


def reap() -> int:
    """Fail running jobs whose heartbeat is too old (worker lost); return how many."""
    return store.reap(get_settings().job_heartbeat_timeout_s)


def ensure_started() -> None:
    """App start-up: the in-process worker in embedded mode, and the maintenance thread everywhere.

    Either way the first maintenance round runs now, so jobs whose message was lost while the app was
    down (an embedded process stopped, Redis restarted empty) are queued again at start.
    """
    from jobs.background import start_maintenance

    if get_settings().embedded:
        _ensure_embedded_worker()
    else:
        start_maintenance(worker_queues=None)


def wait_idle(timeout_s: float = 60) -> None:
    """Embedded mode: wait until every queued job has run."""
    from jobs.embedded import wait_idle as _wait

    _wait(timeout_s)
