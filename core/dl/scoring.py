"""Test-split scores of a network with the metric names of `core.ml`, plus the task's own figures
(MASE against a seasonal-naive forecast, anomaly AUC, GAN fidelity)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sstats
from sklearn import metrics as skm

from core.dl import series
from core.dl.data import Prepared
from core.dl.spec import ANOMALY, CLASSIFIERS, REGRESSION, SEQUENCE
from core.ml.catalog import CLASSIFICATION
from core.ml.metrics import compute_metrics

PRIMARY = {"classification": "accuracy", "image_classification": "accuracy", "text_classification": "accuracy",
           "regression": "r2", "sequence_prediction": "mase", "anomaly_detection": "roc_auc",
           "generative": "mean_column_distance"}
LOWER_IS_BETTER = {"mase", "mean_column_distance", "mse", "mae", "rmse", "log_loss"}


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def unscale(values: np.ndarray, scale: list[float]) -> np.ndarray:
    return values * scale[1] + scale[0]


def test_scores(task: str, p: Prepared, raw: np.ndarray, train_raw: np.ndarray | None = None) -> dict[str, Any]:
    """Metrics on the held-out split from the network's raw outputs on `p.x_test`."""
    if task in CLASSIFIERS:
        proba = softmax(raw)
        return _clean(compute_metrics(CLASSIFICATION, p.y_test, proba.argmax(1), proba, p.n_out))
    if task == REGRESSION:
        scale = p.schema["y_scale"]
        return _clean(compute_metrics(REGRESSION, unscale(p.y_test, scale), unscale(raw[:, 0], scale), None, 0))
    if task == SEQUENCE:
        return sequence_scores(p, raw)
    if task == ANOMALY:
        return anomaly_scores(p, reconstruction_error(p.x_test, raw), train_raw)
    return {}


def _clean(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(v) if v is not None and math.isfinite(v) else None) for k, v in values.items()}


def baseline(task: str, p: Prepared) -> dict[str, float]:
    """A trivial model's score: the majority class, the training mean, the last value."""
    if task in CLASSIFIERS:
        majority = np.bincount(p.y_train).argmax()
        return {"accuracy": float((p.y_test == majority).mean())}
    if task == REGRESSION:
        return {"r2": 0.0}
    return {}


def test_levels(p: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """A forecaster's test windows and the values that followed them, as levels of the series."""
    level_x, level_y = series.windows(p.levels, int(p.schema["window"]), int(p.schema["horizon"]))
    first = int(p.schema["first_test"])
    return level_x[first:], level_y[first:]


def sequence_scores(p: Prepared, raw: np.ndarray) -> dict[str, Any]:
    """Test metrics in the series' units, and MASE: the error scaled by the training part's in-sample
    seasonal-naive error (the seasonal-naive forecast's own MASE beside it)."""
    season, window = int(p.schema["season"]), int(p.schema["window"])
    windows, truth = test_levels(p)
    pred = series.forecast(raw, windows, p.schema)
    naive = series.seasonal_naive(windows, truth.shape[1], season)
    history = p.levels[:len(p.x_train) + window]  # the values the training windows and their targets cover
    lag = season if len(history) > season else 1
    denominator = float(np.mean(np.abs(history[lag:] - history[:-lag]))) or 1.0
    out = _clean(compute_metrics(REGRESSION, truth.ravel(), pred.ravel(), None, 0))
    naive_mae = float(np.mean(np.abs(truth - naive)))
    out.update({"mase": out["mae"] / denominator, "naive_mae": naive_mae, "naive_mase": naive_mae / denominator,
                "season": season})
    return out


def reconstruction_error(x: np.ndarray, recon: np.ndarray) -> np.ndarray:
    return np.mean((x - recon) ** 2, axis=1)


def anomaly_scores(p: Prepared, test_errors: np.ndarray, train_errors: np.ndarray | None) -> dict[str, Any]:
    quantile = float(p.schema.get("threshold_quantile", 0.95))
    threshold = float(np.quantile(train_errors if train_errors is not None else test_errors, quantile))
    out: dict[str, Any] = {"threshold": threshold, "flagged_share": float((test_errors > threshold).mean()),
                           "mean_score": float(test_errors.mean())}
    if p.schema.get("label") and len(np.unique(p.y_test)) == 2:
        out["roc_auc"] = float(skm.roc_auc_score(p.y_test, test_errors))
    return out


def fidelity(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, Any]:
    """Per column a distance (Kolmogorov-Smirnov for numbers, total variation for categories, 0 = same),
    and the mean absolute difference between the two correlation matrices."""
    columns = []
    for name in synthetic.columns:
        a, b = real[name].dropna(), synthetic[name].dropna()
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            dist, kind = float(sstats.ks_2samp(a.astype(float), b.astype(float)).statistic), "ks"
        else:
            pa_, pb = a.astype(str).value_counts(normalize=True), b.astype(str).value_counts(normalize=True)
            dist, kind = float(0.5 * pa_.sub(pb, fill_value=0).abs().sum()), "tvd"
        columns.append({"column": str(name), "distance": dist, "measure": kind})
    numeric = [c for c in synthetic.columns if pd.api.types.is_numeric_dtype(synthetic[c])
               and pd.api.types.is_numeric_dtype(real[c])]
    corr_diff = None
    if len(numeric) >= 2:
        diff = (real[numeric].astype(float).corr() - synthetic[numeric].astype(float).corr()).abs().to_numpy()
        upper = diff[np.triu_indices(len(numeric), 1)]
        corr_diff = float(np.nanmean(upper)) if np.isfinite(upper).any() else None
    mean = float(np.mean([c["distance"] for c in columns])) if columns else None
    return {"mean_column_distance": mean, "correlation_difference": corr_diff, "columns": columns}


def sort_key(metric: str, value: float | None) -> float:
    if value is None:
        return math.inf
    return value if metric in LOWER_IS_BETTER else -value


__all__ = ["PRIMARY", "baseline", "fidelity", "test_scores"]
