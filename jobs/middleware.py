"""Dramatiq middleware that keeps Job rows in step with the messages a worker processes."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware, SkipMessage

from core.errors import JobCancelled, WorkbenchError
from core.models import JobStatus
from jobs import running, store
from jobs.running import WORKER_ID, keep_result, running_here

log = logging.getLogger(__name__)

__all__ = ["WORKER_ID", "JobLifecycle", "describe_error", "keep_result", "running_here"]


def describe_error(exc: BaseException) -> str:
    """The text stored on a failed job: the analyst message for our errors, type and text otherwise."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class JobLifecycle(Middleware):
    """Claims the Job row before the actor runs and records success, failure or cancellation after."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        job_id = uuid.UUID(message.args[0])
        if not store.claim(job_id, WORKER_ID):
            log.info("skipping job %s: not queued (cancelled, finished or already taken)", job_id)
            raise SkipMessage()
        running.started(job_id)

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        job_id = uuid.UUID(message.args[0])
        kept = running.ended(job_id)
        if exception is None:
            store.finish(job_id, JobStatus.succeeded, result=kept)
        elif isinstance(exception, JobCancelled):
            store.finish(job_id, JobStatus.cancelled)
        else:
            if not isinstance(exception, WorkbenchError):
                log.error("job %s failed", job_id, exc_info=exception)
            store.finish(job_id, JobStatus.failed, error=describe_error(exception))
