"""The broker: Redis when REDIS_URL is set, else a StubBroker for the in-process worker.

One generic actor per queue receives a job id, looks up the job's kind in the
registry and runs its handler. Actors take ids only and are safe to run twice:
a job runs only if it can be claimed from `queued`. `send` is the one way a
message leaves this process; `pending_job_ids` says which jobs have one in Redis.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import dramatiq
import redis
from dramatiq.brokers.stub import StubBroker
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from core import project_context, users
from core.config import get_settings
from core.errors import BrokerUnavailable
from jobs import store
from jobs.middleware import JobLifecycle
from jobs.progress import for_job
from jobs.registry import QUEUES, get_task
from jobs.running import keep_result

log = logging.getLogger(__name__)

TIME_LIMIT_MS = 24 * 3600 * 1000
REDIS_CONNECT_TIMEOUT_S = 5


def run_job(job_id: str) -> None:
    """The body of every actor: run the registered handler of the job's kind."""
    with users.as_system():
        job = store.get_job(job_id)
    handler = get_task(job.kind)
    # a job acts as its submitter, and what it makes joins the submitter's project
    with users.acting_as(job.owner_id), project_context.using(job.params.get("_project_id")):
        keep_result(job.id, handler.fn(dict(job.params), for_job(job.id)) or {})


@dataclass
class BrokerState:
    key: str
    broker: dramatiq.Broker
    actors: dict[str, dramatiq.Actor] = field(default_factory=dict)
    worker: dramatiq.Worker | None = None


state_lock = threading.RLock()  # guards the broker state; the embedded worker start holds it too
_state: BrokerState | None = None


def _redis_broker(url: str) -> dramatiq.Broker:
    from dramatiq.brokers.redis import RedisBroker

    # A few quick retries ride over a Redis restart (stale pooled connections) without making a submit
    # against a stopped Redis wait seconds for its error.
    retry = Retry(ExponentialBackoff(cap=0.5, base=0.1), 3)
    client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S, socket_timeout=30,
                                  health_check_interval=15, retry=retry)
    return RedisBroker(client=client)


def _build(redis_url: str) -> BrokerState:
    if redis_url:
        broker = _redis_broker(redis_url)
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
    with state_lock:
        if _state is None or _state.key != key:
            if _state is not None and _state.worker is not None:
                _state.worker.stop()
            _state = _build(key)
        return _state


def get_broker() -> dramatiq.Broker:
    return get_state().broker


def safe_url(url: str) -> str:
    """`url` with its password replaced by ***, fit for a message or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def unavailable(exc: Exception) -> BrokerUnavailable:
    """The analyst-facing error for a Redis that cannot be reached."""
    where = safe_url(get_settings().redis_url)
    return BrokerUnavailable(
        f"The job queue (Redis at {where}) is unreachable, so the job was not queued ({type(exc).__name__}).",
        hint="Start Redis (`docker compose up -d redis`) or check REDIS_URL, then try again; "
             "or unset REDIS_URL to run jobs inside the app.",
    )


def send(job_id: uuid.UUID, queue: str) -> None:
    """Send the message of `job_id` on `queue`; raises BrokerUnavailable when Redis cannot be reached."""
    try:
        get_state().actors[queue].send(str(job_id))
    except redis.RedisError as exc:
        raise unavailable(exc) from exc


def is_inspectable() -> bool:
    """True when the broker's pending messages can be listed (Redis), False for the in-process broker."""
    return not isinstance(get_broker(), StubBroker)


def pending_job_ids() -> set[uuid.UUID]:
    """Ids of the jobs that have a message in Redis: waiting, delayed or taken by a worker and not yet acked.

    Dramatiq keeps every message's body in `<ns>:<queue>.msgs` (and `.DQ.msgs` for delayed ones) from
    enqueue until the worker acknowledges it, so a queued job missing from all of them has lost its
    message. Raises BrokerUnavailable when Redis cannot be reached.
    """
    broker = get_broker()
    keys = [f"{broker.namespace}:{queue}{suffix}" for queue in QUEUES for suffix in (".msgs", ".DQ.msgs")]
    try:
        ids = {_job_id(raw) for key in keys for _field, raw in broker.client.hscan_iter(key)}
    except redis.RedisError as exc:
        raise unavailable(exc) from exc
    return {job_id for job_id in ids if job_id is not None}


def _job_id(raw: bytes) -> uuid.UUID | None:
    try:
        return uuid.UUID(dramatiq.Message.decode(raw).args[0])
    except Exception:  # a message that is not ours (or is damaged) names no job
        log.warning("ignoring an undecodable message in Redis")
        return None
