"""Lost messages: queued jobs whose broker message no longer exists are sent again, or failed.

A message is lost when Redis restarts without persistence, or when an embedded app process (whose
broker lives in its memory) stops with jobs still waiting. The maintenance thread of every process
calls `recover_lost` each round; a conditional update makes sure one process re-sends a job once.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from core.config import get_settings
from core.db import session, utcnow
from core.models import Job, WorkerBeat
from core.system import beat_interval_s
from jobs import broker, store
from jobs.running import WORKER_ID

log = logging.getLogger(__name__)


@dataclass
class Recovered:
    requeued: int = 0
    failed: int = 0


def lost_jobs() -> list[Job]:
    """Queued jobs whose message is gone. Raises BrokerUnavailable when Redis cannot be asked."""
    if broker.is_inspectable():
        cutoff = utcnow() - timedelta(seconds=get_settings().job_requeue_grace_s)
        candidates = store.queued_before(cutoff)
        if not candidates:
            return []
        pending = broker.pending_job_ids()
        return [job for job in candidates if job.id not in pending]
    queued = store.queued_before(utcnow())
    alive = {sender: _sender_alive(sender) for sender in {job.enqueued_by for job in queued}}
    return [job for job in queued if not alive[job.enqueued_by]]


def is_lost(job: Job) -> bool:
    """True when the queued `job` has no message any more (a manual retry may send it again)."""
    if broker.is_inspectable():
        return job.id not in broker.pending_job_ids()
    return not _sender_alive(job.enqueued_by)


def _sender_alive(worker_id: str) -> bool:
    """Embedded mode: does the process that sent this message (into its own memory) still run?"""
    if worker_id == WORKER_ID:
        return True
    with session() as s:
        beat = s.get(WorkerBeat, worker_id) if worker_id else None
    if beat is None or beat.mode != "embedded":
        return False
    if beat.last_seen < utcnow() - timedelta(seconds=3 * beat_interval_s() + 5):
        return False
    return beat.hostname != socket.gethostname() or _pid_alive(beat.pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def recover_lost() -> Recovered:
    """Send again every queued job whose message is lost, or fail it after JOB_MAX_REQUEUES tries."""
    done = Recovered()
    limit = get_settings().job_max_requeues
    for job in lost_jobs():
        if job.requeues >= limit:
            done.failed += store.fail_lost(job, _too_often(job))
        elif store.mark_requeued(job):
            broker.send(job.id, job.queue)
            done.requeued += 1
            log.warning("job %s had lost its queue message; sent it again (%d of %d)", job.id,
                        job.requeues + 1, limit)
    return done


def requeue_by_hand(job: Job) -> bool:
    """Send a stuck queued job again (the retry button); False when its message still exists."""
    if not is_lost(job) or not store.mark_requeued(job, manual=True):
        return False
    broker.send(job.id, job.queue)
    return True


def _too_often(job: Job) -> str:
    return (f"The job's queue message was lost {job.requeues + 1} times (the job queue restarted or lost "
            "its data), so it was not queued again. Check the job queue (Redis) and retry the job.")
