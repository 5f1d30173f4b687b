"""Start and stop real `dramatiq jobs.worker` processes for integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_worker(log_dir: Path, *, threads: int = 1, queues: tuple[str, ...] = ("default", "ml_tasks",
                 "analysis_tasks"), extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """A real Dramatiq worker process (one process) using this test's DATA_DIR, DATABASE_URL and REDIS_URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    log = open(log_dir / f"worker-{time.time_ns()}.log", "w")
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "jobs.worker", "--processes", "1", "--threads", str(threads),
         "--queues", *queues],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen, *, kill: bool = False) -> None:
    """SIGTERM (graceful) or SIGKILL the worker's whole process group."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition") -> None:
    """Poll `predicate` until it is truthy or fail with a message naming `what`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
