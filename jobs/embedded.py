"""Embedded mode: the in-process Dramatiq worker on the StubBroker, started once per process."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.brokers.stub import StubBroker

from core.config import get_settings
from jobs.background import start_maintenance
from jobs.broker import get_state, state_lock
from jobs.registry import QUEUES

log = logging.getLogger(__name__)


def ensure_embedded_worker() -> dramatiq.Worker | None:
    """Start the in-process worker and its maintenance thread once (embedded mode only); return it.

    The maintenance thread's first round runs before this returns, so queued jobs that an earlier,
    stopped process had sent to its own in-memory broker are queued again here at start.
    """
    with state_lock:
        state = get_state()
        if not isinstance(state.broker, StubBroker):
            return None
        if state.worker is None:
            state.worker = dramatiq.Worker(state.broker, worker_threads=get_settings().worker_threads,
                                           worker_timeout=100)
            state.worker.start()
            log.info("in-process worker started with %d threads", get_settings().worker_threads)
        worker = state.worker
    start_maintenance(worker_queues=list(QUEUES), mode="embedded")
    return worker


def wait_idle(timeout_s: float = 30) -> None:
    """Embedded mode: block until every queued message has been processed (tests and scripts)."""
    state = get_state()
    if not isinstance(state.broker, StubBroker):
        raise RuntimeError("wait_idle works only with the in-process broker")
    ensure_embedded_worker()
    for queue in QUEUES:
        state.broker.join(queue, timeout=int(timeout_s * 1000), fail_fast=False)
    assert state.worker is not None
    state.worker.join()
