"""Forecasting windows: a recurrent network beats the seasonal-naive forecast on a trending seasonal series,
and every statistic of the encoding comes from the training windows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import dl
from core.dl import series
from core.dl.data import prepare
from core.dl.spec import FRAMEWORKS, make_spec
from tests.unit.test_dl_train import TINY, store


def trending(rows: int = 120, noise: float = 0.1) -> pd.DataFrame:
    """Monthly: a yearly cycle on a trend that takes the test years above every training value (as co2)."""
    t = np.arange(rows)
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "month": pd.date_range("2000-01-01", periods=rows, freq="MS"),
            "co2": 300 + 0.2 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, noise, rows),
        }
    )


def spec_for(window: int = 12, horizon: int = 1):
    return make_spec(
        architecture="lstm",
        framework="pytorch",
        task="sequence_prediction",
        epochs=1,
        batch_size=8,
        learning_rate=1e-3,
        seed=0,
        options={"window": window, "horizon": horizon},
    )


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_lstm_beats_the_seasonal_naive_forecast_on_a_trending_series(framework) -> None:
    # Given a trending monthly series whose test values lie above the whole training range
    frame = trending()
    ds = store(frame, f"trend-{framework}")
    # When an LSTM trains for a few short epochs with the default encoding
    run = dl.train(
        ds,
        architecture="lstm",
        framework=framework,
        target="co2",
        epochs=3,
        batch_size=16,
        options={**TINY, "hidden": 16, "window": 12, "time_column": "month"},
    )
    # Then its test MASE is below the seasonal-naive forecast's, by a margin (levels-based nets miss it here)
    assert run.metrics["season"] == 12
    assert run.metrics["mase"] < 0.8 * run.metrics["naive_mase"], run.metrics
    # and the forecast of the next month continues the trend from the last observed values
    out = dl.predict(run.model_id, frame.tail(24))
    assert frame["co2"].iloc[-12] < out["forecast_h1"].iloc[-1] < frame["co2"].iloc[-12] + 5


def test_the_encoding_uses_the_training_windows_only() -> None:
    # Given a series, and the same series with its validation and test part replaced by wild values
    frame, changed = trending(), trending()
    p = prepare(frame, spec_for(), "co2", "ds")
    first_val = len(p.x_train)
    changed.loc[first_val + 12 :, "co2"] = 1e4 * np.arange(len(changed) - first_val - 12)
    q = prepare(changed, spec_for(), "co2", "ds")
    # Then the fitted statistics and the training arrays are exactly the same
    keys = ("x_scale", "residual_mean", "residual_std", "encoding")
    assert {k: p.schema[k] for k in keys} == {k: q.schema[k] for k in keys}
    assert np.array_equal(p.x_train, q.x_train) and np.array_equal(p.y_train, q.y_train)
    # and they are the training windows' own: targets standardised there (mean 0, sd 1), inputs level-free
    assert abs(p.y_train.mean()) < 1e-5 and p.y_train.std() == pytest.approx(1.0, abs=1e-4)
    assert np.allclose(p.x_train[:, -1, 0], 0.0) and not np.allclose(p.x_val.std(), 0.0)


@pytest.mark.parametrize(("window", "horizon"), [(12, 1), (12, 3), (24, 14), (6, 2)])
def test_targets_map_back_to_the_values_and_zero_is_seasonal_naive_plus_drift(window, horizon) -> None:
    # Given windows of a series as levels, and the encoding fitted on them
    values = trending(96)["co2"].to_numpy()
    level_x, level_y = series.windows(values, window, horizon)
    schema = {"season": 12, **series.fit(level_x, level_y, 12)}
    # Then the network's targets decode to exactly the values that followed each window
    assert np.allclose(series.forecast(series.targets(level_x, level_y, schema), level_x, schema), level_y)
    # and an output of zero forecasts the seasonal-naive value plus the training windows' mean change
    naive = series.seasonal_naive(level_x, horizon, 12)
    zero = series.forecast(np.zeros_like(level_y), level_x, schema)
    assert np.allclose(zero, naive + np.asarray(schema["residual_mean"]))
    assert series.inputs(level_x, schema).shape == (len(level_x), window, 1)


def test_a_schema_without_encoding_is_read_as_standardised_levels() -> None:
    # Given the schema of a network trained before the encoding existed
    legacy = {"scale": [10.0, 2.0], "season": 12}
    level_x = np.array([[10.0, 12.0, 14.0]])
    # Then its inputs and outputs are standardised levels, as they were
    assert np.allclose(series.inputs(level_x, legacy)[0, :, 0], [0.0, 1.0, 2.0])
    assert np.allclose(series.forecast(np.array([[1.5]]), level_x, legacy), [[13.0]])
