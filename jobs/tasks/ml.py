"""Model training as a job on the ml_tasks queue."""

from __future__ import annotations

from typing import Any

from core import ml
from core.ml.screen import DEFAULT_BUDGET_S
from core.progress import Progress
from jobs.registry import task


@task("ml.train", queue="ml_tasks", title="Train models")
def train(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    run = ml.train(
        params["dataset_id"], target=params["target"], task=params.get("task"), models=params.get("models"),
        cv=int(params.get("cv", 5)), tune_seconds=int(params.get("tune_seconds", 0)),
        seed=int(params.get("seed", 42)), imbalance=bool(params.get("imbalance", False)), progress=progress,
        time_budget=params.get("time_budget", DEFAULT_BUDGET_S),
    )
    return {"run_id": str(run.id), "best_model_id": str(run.best_model_id), "task": run.task,
            "primary_metric": run.primary_metric, "leaderboard": run.leaderboard, "notes": run.notes,
            "skipped": run.params.get("skipped", [])}
