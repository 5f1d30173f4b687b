"""The broker: Redis when REDIS_URL is set, else a StubBroker with one in-process worker.

One generic actor per queue receives a job id, looks up the job's kind in the
registry and runs its handler. Actors take ids only and are safe to run twice:
a job runs only if it can be claimed from `queued`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field

import dramatiq
from dramatiq.brokers.stub import StubBroker

from core.config import get_settings
from jobs import store
from jobs.middleware import JobLifecycle, keep_result
from jobs.progress import for_job
from jobs.registry import QUEUES, get_task

log = logging.getLogger(__name__)

TIME_LIMIT_MS = 24 * 3600 * 1000


def run_job(job_id: str) -> None:
    """The body of every actor: run the registered handler of the job's kind."""
    job = store.get_job(job_id)
    handler = get_task(job.kind)
    keep_result(job.id, handler.fn(dict(job.params), for_job(job.id)) or {})


@dataclass
class BrokerState:
    key: str
    broker: dramatiq.Broker
    actors: dict[str, dramatiq.Actor] = field(default_factory=dict)
    worker: dramatiq.Worker | None = None


_lock = threading.RLock()
_state: BrokerState | None = None


def _build(redis_url: str) -> BrokerState:
    if redis_url:
        from dramatiq.brokers.redis import RedisBroker

        broker: dramatiq.Broker = RedisBroker(url=redis_url)
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(JobLifecycle())
    dramatiq.set_broker(broker)
    state = BrokerState(key=redis_url, broker=broker)
    for queue in QUEUES:
        state.actors[queue] = dramatiq.actor(
            run_job, actor_name=f"run_job_{queue}", queue_name=queue, broker=broker,
            max_retries=0, time_limit=TIME_LIMIT_MS,
        )
    return state


def get_state() -> BrokerState:
    """The broker of this process, rebuilt if REDIS_URL changed (tests switch it)."""
    global _state
    key = get_settings().redis_url
    with _lock:
        if _state is None or _state.key != key:
            if _state is not None and _state.worker is not None:
                _state.worker.stop()
            _state = _build(key)
        return _state


def get_broker() -> dramatiq.Broker:
    return get_state().broker


def send(job_id: uuid.UUID, queue: str) -> None:
    get_state().actors[queue].send(str(job_id))


def ensure_embedded_worker() -> dramatiq.Worker | None:
    """Start the in-process worker once (embedded mode only); return it."""
    with _lock:
        state = get_state()
        if not isinstance(state.broker, StubBroker):
            return None
        if state.worker is None:
            state.worker = dramatiq.Worker(state.broker, worker_threads=get_settings().worker_threads,
                                           worker_timeout=100)
            state.worker.start()
            log.info("in-process worker started with %d threads", get_settings().worker_threads)
        return state.worker


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
