"""Deep-learning training as a job on the gpu_tasks queue (a GPU worker in compose; in-process on CPU when embedded)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core import dl
from core.progress import Progress
from jobs.registry import task


@task("dl.train", queue="gpu_tasks", title="Train a network")
def train(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    run = dl.train(
        params["dataset_id"], architecture=params["architecture"], framework=params.get("framework", "pytorch"),
        task=params.get("task"), target=params.get("target"), epochs=int(params.get("epochs", 50)),
        batch_size=int(params.get("batch_size", 32)), learning_rate=float(params.get("learning_rate", 1e-3)),
        options=params.get("options") or {}, seed=int(params.get("seed", 42)), progress=progress,
    )
    out = asdict(run)
    out.pop("history")  # already in the job's metrics, one point per epoch
    return out
