"""A real Dramatiq worker on Redis and PostgreSQL trains models, reports progress per fold, and is cancelled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlmodel import select

import jobs
from core import datasets, ml
from core.db import session
from core.models.ml import TrainingRun
from tests.integration.workers import start_worker, stop_worker, wait_until

pytestmark = pytest.mark.integration


def churn_dataset(rows: int) -> str:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.integers(1, 60, rows), "plan": rng.choice(["a", "b", "c"], rows),
                          "charges": rng.normal(50, 15, rows)})
    frame["churn"] = np.where(frame["tenure"] + rng.normal(0, 8, rows) < 25, "yes", "no")
    return str(datasets.store_table(pa.Table.from_pandas(frame), name=f"churn{rows}", source="test").id)


def test_worker_trains_reports_progress_and_is_cancelled(postgres: str, redis_url: str, tmp_path: Path) -> None:
    # Given a dataset in the shared DATA_DIR and a real worker on the ml_tasks queue
    small, large = churn_dataset(200), churn_dataset(4000)
    worker = start_worker(tmp_path, queues=("ml_tasks",))
    try:
        # When a short compare job runs
        done = jobs.submit("ml.train", title="Train small", dataset_id=small, target="churn", task=None,
                           models=["logistic_regression", "decision_tree"], cv=3, tune_seconds=0)
        wait_until(lambda: jobs.get_job(done.id).state.finished, 120, what="the training job to finish")
        # Then it succeeded with one metrics point per model and fold, and the run is in PostgreSQL
        job = jobs.get_job(done.id)
        assert job.status == "succeeded", job.error
        assert [(m["model"], m["fold"]) for m in job.metrics] == [
            ("logistic_regression", 1), ("logistic_regression", 2), ("logistic_regression", 3),
            ("decision_tree", 1), ("decision_tree", 2), ("decision_tree", 3)]
        assert ml.get_run(job.result["run_id"]).best_model_id is not None
        assert len(ml.predict(job.result["best_model_id"], datasets.load_frame(small).head(3))) == 3

        # When a long job is cancelled after its first fold
        slow = jobs.submit("ml.train", title="Train large", dataset_id=large, target="churn", task=None,
                           models=["svm", "random_forest", "mlp", "knn"], cv=5, tune_seconds=0)
        wait_until(lambda: len(jobs.get_job(slow.id).metrics) >= 1, 120, what="the first fold")
        jobs.cancel(slow.id)
        wait_until(lambda: jobs.get_job(slow.id).state.finished, 60, what="the cancellation")
        # Then it stopped promptly, mid-run, and stored no run
        job = jobs.get_job(slow.id)
        assert job.status == "cancelled" and len(job.metrics) < 20
        with session() as s:
            assert len(s.exec(select(TrainingRun)).all()) == 1
    finally:
        stop_worker(worker)
