"""Scores: classification (accuracy, precision, recall, F1, ROC AUC, log loss) and regression
(MSE, MAE, RMSE, R2), computed the same way for CV folds and the held-out test split."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn import metrics as skm
from threadpoolctl import threadpool_limits

from core.ml.catalog import CLASSIFICATION, REGRESSION, cpu_threads

PRIMARY = {CLASSIFICATION: "accuracy", REGRESSION: "r2"}
HIGHER_IS_BETTER = {"accuracy": True, "precision": True, "recall": True, "f1": True, "roc_auc": True,
                    "log_loss": False, "mse": False, "mae": False, "rmse": False, "r2": True}


def predict_scores(pipe: Any, x: Any, n_classes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Predictions, and for classifiers the probability of every class (columns 0..n_classes-1)."""
    with threadpool_limits(cpu_threads(len(x))):
        pred = np.asarray(pipe.predict(x))
        if n_classes == 0 or not hasattr(pipe, "predict_proba"):
            return pred, None
        raw = np.asarray(pipe.predict_proba(x), dtype="float64")
    proba = np.zeros((len(pred), n_classes))
    proba[:, np.asarray(pipe.classes_, dtype=int)] = raw
    return pred.astype(int), proba


def compute_metrics(task: str, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None,
                    n_classes: int) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task == REGRESSION:
            return _regression(y_true, y_pred)
        return _classification(y_true, y_pred, proba, n_classes)


def _regression(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    mse = float(skm.mean_squared_error(y_true, y_pred))
    return {"r2": float(skm.r2_score(y_true, y_pred)), "mse": mse, "rmse": float(np.sqrt(mse)),
            "mae": float(skm.mean_absolute_error(y_true, y_pred))}


def _classification(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None,
                    n_classes: int) -> dict[str, float]:
    average = "binary" if n_classes == 2 else "macro"
    labels = list(range(n_classes))
    out = {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(skm.precision_score(y_true, y_pred, average=average, labels=labels, zero_division=0)),
        "recall": float(skm.recall_score(y_true, y_pred, average=average, labels=labels, zero_division=0)),
        "f1": float(skm.f1_score(y_true, y_pred, average=average, labels=labels, zero_division=0)),
    }
    if proba is not None:
        out["roc_auc"] = _roc_auc(y_true, proba, n_classes)
        out["log_loss"] = float(skm.log_loss(y_true, np.clip(proba, 1e-15, 1), labels=labels))
    return out


def _roc_auc(y_true: np.ndarray, proba: np.ndarray, n_classes: int) -> float:
    try:
        if n_classes == 2:
            return float(skm.roc_auc_score(y_true, proba[:, 1]))
        norm = proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-15, None)
        return float(skm.roc_auc_score(y_true, norm, multi_class="ovr", labels=list(range(n_classes))))
    except ValueError:  # a class absent from this fold
        return float("nan")
