"""Maintenance thread: job heartbeats, this worker's heartbeat row, and the reaper."""

from __future__ import annotations

import logging
import os
import socket
import threading

from core.config import get_settings
from core.db import session, utcnow
from core.models import WorkerBeat
from core.system import beat_interval_s as interval_s
from core.system import live_workers
from jobs import store
from jobs.middleware import WORKER_ID, running_here

log = logging.getLogger(__name__)

_started: dict[str, threading.Thread] = {}
_lock = threading.Lock()

__all__ = ["beat", "interval_s", "live_workers", "start_maintenance"]


def beat(worker_queues: list[str] | None, mode: str) -> None:
    """One round: touch running jobs, record this worker as alive, reap lost jobs."""
    store.touch(running_here())
    if worker_queues is not None:
        _record_worker(worker_queues, mode)
    reaped = store.reap(get_settings().job_heartbeat_timeout_s)
    if reaped:
        log.warning("reaper marked %d job(s) failed: worker lost", reaped)


def _record_worker(queues: list[str], mode: str) -> None:
    with session() as s:
        row = s.get(WorkerBeat, WORKER_ID) or WorkerBeat(
            id=WORKER_ID, hostname=socket.gethostname(), pid=os.getpid(), queues=",".join(queues), mode=mode
        )
        row.last_seen = utcnow()
        s.add(row)


def _loop(stop: threading.Event, worker_queues: list[str] | None, mode: str) -> None:
    while not stop.wait(interval_s()):
        try:
            beat(worker_queues, mode)
        except Exception:  # the thread must outlive a database hiccup; log and go on
            log.exception("maintenance round failed")


def start_maintenance(worker_queues: list[str] | None = None, mode: str = "redis") -> None:
    """Start the maintenance thread once per process and role (worker or app)."""
    role = "worker" if worker_queues is not None else "app"
    with _lock:
        if role in _started and _started[role].is_alive():
            return
        stop = threading.Event()
        beat(worker_queues, mode)
        thread = threading.Thread(target=_loop, args=(stop, worker_queues, mode), daemon=True,
                                  name=f"workbench-maintenance-{role}")
        thread.start()
        _started[role] = thread
