"""A real Dramatiq worker on the gpu_tasks queue (Redis, PostgreSQL) trains a network, reports every epoch, and is cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest

import jobs
from core import dl, ml
from tests.integration.workers import start_worker, stop_worker, wait_until
from tests.unit.test_dl_train import TINY, store, table

pytestmark = pytest.mark.integration


def test_worker_trains_with_per_epoch_progress_and_is_cancelled(postgres: str, redis_url: str, tmp_path: Path) -> None:
    # Given a dataset and a real worker serving only the GPU queue (on CPU here)
    ds = store(table(120), "net")
    worker = start_worker(tmp_path, queues=("gpu_tasks",), extra_env={"OMP_NUM_THREADS": "1"})
    try:
        # When a short dl.train job runs
        done = jobs.submit("dl.train", title="Train MLP", dataset_id=ds, architecture="mlp", framework="pytorch",
                           target="label", epochs=4, batch_size=16, options={**TINY, "patience": 0})
        assert done.queue == "gpu_tasks"
        wait_until(lambda: jobs.get_job(done.id).state.finished, 120, what="the training job to finish")
        # Then it succeeded, with one metrics point per epoch (train/val loss and accuracy) on the Job row
        job = jobs.get_job(done.id)
        assert job.status == "succeeded", job.error
        assert [m["epoch"] for m in job.metrics] == [1, 2, 3, 4]
        assert all({"train_loss", "val_loss", "val_accuracy"} <= set(m) for m in job.metrics)
        assert job.result["device"] == "cpu"
        assert len(dl.predict(job.result["model_id"], table(3))) == 3

        # When a long job is cancelled after its first epoch
        slow = jobs.submit("dl.train", title="Train long", dataset_id=ds, architecture="mlp", target="label",
                           epochs=1000, batch_size=1, options={**TINY, "patience": 0})
        wait_until(lambda: len(jobs.get_job(slow.id).metrics) >= 1, 120, what="the first epoch")
        jobs.cancel(slow.id)
        wait_until(lambda: jobs.get_job(slow.id).state.finished, 60, what="the cancellation")
        # Then it stopped mid-run and kept no model
        job = jobs.get_job(slow.id)
        assert job.status == "cancelled" and len(job.metrics) < 50
        assert len(ml.list_models()) == 1
    finally:
        stop_worker(worker)
