"""Dramatiq middleware that keeps Job rows in step with the messages a worker processes."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware, SkipMessage

from core.errors import JobCancelled, WorkbenchError
from core.models import JobStatus
from jobs import store

log = logging.getLogger(__name__)

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"

_running: set[uuid.UUID] = set()
_results: dict[uuid.UUID, dict[str, Any]] = {}
_running_lock = threading.Lock()


def keep_result(job_id: uuid.UUID, result: dict[str, Any]) -> None:
    """Hand a job's result to the middleware (actors return None, so Dramatiq needs no result backend)."""
    with _running_lock:
        _results[job_id] = result


def running_here() -> list[uuid.UUID]:
    """Ids of the jobs this process is running now (the heartbeat thread touches them)."""
    with _running_lock:
        return list(_running)


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
        with _running_lock:
            _running.add(job_id)

    def after_process_message(self, broker: dramatiq.Broker, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        job_id = uuid.UUID(message.args[0])
        with _running_lock:
            _running.discard(job_id)
            kept = _results.pop(job_id, {})
        if exception is None:
            store.finish(job_id, JobStatus.succeeded, result=kept)
        elif isinstance(exception, JobCancelled):
            store.finish(job_id, JobStatus.cancelled)
        else:
            if not isinstance(exception, WorkbenchError):
                log.error("job %s failed", job_id, exc_info=exception)
            store.finish(job_id, JobStatus.failed, error=describe_error(exception))

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from dramatiq.brokers.stub import StubBroker

        from jobs.background import start_maintenance

        mode = "embedded" if isinstance(broker, StubBroker) else "redis"
        start_maintenance(worker_queues=sorted(broker.get_declared_queues()), mode=mode)
