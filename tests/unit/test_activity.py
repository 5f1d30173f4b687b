"""The Home dashboard's counts and activity feed."""

from __future__ import annotations

from pathlib import Path

import jobs
from core import activity, datasets


def test_empty_workbench_counts_zero(backend: str) -> None:
    counts = activity.summary()
    assert counts.model_dump() == dict.fromkeys(counts.model_dump(), 0)
    assert activity.recent() == []


def test_counts_and_feed_follow_what_happens(backend: str, csv_file: Path) -> None:
    ds = datasets.ingest_file(csv_file, name="sales")
    jobs.submit("diagnostics.sleep", steps=1, interval=0.0)
    jobs.wait_idle(30)
    failed = jobs.submit("diagnostics.sleep", steps=1, interval=0.0, fail_at=0)
    jobs.wait_idle(30)
    counts = activity.summary()
    assert (counts.datasets, counts.jobs_succeeded, counts.jobs_failed, counts.jobs_active) == (1, 1, 1, 0)
    feed = activity.recent()
    assert feed[0].what.startswith("Job") and "failed" in feed[0].what
    assert any(ds.name in e.what and e.page == "pages/1_Datasets.py" for e in feed)
    assert [e.when for e in feed] == sorted((e.when for e in feed), reverse=True)
    assert jobs.get_job(failed.id).status == "failed"
