"""Cross-validation: the data of one run (held-out split + training split), pipelines, and k-fold scoring.

This is the lower layer that both `core.ml.train` and `core.ml.tune` build on; it imports neither.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.class_weight import compute_sample_weight
from threadpoolctl import threadpool_limits

from core.errors import JobCancelled
from core.ml.catalog import CLASSIFICATION, ModelSpec, cpu_threads, get_spec
from core.ml.metrics import PRIMARY, compute_metrics, predict_scores
from core.ml.preprocess import FeaturePlan, build_preprocessor
from core.progress import Progress

log = logging.getLogger(__name__)


@dataclass
class Split:
    """The data of one run: a held-out test split and the training split that CV folds."""

    plan: FeaturePlan
    x_train: pd.DataFrame
    x_test: pd.DataFrame
    y_train: np.ndarray
    y_test: np.ndarray
    seed: int
    imbalance: bool
    cv: int

    @property
    def task(self) -> str:
        return self.plan.task

    @property
    def n_classes(self) -> int:
        return len(self.plan.classes)


@dataclass
class Ticker:
    """Progress over a known number of fold fits; raises JobCancelled through `progress`."""

    progress: Progress
    total: int
    done: int = 0
    points: list[dict[str, Any]] = field(default_factory=list)

    def fold(self, message: str, point: dict[str, Any]) -> None:
        self.done += 1
        point = {"step": self.done, **{k: json_safe(v) for k, v in point.items()}}
        self.points.append(point)
        self.progress(min(0.95, 0.9 * self.done / max(self.total, 1)), message, point)


def json_safe(value: Any) -> Any:
    """NaN and infinity become None (PostgreSQL's JSON refuses them)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def make_pipeline(spec: ModelSpec, split: Split, options: dict[str, Any] | None = None) -> Pipeline:
    options = {"n_rows": len(split.x_train), **(options or {})}
    return Pipeline([("prep", build_preprocessor(split.plan)), ("model", spec.build(split.task, split.seed, options))])


def fit_pipeline(pipe: Pipeline, spec: ModelSpec, x: pd.DataFrame, y: np.ndarray, split: Split) -> float:
    """Fit and return the seconds it took (with balanced sample weights when asked and supported)."""
    kwargs = {}
    if split.imbalance and split.task == CLASSIFICATION and spec.sample_weight:
        kwargs["model__sample_weight"] = compute_sample_weight("balanced", y)
    started = time.perf_counter()
    with warnings.catch_warnings(), threadpool_limits(cpu_threads(len(x))):
        warnings.simplefilter("ignore")
        pipe.fit(x, y, **kwargs)
    return time.perf_counter() - started


def _folds(split: Split) -> list[tuple[np.ndarray, np.ndarray]]:
    cls = StratifiedKFold if split.task == CLASSIFICATION else KFold
    return list(cls(n_splits=split.cv, shuffle=True, random_state=split.seed).split(split.x_train, split.y_train))


def cross_validate_model(key: str, split: Split, ticker: Ticker, options: dict[str, Any] | None = None,
                         *, tag: str = "") -> dict[str, Any]:
    """k-fold CV of one model: per-fold metrics and fit time, one progress point per fold."""
    spec = get_spec(key, split.task)
    name = f"{spec.label}{tag}"
    folds: list[dict[str, float]] = []
    try:
        for number, (fit_idx, val_idx) in enumerate(_folds(split), 1):
            pipe = make_pipeline(spec, split, options)
            fit_s = fit_pipeline(pipe, spec, split.x_train.iloc[fit_idx], split.y_train[fit_idx], split)
            pred, proba = predict_scores(pipe, split.x_train.iloc[val_idx], split.n_classes)
            scores = compute_metrics(split.task, split.y_train[val_idx], pred, proba, split.n_classes)
            folds.append({**scores, "fit_time_s": fit_s})
            primary = PRIMARY[split.task]
            ticker.fold(f"{name}: fold {number}/{split.cv} · {primary} {scores[primary]:.4f}",
                        {"model": key + tag, "fold": number, primary: round(scores[primary], 6),
                         "fit_time_s": round(fit_s, 4)})
    except JobCancelled:
        raise
    except Exception as exc:  # one model failing must not sink the others
        log.warning("model %s failed", key, exc_info=exc)
        return {"model": key, "label": name, "params": options or {}, "error": f"{type(exc).__name__}: {exc}"}
    return {"model": key, "label": name, "params": options or {}, "folds": folds}
