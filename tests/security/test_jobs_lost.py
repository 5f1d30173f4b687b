"""A job is never lost: Redis restarts, a stopped queue, a stopped embedded app (issue 10, item 10).

Each case is one way a job used to be lost or orphaned; each asserts the clear outcome (the job runs,
or a clear error) and that nothing was left behind (no orphan row, no stray message).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

import jobs
from core.config import reload_settings
from core.db import session, utcnow
from core.errors import BrokerUnavailable, Conflict
from core.models import Job, JobStatus
from jobs import broker, recovery, store
from tests.integration.redis_server import RedisServer, free_port
from tests.integration.workers import ROOT, start_worker, stop_worker, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A private Redis without persistence, set as REDIS_URL (small grace so lost messages are found fast)."""
    server = RedisServer(tmp_path / "redis").start()
    monkeypatch.setenv("REDIS_URL", server.url)
    monkeypatch.setenv("JOB_REQUEUE_GRACE_S", "2")
    monkeypatch.setenv("JOB_HEARTBEAT_TIMEOUT_S", "6")
    reload_settings()
    yield server
    server.kill()


def _status(job_id) -> str:
    return jobs.get_job(job_id).status


def _make_old(job_id, **values) -> None:
    with session() as s:
        row = s.get(Job, job_id)
        row.enqueued_at = utcnow() - timedelta(seconds=600)
        for name, value in values.items():
            setattr(row, name, value)
        s.add(row)


# ---- Redis restarts without persistence while jobs wait ----------------------------------------------

def test_jobs_waiting_when_redis_restarts_empty_all_run(postgres: str, own_redis: RedisServer,
                                                        tmp_path: Path) -> None:
    worker = start_worker(tmp_path, threads=1)
    try:
        long = jobs.submit("diagnostics.sleep", steps=30, interval=0.1)
        waiting = [jobs.submit("diagnostics.sleep", steps=2, interval=0.01) for _ in range(2)]
        wait_until(lambda: jobs.get_job(long.id).progress > 0, 60, what="the first job to start")
        own_redis.restart()  # every message in Redis is gone
        wait_until(lambda: all(_status(j.id) == JobStatus.succeeded for j in [long, *waiting]), 90,
                   interval=0.2, what="every job to succeed after the Redis restart")
        rows = [jobs.get_job(j.id) for j in [long, *waiting]]
        assert [r.attempts for r in rows] == [1, 1, 1], "a job ran twice"
        assert any(r.requeues >= 1 for r in rows), "no lost message was re-sent (the jobs ran anyway?)"
    finally:
        stop_worker(worker)


# ---- submitting while the queue is down ----------------------------------------------------------------

DOWN = {
    "nothing listens on the port": lambda server: f"redis://127.0.0.1:{free_port()}/0",
    "redis killed after the broker connected": lambda server: server.url,
    "password in the url is not shown": lambda server: f"redis://:hunter2@127.0.0.1:{free_port()}/0",
    "host that does not resolve": lambda server: "redis://no-such-host.invalid:6379/0",
}


@pytest.mark.parametrize("case", sorted(DOWN))
def test_submit_with_the_queue_down_raises_a_clear_error_and_leaves_no_row(
    case: str, backend: str, own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = DOWN[case](own_redis)
    monkeypatch.setenv("REDIS_URL", url)
    reload_settings()
    if url == own_redis.url:
        broker.get_broker().client.ping()  # a pooled connection that the kill turns stale
    own_redis.kill()
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match=r"job queue .* is unreachable") as caught:
        jobs.submit("diagnostics.sleep", steps=1)
    assert time.monotonic() - started < 15, "the error took too long"
    assert "hunter2" not in str(caught.value)
    assert "REDIS_URL" in caught.value.hint
    assert jobs.list_jobs() == [], "an orphan queued row was left behind"


def test_retry_with_the_queue_down_says_so_and_leaves_the_job_failed(postgres: str, own_redis: RedisServer) -> None:
    job = store.create("diagnostics.sleep", "default", "t", {"steps": 1})
    store.claim(job.id, "w")
    store.finish(job.id, JobStatus.failed, error="first try failed")
    own_redis.kill()
    with pytest.raises(BrokerUnavailable, match="unreachable"):
        jobs.retry(job.id)
    row = jobs.get_job(job.id)
    assert row.status == JobStatus.failed and "unreachable" in row.error
    assert jobs.counts()["queued"] == 0


# ---- a queued job whose message is gone ----------------------------------------------------------------

def test_retry_sends_a_stuck_queued_job_again_and_it_runs(postgres: str, own_redis: RedisServer,
                                                          tmp_path: Path) -> None:
    stuck = store.create("diagnostics.sleep", "default", "stuck", {"steps": 1, "interval": 0.0})
    assert stuck.id not in broker.pending_job_ids()
    jobs.retry(stuck.id)
    assert stuck.id in broker.pending_job_ids()
    with pytest.raises(Conflict, match="still waiting in the queue"):
        jobs.retry(stuck.id)  # its message exists now: a second one would be a duplicate
    worker = start_worker(tmp_path)
    try:
        wait_until(lambda: _status(stuck.id) == JobStatus.succeeded, 60, what="the retried job to run")
    finally:
        stop_worker(worker)
    assert jobs.get_job(stuck.id).attempts == 1


def test_the_maintenance_round_resends_a_lost_message_once(postgres: str, own_redis: RedisServer) -> None:
    lost = store.create("diagnostics.sleep", "default", "lost", {"steps": 1})
    _make_old(lost.id)
    snapshot = jobs.get_job(lost.id)
    assert recovery.recover_lost().requeued == 1
    assert recovery.recover_lost().requeued == 0, "a second process re-sent the same job"
    assert store.mark_requeued(snapshot) is False, "a stale view of the row was allowed to re-send it"
    assert lost.id in broker.pending_job_ids()
    assert jobs.get_job(lost.id).requeues == 1


def test_a_fresh_queued_job_is_not_taken_for_lost(postgres: str, own_redis: RedisServer) -> None:
    fresh = store.create("diagnostics.sleep", "default", "fresh", {"steps": 1})  # sent a moment from now
    assert recovery.recover_lost().requeued == 0
    assert jobs.get_job(fresh.id).requeues == 0


def test_a_message_lost_too_often_fails_the_job_with_a_clear_message(postgres: str,
                                                                     own_redis: RedisServer) -> None:
    lost = store.create("diagnostics.sleep", "default", "lost", {"steps": 1})
    _make_old(lost.id, requeues=3)
    assert recovery.recover_lost().failed == 1
    row = jobs.get_job(lost.id)
    assert row.status == JobStatus.failed
    assert "lost 4 times" in row.error and "retry the job" in row.error
    assert lost.id not in broker.pending_job_ids()


def test_the_lost_message_check_waits_while_redis_is_down(postgres: str, own_redis: RedisServer) -> None:
    from jobs.background import beat

    lost = store.create("diagnostics.sleep", "default", "lost", {"steps": 1})
    _make_old(lost.id)
    own_redis.kill()
    beat(None, "redis")  # logs a warning, fails nothing, consumes no attempt
    row = jobs.get_job(lost.id)
    assert row.status == JobStatus.queued and row.requeues == 0


# ---- the embedded app stops with jobs queued -----------------------------------------------------------

SUBMITTER = textwrap.dedent("""
    import sys, time
    import jobs
    ids = [jobs.submit("diagnostics.sleep", steps=2000, interval=0.05).id]
    ids += [jobs.submit("diagnostics.sleep", steps=2, interval=0.01).id for _ in range(2)]
    print(" ".join(map(str, ids)), flush=True)
    time.sleep(600)
""")

RESTARTED_APP = textwrap.dedent("""
    import sys, time
    import jobs
    jobs.ensure_started()
    jobs.wait_idle(60)
    deadline = time.time() + 60
    while jobs.counts()["running"] and time.time() < deadline:
        time.sleep(0.2)
""")


def _python(code: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def test_restarting_the_embedded_app_runs_the_jobs_it_had_queued(workbench: Path) -> None:
    env = {"WORKER_THREADS": "1", "JOB_HEARTBEAT_TIMEOUT_S": "3", "PYTHONPATH": str(ROOT)}
    first = _python(SUBMITTER, env)
    try:
        ids = first.stdout.readline().split()
        assert len(ids) == 3, f"the submitting process failed: {ids} {first.stdout.read() if first.poll() else ''}"
        wait_until(lambda: _status(ids[0]) == JobStatus.running, 60, what="the first job to start")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    assert [_status(i) for i in ids[1:]] == ["queued", "queued"]  # their messages died with the process
    second = _python(RESTARTED_APP, env)
    out, _ = second.communicate(timeout=180)
    assert second.returncode == 0, out
    assert [_status(i) for i in ids[1:]] == ["succeeded", "succeeded"], out
    crashed = jobs.get_job(ids[0])
    assert crashed.status == JobStatus.failed and "worker lost" in crashed.error  # failed clearly, not lost
