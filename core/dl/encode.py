"""Table rows to float matrices and back, with every fitted statistic kept as JSON (no pickled transformers).

The encoder is fitted on the training split only and stored in the model's feature schema, so prediction
and generation apply exactly the same numbers: numeric columns standardised (missing: the median),
categorical columns one-hot over their most frequent values plus "other", datetime columns as parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

MAX_ONE_HOT = 20
DATE_PARTS = ("year", "month", "day", "dayofweek", "hour")


def fit(frame: pd.DataFrame, columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per column: how it is encoded, with the training split's statistics."""
    out = []
    for column in columns:
        name, kind = column["name"], column["kind"]
        series = frame[name]
        if kind == "numeric":
            values = pd.to_numeric(series, errors="coerce").astype("float64")
            out.append({"name": name, "kind": kind, **_stats(values)})
        elif kind == "datetime":
            parts = _date_parts(series)
            out.append({"name": name, "kind": kind, "parts": [_stats(parts[:, i]) for i in range(parts.shape[1])]})
        else:
            counts = series.dropna().astype(str).value_counts()
            out.append({"name": name, "kind": "categorical", "categories": [str(c) for c in counts.index[:MAX_ONE_HOT]]})
    return out


def _stats(values: pd.Series | np.ndarray) -> dict[str, float]:
    values = pd.Series(values, dtype="float64")
    median = float(values.median()) if values.notna().any() else 0.0
    filled = values.fillna(median)
    std = float(filled.std(ddof=0)) if len(filled) else 1.0
    return {"median": median, "mean": float(filled.mean()) if len(filled) else 0.0,
            "std": std if np.isfinite(std) and std > 1e-12 else 1.0}


def _date_parts(series: pd.Series) -> np.ndarray:
    dates = pd.to_datetime(series, errors="coerce")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_convert(None)
    return np.column_stack([getattr(dates.dt, p).astype("float64").to_numpy() for p in DATE_PARTS])


def width(encoder: list[dict[str, Any]]) -> int:
    """How many float columns `transform` makes."""
    return sum(1 if e["kind"] == "numeric" else len(DATE_PARTS) if e["kind"] == "datetime"
               else len(e["categories"]) + 1 for e in encoder)


def transform(frame: pd.DataFrame, encoder: list[dict[str, Any]]) -> np.ndarray:
    """The rows as a float32 matrix (columns in encoder order)."""
    blocks = []
    for e in encoder:
        series = frame[e["name"]]
        if e["kind"] == "numeric":
            values = pd.to_numeric(series, errors="coerce").astype("float64").fillna(e["median"]).to_numpy()
            blocks.append(((values - e["mean"]) / e["std"])[:, None])
        elif e["kind"] == "datetime":
            parts = _date_parts(series)
            for i, st in enumerate(e["parts"]):
                col = np.where(np.isnan(parts[:, i]), st["median"], parts[:, i])
                blocks.append(((col - st["mean"]) / st["std"])[:, None])
        else:
            blocks.append(_one_hot(series, e["categories"]))
    return np.concatenate(blocks, axis=1).astype("float32") if blocks else np.empty((len(frame), 0), "float32")


def _one_hot(series: pd.Series, categories: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories)}
    codes = np.array([index.get(str(v), len(categories)) if pd.notna(v) else len(categories) for v in series])
    out = np.zeros((len(series), len(categories) + 1))
    out[np.arange(len(series)), codes] = 1.0
    return out


def inverse(matrix: np.ndarray, encoder: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows with the dataset's columns from encoded floats (the GAN's output): numbers rescaled,
    categories by their largest one-hot score ("other" becomes the most frequent category)."""
    out: dict[str, Any] = {}
    at = 0
    for e in encoder:
        if e["kind"] == "numeric":
            out[e["name"]] = matrix[:, at] * e["std"] + e["mean"]
            at += 1
        elif e["kind"] == "datetime":
            year = matrix[:, at] * e["parts"][0]["std"] + e["parts"][0]["mean"]
            out[e["name"]] = pd.to_datetime(np.clip(np.round(year), 1678, 2261).astype(int).astype(str), format="%Y")
            at += len(DATE_PARTS)
        else:
            n = len(e["categories"]) + 1
            codes = matrix[:, at:at + n - 1].argmax(axis=1) if n > 1 else np.zeros(len(matrix), int)
            out[e["name"]] = np.asarray(e["categories"] or [""], dtype=object)[codes]
            at += n
    return pd.DataFrame(out)
