"""Maintenance thread: job heartbeats, this worker's heartbeat row, the reaper and lost-message recovery."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from core.config import get_settings
from core.db import session, utcnow
from core.errors import BrokerUnavailable
from core.models import WorkerBeat
from core.system import beat_interval_s as interval_s
from core.system import live_workers
from jobs import recovery, store
from jobs.running import WORKER_ID, running_here

log = logging.getLogger(__name__)

_started: dict[str, threading.Thread] = {}
_lock = threading.Lock()

__all__ = ["MaintenanceOnBoot", "beat", "interval_s", "live_workers", "start_maintenance"]


def beat(worker_queues: list[str] | None, mode: str) -> None:
    """One round: touch running jobs, record this worker as alive, reap lost jobs, re-send lost messages."""
    store.touch(running_here())
    if worker_queues is not None:
        _record_worker(worker_queues, mode)
    reaped = store.reap(get_settings().job_heartbeat_timeout_s)
    if reaped:
        log.warning("reaper marked %d job(s) failed: worker lost", reaped)
    _recover()


def _recover() -> None:
    try:
        done = recovery.recover_lost()
    except BrokerUnavailable as exc:  # the queue is down: nothing can be re-sent now; try next round
        log.warning("lost-message check skipped: %s", exc.message)
        return
    if done.failed:
        log.warning("%d queued job(s) failed: their queue message was lost too often", done.failed)


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


class MaintenanceOnBoot(Middleware):
    """Starts the maintenance thread when a `dramatiq jobs.worker` process boots."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        start_maintenance(worker_queues=sorted(broker.get_declared_queues()), mode="redis")
