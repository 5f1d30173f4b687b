"""Tools for models and jobs: start a training job, report a job's status, predict with a trained model."""

from __future__ import annotations

import json
from typing import Literal

import pandas as pd
from pydantic import Field

from agents import resolve
from agents.tools.registry import Args, DatasetArg, ToolResult


class TrainArgs(DatasetArg):
    target: str = Field(description="Column to predict.")
    models: list[str] | None = Field(None, description="Model names to try (default: a sensible set).")
    task: Literal["classification", "regression"] | None = Field(None, description="Default: inferred.")


class JobArgs(Args):
    job: str | None = Field(None, description="Job id (default: the most recent job).")


class PredictArgs(DatasetArg):
    model: str = Field(description="Model name or id.")


def train_ml_model(args: TrainArgs) -> ToolResult:
    import jobs

    ds = resolve.dataset(args.dataset)
    target = resolve.column(ds, args.target)
    job = jobs.submit("ml.train", title=f"Train {target} on {ds.name}", dataset_id=str(ds.id), target=target,
                      task=args.task, models=args.models)
    return ToolResult(f"Started training a model to predict {target} on {ds.name} (job {job.id}). "
                      "Follow it on the Jobs page or ask me for the job status.", job_id=str(job.id))


def get_job_status(args: JobArgs) -> ToolResult:
    import jobs

    if args.job:
        job = jobs.get_job(args.job)
    else:
        recent = jobs.list_jobs(limit=1)
        if not recent:
            return ToolResult("There are no jobs yet.")
        job = recent[0]
    text = f"Job {job.title or job.kind} is {job.status} ({job.progress:.0%}): {job.message or job.status}."
    if job.error:
        text += f" Error: {job.error}"
    table = None
    if job.result and job.status == "succeeded":
        board = job.result.get("leaderboard")
        if isinstance(board, list) and board and isinstance(board[0], dict):
            table = pd.DataFrame(board)
            text += f" Best model: {job.result.get('best_model_id')} ({job.result.get('primary_metric', '')})."
            skipped = job.result.get("skipped") or []
            if skipped:
                text += " Not trained (time budget spent): " + ", ".join(str(m.get("label")) for m in skipped) + "."
        else:
            text += " Result: " + json.dumps(job.result, default=str)[:600]
    return ToolResult(text, table=table, job_id=str(job.id))


def predict(args: PredictArgs) -> ToolResult:
    from core import ml

    ds = resolve.dataset(args.dataset)
    model = ml.get_model(args.model)
    from core import datasets, dl

    predictor = dl.predict if dl.is_deep(model) else ml.predict  # networks live in the same model table
    out = predictor(model.id, datasets.load_frame(ds.id))
    warnings = "; ".join(map(str, out.attrs.get("warnings", [])))
    return ToolResult(f"Predicted {len(out):,} row(s) of {ds.name} with model {model.name} ({model.algorithm}, "
                      f"target {model.target})." + (f" Warnings: {warnings}" if warnings else ""), table=out)

