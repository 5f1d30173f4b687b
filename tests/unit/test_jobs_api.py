"""Jobs API on the in-process broker: submit, progress, failure, cancel, retry, reaper."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

import jobs
from core.db import session, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.models import Job, JobStatus
from jobs import store
from jobs.progress import for_job

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_submit_runs_the_job_and_records_result_and_metrics(backend: str) -> None:
    job = jobs.submit("diagnostics.sleep", steps=3, interval=0.01)
    assert job.status == JobStatus.queued and job.queue == "default"
    jobs.wait_idle(30)
    done = jobs.get_job(job.id)
    assert done.status == JobStatus.succeeded
    assert done.progress == 1.0
    assert done.result["steps"] == 3
    assert [m["step"] for m in done.metrics] == [0, 1, 2]
    assert done.attempts == 1 and done.started and done.finished and done.finished >= done.started


def test_failure_records_the_error_text(backend: str) -> None:
    job = jobs.submit("diagnostics.sleep", steps=3, interval=0.01, fail_at=1)
    jobs.wait_idle(30)
    failed = jobs.get_job(job.id)
    assert failed.status == JobStatus.failed
    assert "fail at step 1" in failed.error
    assert jobs.counts()["failed"] == 1


def test_unknown_kind_and_non_json_params_are_refused() -> None:
    with pytest.raises(InvalidInput, match="Unknown job kind"):
        jobs.submit("no.such.kind")
    with pytest.raises(InvalidInput, match="plain values"):
        jobs.submit("diagnostics.sleep", steps=object())
    assert jobs.list_jobs() == []


def test_a_kind_loads_only_its_own_task_module() -> None:
    # Given a fresh process (task modules pull in torch, the OpenAI SDK, LangChain... when imported)
    code = ("import sys; from jobs.registry import get_task; print(get_task('diagnostics.sleep').queue); "
            "print(sorted(m for m in sys.modules if m.startswith('jobs.tasks.')))")
    # When one kind is looked up
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    # Then it is found and only its own module was imported
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["default", "['jobs.tasks.diagnostics']"]


def test_kinds_named_unlike_their_module_are_found_too() -> None:
    from jobs.registry import get_task, kinds

    assert get_task("schedule.dataset.refresh").queue == "default"  # in jobs.tasks.schedules
    assert get_task("profile").queue == "analysis_tasks"
    assert {"dl.train", "ml.train", "rag.index", "schedule.template.apply"} <= set(kinds())


def test_cancel_stops_a_running_job(backend: str) -> None:
    job = jobs.submit("diagnostics.sleep", steps=200, interval=0.05)
    wait_for(lambda: jobs.get_job(job.id).status == JobStatus.running and jobs.get_job(job.id).progress > 0)
    jobs.cancel(job.id)
    jobs.wait_idle(30)
    cancelled = jobs.get_job(job.id)
    assert cancelled.status == JobStatus.cancelled
    assert cancelled.progress < 0.5
    with pytest.raises(Conflict, match="nothing to cancel"):
        jobs.cancel(job.id)


def test_cancel_of_a_queued_job_means_it_never_runs() -> None:
    job = store.create("diagnostics.sleep", "default", "t", {"steps": 1})
    jobs.cancel(job.id)
    assert jobs.get_job(job.id).status == JobStatus.cancelled
    assert store.claim(job.id, "test") is False


def test_retry_runs_a_failed_job_again() -> None:
    job = jobs.submit("diagnostics.sleep", steps=2, interval=0.01, fail_at=0)
    jobs.wait_idle(30)
    jobs.retry(job.id)
    jobs.wait_idle(30)
    again = jobs.get_job(job.id)
    assert again.attempts == 2 and again.status == JobStatus.failed


def test_a_succeeded_job_cannot_be_retried() -> None:
    job = jobs.submit("diagnostics.sleep", steps=1, interval=0.0)
    jobs.wait_idle(30)
    with pytest.raises(Conflict, match="Only failed or cancelled"):
        jobs.retry(job.id)


def test_a_message_delivered_twice_runs_once() -> None:
    job = store.create("diagnostics.sleep", "default", "t", {"steps": 1})
    assert store.claim(job.id, "a") is True
    assert store.claim(job.id, "b") is False


def test_progress_callback_writes_throttled_and_raises_on_cancel() -> None:
    job = store.create("diagnostics.sleep", "default", "t", {})
    store.claim(job.id, "test")
    report = for_job(job.id, min_interval_s=10)
    report(0.1, "first")
    report(0.2, "throttled away")
    report(None, None, {"loss": 0.5})
    row = jobs.get_job(job.id)
    assert row.progress == 0.1 and row.message == "first" and row.metrics == [{"loss": 0.5}]
    jobs.cancel(job.id)
    from core.errors import JobCancelled

    with pytest.raises(JobCancelled):
        report(1.0, "end")


def test_reaper_fails_jobs_whose_heartbeat_is_stale(backend: str) -> None:
    job = store.create("diagnostics.sleep", "default", "t", {})
    store.claim(job.id, "gone-worker")
    fresh = store.create("diagnostics.sleep", "default", "t2", {})
    store.claim(fresh.id, "live-worker")
    with session() as s:
        row = s.get(Job, job.id)
        row.heartbeat_at = utcnow() - timedelta(seconds=500)
        s.add(row)
    assert store.reap(120) == 1
    lost = jobs.get_job(job.id)
    assert lost.status == JobStatus.failed and "worker lost" in lost.error
    assert jobs.get_job(fresh.id).status == JobStatus.running


def test_unknown_job_id_is_not_found() -> None:
    with pytest.raises(NotFound):
        jobs.get_job("not-a-uuid")


def test_profile_job_runs_on_the_analysis_queue(csv_file) -> None:
    from core import datasets

    ds = datasets.ingest_file(csv_file, name="sales")
    job = jobs.submit("profile", dataset_id=str(ds.id))
    assert job.queue == "analysis_tasks"
    jobs.wait_idle(30)
    done = jobs.get_job(job.id)
    assert done.status == JobStatus.succeeded, done.error
    assert {c["name"] for c in done.result["columns"]} == {"region", "units", "price"}


def test_a_queued_job_sent_by_a_stopped_embedded_process_is_sent_again() -> None:
    from jobs import recovery

    orphan = store.create("diagnostics.sleep", "default", "orphan", {"steps": 1, "interval": 0.0})
    with session() as s:  # as if an app process that has since stopped had queued it in its own memory
        row = s.get(Job, orphan.id)
        row.enqueued_by = "gone-host:999999"
        s.add(row)
    mine = store.create("diagnostics.sleep", "default", "mine", {"steps": 1})
    jobs.ensure_started()  # a fresh process's start-up round takes it; in this long-lived one a later round does
    recovery.recover_lost()
    recovery.recover_lost()
    jobs.wait_idle(30)
    assert jobs.get_job(orphan.id).status == JobStatus.succeeded
    assert jobs.get_job(orphan.id).requeues == 1
    assert jobs.get_job(mine.id).status == JobStatus.queued, "a job this live process queued was taken"


def test_retry_of_a_job_still_waiting_in_this_process_is_refused() -> None:
    job = store.create("diagnostics.sleep", "default", "t", {"steps": 1})
    with pytest.raises(Conflict, match="still waiting in the queue"):
        jobs.retry(job.id)


def test_jobs_modules_import_in_one_direction() -> None:
    import ast
    from pathlib import Path

    root = Path(jobs.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        name = "jobs" if path.stem == "__init__" else f"jobs.{path.stem}"
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jobs"):
                deps |= {f"jobs.{a.name}" if node.module == "jobs" else node.module for a in node.names}
        graph[name] = {d for d in deps if d != name and d in {f"jobs.{p.stem}" for p in root.glob("*.py")}}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        return any(d == target or (d not in seen and reaches(d, target, seen | {d})) for d in graph.get(start, ()))

    circles = sorted(m for m in graph if m != "jobs" and reaches(m, m, {m}))
    assert circles == [], f"modules in an import circle: {circles}"
