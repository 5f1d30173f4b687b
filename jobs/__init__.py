"""Background jobs: submit work, follow it, cancel or retry it.

    job = jobs.submit("profile", dataset_id=str(ds.id))
    jobs.get_job(job.id).progress
"""

from __future__ import annotations

import uuid
from typing import Any

from core.config import get_settings
from core.errors import InvalidInput
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
    """Queue a job of a registered kind; params must be JSON values (pass ids, not objects)."""
    from jobs.broker import ensure_embedded_worker, send
    from jobs.registry import get_task

    task = get_task(kind)
    _check_json(params)
    job = store.create(kind, task.queue, title or task.title, params)
    if get_settings().embedded:
        ensure_embedded_worker()
    send(job.id, task.queue)
    return job


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
    """Queue a failed or cancelled job again."""
    from jobs.broker import ensure_embedded_worker, send

    job = store.reset_for_retry(job_id)
    if get_settings().embedded:
        ensure_embedded_worker()
    send(job.id, job.queue)
    return job


def reap() -> int:
    """Fail running jobs whose heartbeat is too old (worker lost); return how many."""
    return store.reap(get_settings().job_heartbeat_timeout_s)


def ensure_started() -> None:
    """App start-up: the in-process worker in embedded mode, and the maintenance thread everywhere."""
    from jobs.background import start_maintenance
    from jobs.broker import ensure_embedded_worker

    if get_settings().embedded:
        ensure_embedded_worker()
        start_maintenance(worker_queues=["default", "ml_tasks", "analysis_tasks"], mode="embedded")
    else:
        start_maintenance(worker_queues=None)


def wait_idle(timeout_s: float = 60) -> None:
    """Embedded mode: wait until every queued job has run."""
    from jobs.broker import wait_idle as _wait

    _wait(timeout_s)
