"""Real Redis broker, real `dramatiq` worker processes, real PostgreSQL."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import jobs
from core.models import JobStatus
from core.system import live_workers
from tests.integration.workers import start_worker, stop_worker, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def deployed(postgres: str, redis_url: str) -> str:
    """PostgreSQL + Redis, as in compose.yaml."""
    return redis_url


def status(job_id) -> str:
    return jobs.get_job(job_id).status


def test_worker_runs_a_job_and_its_progress_is_visible_while_running(deployed: str, tmp_path: Path) -> None:
    worker = start_worker(tmp_path)
    try:
        job = jobs.submit("diagnostics.sleep", steps=25, interval=0.1)
        seen: set[float] = set()

        def progressing() -> bool:
            row = jobs.get_job(job.id)
            if row.status == JobStatus.running and 0 < row.progress < 1:
                seen.add(row.progress)
            return row.status == JobStatus.succeeded

        wait_until(progressing, 60, interval=0.05, what="the job to succeed")
        assert len(seen) >= 3, f"progress while running was seen only as {seen}"
        done = jobs.get_job(job.id)
        assert done.worker and done.result["steps"] == 25 and len(done.metrics) == 25
    finally:
        stop_worker(worker)


def test_cancel_stops_a_job_on_a_real_worker(deployed: str, tmp_path: Path) -> None:
    worker = start_worker(tmp_path)
    try:
        job = jobs.submit("diagnostics.sleep", steps=600, interval=0.05)
        wait_until(lambda: jobs.get_job(job.id).progress > 0, 60, what="the job to start")
        jobs.cancel(job.id)
        wait_until(lambda: status(job.id) == JobStatus.cancelled, 15, what="the job to be cancelled")
        assert jobs.get_job(job.id).progress < 0.5
    finally:
        stop_worker(worker)


def test_sigkill_of_the_worker_leads_the_reaper_to_fail_the_job(
    deployed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeout_s = 3
    monkeypatch.setenv("JOB_HEARTBEAT_TIMEOUT_S", str(timeout_s))
    doomed = start_worker(tmp_path)
    survivor = None
    try:
        job = jobs.submit("diagnostics.sleep", steps=10_000, interval=0.05)
        wait_until(lambda: jobs.get_job(job.id).progress > 0, 60, what="the job to start")
        survivor = start_worker(tmp_path, queues=("analysis_tasks",))
        wait_until(lambda: len(live_workers()) >= 2, 60,
                   what="the second worker to report")
        stop_worker(doomed, kill=True)
        killed_at = time.monotonic()
        # The surviving worker's reaper runs every timeout/3 s; allow scheduling slack on a loaded machine.
        wait_until(lambda: status(job.id) == JobStatus.failed, timeout_s * 4 + 5, what="the reaper")
        elapsed = time.monotonic() - killed_at
        lost = jobs.get_job(job.id)
        assert "worker lost" in lost.error
        assert elapsed >= timeout_s - 0.5, "reaped before the heartbeat timeout had passed"
    finally:
        stop_worker(doomed, kill=True)
        if survivor is not None:
            stop_worker(survivor)


def test_worker_refuses_to_start_without_redis(tmp_path: Path) -> None:
    proc = start_worker(tmp_path, extra_env={"REDIS_URL": ""})
    assert proc.wait(60) != 0
    log = next(tmp_path.glob("worker-*.log")).read_text()
    assert "REDIS_URL is not set" in log
    assert os.environ.get("REDIS_URL", "") == ""
