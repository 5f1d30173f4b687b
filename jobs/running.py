"""This process as a worker: its id, the jobs it is running now and the results they handed back.

The lowest module of `jobs` after `store`: the middleware fills it, the maintenance thread reads
it, and neither has to import the other.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from typing import Any

WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"

_running: set[uuid.UUID] = set()
_results: dict[uuid.UUID, dict[str, Any]] = {}
_lock = threading.Lock()


def started(job_id: uuid.UUID) -> None:
    """Record that this process has claimed and is running `job_id`."""
    with _lock:
        _running.add(job_id)


def ended(job_id: uuid.UUID) -> dict[str, Any]:
    """Forget `job_id` as running here; return the result its handler kept (empty if none)."""
    with _lock:
        _running.discard(job_id)
        return _results.pop(job_id, {})


def keep_result(job_id: uuid.UUID, result: dict[str, Any]) -> None:
    """Hand a job's result to the middleware (actors return None, so Dramatiq needs no result backend)."""
    with _lock:
        _results[job_id] = result


def running_here() -> list[uuid.UUID]:
    """Ids of the jobs this process is running now (the heartbeat thread touches them)."""
    with _lock:
        return list(_running)
