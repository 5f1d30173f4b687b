"""Forecasting windows: what a sequence network sees and predicts, and how its output maps back to values.

A network does not see levels. On a trending series (co2) the test years lie above every training value, and
a network over standardised levels cannot extrapolate there. So each window is expressed relative to its
own last value, and the network predicts the residual of the seasonal-naive forecast (the value one season
before each step; the last value when the season is longer than the window), standardised per horizon step.
An untrained network (output 0) thus forecasts the seasonal-naive value plus the training windows' mean
seasonal change (drift); training learns what the window says beyond that. Every statistic comes from the
training windows only and is stored in the model's schema.

Schemas without `encoding` come from networks trained on standardised levels (`scale` = [mean, std]); they
still predict as before.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

ENCODING = "seasonal_residual"


def windows(values: np.ndarray, window: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every run of `window` values (n, window) and the `horizon` values after it (n, horizon), as levels."""
    n = len(values) - window - horizon + 1
    starts = np.arange(n)[:, None]
    return values[starts + np.arange(window)], values[starts + window + np.arange(horizon)]


def naive_steps(window: int, horizon: int, season: int) -> list[int]:
    """The window position the seasonal-naive forecast copies for each horizon step (1..horizon)."""
    m = season if season <= window else 1
    return [window - 1 + h - m * math.ceil(h / m) for h in range(1, horizon + 1)]


def seasonal_naive(level_windows: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """For each window, step h is the value one (or more) seasons before it; a season longer than the
    window falls back to the last value."""
    return level_windows[:, naive_steps(level_windows.shape[1], horizon, season)]


def fit(level_windows: np.ndarray, level_targets: np.ndarray, season: int) -> dict[str, Any]:
    """The encoding's statistics from the training windows (levels) and their targets."""
    relative = level_windows - level_windows[:, -1:]
    residual = level_targets - seasonal_naive(level_windows, level_targets.shape[1], season)
    return {
        "encoding": ENCODING,
        "x_scale": _std(relative),
        "residual_mean": residual.mean(0).tolist(),
        "residual_std": [_std(residual[:, h]) for h in range(residual.shape[1])],
    }


def _std(values: np.ndarray) -> float:
    std = float(np.std(values))
    return std if math.isfinite(std) and std > 1e-12 else 1.0


def inputs(level_windows: np.ndarray, schema: dict[str, Any]) -> np.ndarray:
    """The network's input (n, window, 1) for windows of levels."""
    if schema.get("encoding") != ENCODING:
        mean, std = schema["scale"]
        return ((level_windows - mean) / std).astype("float32")[:, :, None]
    return ((level_windows - level_windows[:, -1:]) / schema["x_scale"]).astype("float32")[:, :, None]


def targets(level_windows: np.ndarray, level_targets: np.ndarray, schema: dict[str, Any]) -> np.ndarray:
    """What the network is trained to output (n, horizon) for those windows and their following values."""
    naive = seasonal_naive(level_windows, level_targets.shape[1], int(schema["season"]))
    mean, std = np.asarray(schema["residual_mean"]), np.asarray(schema["residual_std"])
    return ((level_targets - naive - mean) / std).astype("float32")


def forecast(raw: np.ndarray, level_windows: np.ndarray, schema: dict[str, Any]) -> np.ndarray:
    """The forecast values (n, horizon) from the network's raw output on those windows."""
    raw = np.asarray(raw, dtype="float64")
    if schema.get("encoding") != ENCODING:
        mean, std = schema["scale"]
        return raw * std + mean
    naive = seasonal_naive(level_windows, raw.shape[1], int(schema["season"]))
    return naive + raw * np.asarray(schema["residual_std"]) + np.asarray(schema["residual_mean"])
