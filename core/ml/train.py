"""Training: task detection, a held-out test split, k-fold cross-validation of every chosen model (compare
mode: within a wall-time budget, screened by successive halving on large data, see `core.ml.screen`),
optional Optuna tuning within a time budget, and the best model refitted and stored.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from core import datasets
from core.errors import ModelError
from core.ml import artifacts
from core.ml.catalog import CLASSIFICATION, available_models, get_spec
from core.ml.cv import Split, Ticker, fit_pipeline, json_safe, make_pipeline
from core.ml.metrics import PRIMARY, compute_metrics, predict_scores
from core.ml.preprocess import FeaturePlan, check_target, coerce_features, plan_features
from core.ml.screen import DEFAULT_BUDGET_S, check_budget, check_large_rows, compare
from core.ml.tune import tune
from core.models.ml import MLModel, TrainingRun
from core.progress import Progress, no_progress

log = logging.getLogger(__name__)

SLOW_ON_LARGE = ("svm", "knn", "mlp")  # left out of compare mode above LARGE_ROWS unless asked for
LARGE_ROWS = 50_000  # compare mode on more training rows than this screens on samples (core.ml.screen)


@dataclass
class Preflight:
    """What training would do, checked before any model is fitted."""

    task: str
    rows: int
    features: list[str]
    dropped: list[dict[str, str]]
    models: list[str]
    notes: list[str]


def check_training(dataset_id: uuid.UUID | str, *, target: str, task: str | None = None,
                   models: list[str] | None = None, cv: int = 5, test_size: float = 0.2,
                   time_budget: float | None = DEFAULT_BUDGET_S) -> Preflight:
    """Check a training request without fitting anything: the task, the usable columns, the notes.

    Raises InvalidInput / ModelError for the problems `train` would refuse.
    """
    check_budget(time_budget)
    frame = datasets.load_frame(dataset_id)
    task = check_target(frame, target, task, cv=int(cv), test_size=test_size)
    plan = plan_features(frame, target, task)
    _note_missing_target(plan, frame, target)
    keys = choose_models(models, task, len(frame), plan.notes)
    return Preflight(task, int(frame[target].notna().sum()), plan.names(), plan.dropped, keys, plan.notes)


def train(dataset_id: uuid.UUID | str, *, target: str, task: str | None = None, models: list[str] | None = None,
          cv: int = 5, tune_seconds: int = 0, progress: Progress | None = None, seed: int = 42,
          imbalance: bool = False, test_size: float = 0.2, time_budget: float | None = DEFAULT_BUDGET_S,
          large_rows: int = LARGE_ROWS) -> TrainingRun:
    """Cross-validate the chosen models (all that apply when `models` is None) and keep the best.

    Compare mode (`models` None) keeps to `time_budget` seconds of wall time (None: no limit; the tuning
    seconds come on top): the budget is checked between models, and models it leaves out are listed in
    `run.params["skipped"]` and the notes. With more than `large_rows` training rows it screens on
    stratified samples with fewer folds (successive halving) and refits the best on the whole training split.
    Raises InvalidInput / ModelError before any training for unusable targets, too few rows, no
    usable feature or a budget out of range; JobCancelled when `progress` reports a cancellation.
    """
    progress = progress or no_progress
    started = time.monotonic()
    budget, large_rows = check_budget(time_budget), check_large_rows(large_rows)
    ds = datasets.get_dataset(dataset_id)
    frame = datasets.load_frame(ds.id)
    task = check_target(frame, target, task, cv=int(cv), test_size=test_size)
    plan = plan_features(frame, target, task)
    _note_missing_target(plan, frame, target)
    keys = choose_models(models, task, len(frame), plan.notes, large_rows=large_rows)
    split = make_split(frame[frame[target].notna()], plan, seed=seed, test_size=test_size, cv=int(cv),
                       imbalance=imbalance)
    ticker = Ticker(progress, total=len(keys) * split.cv)
    if models:  # explicit models: all of them, k-fold on the whole training split, no budget
        progress(0.0, f"Training {len(keys)} model(s) with {split.cv}-fold cross-validation", None)
        screening = compare(keys, split, ticker, budget=None, started=started, large_rows=len(split.x_train))
    else:
        large = len(split.x_train) > large_rows
        progress(0.0, f"Comparing {len(keys)} model(s) with "
                      f"{'screening on samples' if large else f'{split.cv}-fold cross-validation'}"
                      f"{f' within {budget:g} s' if budget else ''}", None)
        screening = compare(keys, split, ticker, budget=budget, started=started, large_rows=large_rows)
    plan.notes.extend(screening.notes)
    results = screening.results
    if tune_seconds > 0:
        results += _tune_best(results, screening.split, ticker, tune_seconds)
    board = leaderboard(results, task)
    best = next((r for r in board if r.get("best")), None)
    if best is None:
        raise ModelError("Every model failed to train.", hint="; ".join(r.get("error", "") for r in board)[:500])
    progress(0.95, f"Refitting {best['label']} on the whole training split", None)
    run = TrainingRun(dataset_id=ds.id, dataset_name=ds.name, dataset_version=ds.version, target=target, task=task,
                      primary_metric=PRIMARY[task], cv=split.cv, seed=seed, leaderboard=board, notes=plan.notes,
                      params={"models": keys, "tune_seconds": tune_seconds, "imbalance": imbalance,
                              "test_size": test_size, "n_rows": len(frame), "curves": ticker.points,
                              "time_budget": budget if not models else None, "large_rows": large_rows,
                              "skipped": screening.skipped, "rounds": screening.rounds})
    model = fit_final(best, split, run)
    run.best_model_id = model.id
    run.duration_s = round(time.monotonic() - started, 3)
    artifacts.save_rows(run, model)
    progress(1.0, f"Best: {best['label']} ({PRIMARY[task]} {best[PRIMARY[task] + '_mean']:.4f})", None)
    return run


def _note_missing_target(plan: FeaturePlan, frame: pd.DataFrame, target: str) -> None:
    missing = int(frame[target].isna().sum())
    if missing:
        plan.notes.append(f"{missing:,} row(s) without a value of {target!r} were left out.")


def choose_models(models: list[str] | None, task: str, rows: int, notes: list[str], *,
                  large_rows: int = LARGE_ROWS) -> list[str]:
    """The requested models checked against the task, or every applicable one (compare mode)."""
    if models:
        return [get_spec(key, task).key for key in dict.fromkeys(models)]
    keys = available_models(task)
    if rows > large_rows:
        keys = [k for k in keys if k not in SLOW_ON_LARGE]
        notes.append(f"With {rows:,} rows, compare mode leaves out the slow models ({', '.join(SLOW_ON_LARGE)}); "
                     "choose them explicitly to include them.")
    return keys


def make_split(frame: pd.DataFrame, plan: FeaturePlan, *, seed: int, test_size: float, cv: int,
               imbalance: bool) -> Split:
    """Encode the target and make the held-out test split (stratified for classification)."""
    x = coerce_features(frame, plan.schema())
    raw_y = frame[plan.target]
    stratify = None
    if plan.task == CLASSIFICATION:
        codes, classes = pd.factorize(raw_y, sort=True)
        plan.classes = [_plain(c) for c in classes]
        y = codes.astype("int64")
        stratify = y
    else:
        y = pd.to_numeric(raw_y).to_numpy(dtype="float64")
    n_test = max(math.ceil(test_size * len(frame)), len(plan.classes))
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=n_test, random_state=seed,
                                                        stratify=stratify)
    return Split(plan, x_train, x_test, y_train, y_test, seed=seed, imbalance=imbalance, cv=cv)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def leaderboard(results: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    """One row per model: each metric's CV mean and std and the mean fit time; the best marked."""
    rows = []
    for result in results:
        row = {"model": result["model"], "label": result["label"], "params": result["params"],
               "tuned": "(tuned)" in result["label"], "best": False}
        if "cv_rows" in result:  # screened on a sample (large data): how many rows, folds, which round
            row |= {"round": result["round"], "cv_rows": result["cv_rows"], "cv_folds": result["cv_folds"]}
        if "error" in result:
            rows.append({**row, "error": result["error"]})
            continue
        frame = pd.DataFrame(result["folds"])
        for metric in frame.columns:
            values = frame[metric].astype(float)
            row[f"{metric}_mean"] = _finite(values.mean())
            row[f"{metric}_std"] = _finite(values.std(ddof=0))
        rows.append(row)
    primary = f"{PRIMARY[task]}_mean"
    ok = [r for r in rows if r.get(primary) is not None]
    ok.sort(key=lambda r: (r.get("round", 0), r[primary]), reverse=True)  # the last screening round first
    if ok:
        ok[0]["best"] = True
    return ok + [r for r in rows if r.get(primary) is None]


def _finite(value: float) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _tune_best(results: list[dict[str, Any]], split: Split, ticker: Ticker, seconds: int) -> list[dict[str, Any]]:
    board = leaderboard(results, split.task)
    best = next((r for r in board if r.get("best")), None)
    if best is None or not get_spec(best["model"], split.task).space:
        return []
    tuned = tune(best["model"], split, ticker, seconds)
    if tuned and "cv_rows" in best:  # tuned on the last screening round's sample: it ranks with that round
        tuned.update(round=best["round"], cv_rows=best["cv_rows"], cv_folds=best["cv_folds"])
    return [tuned] if tuned else []


def fit_final(best: dict[str, Any], split: Split, run: TrainingRun) -> MLModel:
    """Refit the best model on the training split, score it on the held-out test split, store it."""
    spec = get_spec(best["model"], split.task)
    pipe = make_pipeline(spec, split, best["params"])
    fit_s = fit_pipeline(pipe, spec, split.x_train, split.y_train, split)
    pred, proba = predict_scores(pipe, split.x_test, split.n_classes)
    test = {k: json_safe(v) for k, v in compute_metrics(split.task, split.y_test, pred, proba,
                                                         split.n_classes).items()}
    cv = {k: v for k, v in best.items() if k.endswith(("_mean", "_std"))}
    model_id = uuid.uuid4()
    path, digest, size = artifacts.save_pipeline(model_id, pipe)
    return MLModel(
        id=model_id, name=f"{run.dataset_name} · {run.target} · {best['label']}", run_id=run.id, task=split.task,
        algorithm=spec.key, target=run.target, params=_json_params(best["params"]),
        metrics={"cv": cv, "test": test, "fit_time_s": round(fit_s, 4), "primary": PRIMARY[split.task],
                 "n_train": len(split.x_train), "n_test": len(split.x_test), "learning_curve": learning_curve(pipe)},
        feature_schema={**split.plan.schema(), "seed": split.seed, "test_size": len(split.x_test),
                        "imbalance": split.imbalance},
        dataset_id=run.dataset_id, dataset_version=run.dataset_version,
        library_versions=artifacts.library_versions(), artifact_path=path, sha256=digest, size_bytes=size,
    )


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in params.items()}


def learning_curve(pipe: Pipeline) -> dict[str, Any] | None:
    """Per-iteration training curves where the model records them (MLP loss, gradient-boosting scores)."""
    model = pipe.named_steps["model"]
    if hasattr(model, "loss_curve_"):
        series = {"training loss": [float(v) for v in model.loss_curve_]}
        if getattr(model, "validation_scores_", None) is not None:
            series["validation score"] = [float(v) for v in model.validation_scores_]
        return {"x_label": "epoch", "series": series}
    if getattr(model, "train_score_", None) is not None and len(model.train_score_):
        series = {"training score": [float(v) for v in model.train_score_]}
        if getattr(model, "validation_score_", None) is not None and len(model.validation_score_):
            series["validation score"] = [float(v) for v in model.validation_score_]
        return {"x_label": "iteration", "series": series}
    return None


__all__ = ["Preflight", "check_training", "leaderboard", "train"]
