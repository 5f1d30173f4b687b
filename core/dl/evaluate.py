"""Evaluation of a stored network on its own held-out test split, with the figures of `core.ml.evaluate`.

The split is rebuilt by `core.dl.data.prepare` from the dataset version the network was trained on, with
the stored spec (seed, test size, window...), so the rows, the encoding and hence the metrics are the ones
training reported. Classifiers get a confusion matrix, ROC and precision-recall curves; regression the
predicted-vs-actual and residual plots; a forecaster its test windows against the actual series plus
residuals; an autoencoder a histogram of anomaly scores with its threshold (and, with a label, the
classifier figures at that threshold). A GAN has no test split: its fidelity report is on the model.
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.dl import scoring, series
from core.dl.data import Prepared, ordered_series, prepare
from core.dl.predict import _deep
from core.dl.spec import CLASSIFIERS, GENERATIVE, REGRESSION, SEQUENCE
from core.dl.train import held_out_outputs, load_network
from core.errors import ModelError
from core.ml.evaluate import Evaluation, classification_figures, regression_figures, training_frame
from core.models.ml import MLModel

CHANGED_HINT = "Train the network again on the current data to evaluate it."


def evaluate(model_id: uuid.UUID | str) -> Evaluation:
    """Test-split metrics (as stored at training) and figures of a network.

    Raises NotFound for an unknown id; ModelError for a classical model (use core.ml.evaluate), a deleted
    dataset, or data that no longer gives the network's test split.
    """
    model = _deep(model_id, instead="core.ml.evaluate")
    if model.task == GENERATIVE:
        return Evaluation(str(model.id), dict(model.metrics.get("test", {})),
                          notes=["A GAN has no test split: its fidelity report compares generated and real rows."])
    frame = training_frame(model)
    spec, net, engine = load_network(model)
    prepared = prepare(frame, spec, model.target or None, str(model.dataset_id))
    _check_same_split(model, prepared)
    raw, train_errors = held_out_outputs(engine, net, model.task, prepared)
    result = Evaluation(str(model.id), scoring.test_scores(model.task, prepared, raw, train_errors),
                        notes=[f"Held-out test split rebuilt as in training: {len(prepared.x_test):,} "
                               f"{'windows' if model.task == SEQUENCE else 'rows'} (seed {spec.seed})."])
    result.figures = _figures(model, prepared, raw, frame, result.notes)
    return result


def _figures(model: MLModel, p: Prepared, raw: np.ndarray, frame: pd.DataFrame,
             notes: list[str]) -> dict[str, go.Figure]:
    if model.task in CLASSIFIERS:
        proba = scoring.softmax(raw)
        return classification_figures(p.y_test, proba.argmax(1), proba, [str(c) for c in p.schema["classes"]])
    if model.task == REGRESSION:
        scale = p.schema["y_scale"]
        return regression_figures(scoring.unscale(p.y_test, scale), scoring.unscale(raw[:, 0], scale))
    if model.task == SEQUENCE:
        return forecast_figures(p, raw, frame)
    return anomaly_figures(p, scoring.reconstruction_error(p.x_test, raw), float(model.feature_schema["threshold"]),
                           notes)


def _check_same_split(model: MLModel, prepared: Prepared) -> None:
    """The rebuilt split must have the network's input shape and test size (a changed dataset may not)."""
    stored = model.feature_schema
    if prepared.schema.get("encoding") != stored.get("encoding"):
        raise ModelError(f"Model {model.name!r} was trained with an earlier encoding of its series, which the test "
                         "split is no longer rebuilt with.", hint=CHANGED_HINT)
    if prepared.net_input() != stored.get("net") or len(prepared.x_test) != model.metrics.get("n_test"):
        raise ModelError(f"The data of model {model.name!r} no longer gives the test split it was trained with "
                         "(the dataset version it used is gone and the current one differs).", hint=CHANGED_HINT)


def forecast_figures(p: Prepared, raw: np.ndarray, frame: pd.DataFrame) -> dict[str, go.Figure]:
    """The test windows' forecasts (first and last horizon step) over the actual series, and the residuals."""
    schema = p.schema
    window, horizon, first = int(schema["window"]), int(schema["horizon"]), int(schema["first_test"])
    values, times = ordered_series(frame, schema["value_column"], schema["time_column"])
    times = times.to_numpy()
    windows, truth = scoring.test_levels(p)
    pred = series.forecast(raw, windows, schema)
    fig = go.Figure(go.Scatter(x=times[first + window:], y=values[first + window:], mode="lines", name="actual"))
    for h in sorted({0, horizon - 1}):
        at = first + window + h + np.arange(len(pred))
        fig.add_trace(go.Scatter(x=times[at], y=pred[:, h], mode="lines+markers", name=f"forecast t+{h + 1}"))
    fig.update_layout(title="Forecast vs actual (test windows)", xaxis_title=schema["time_column"],
                      yaxis_title=schema["value_column"])
    residuals = regression_figures(truth.ravel(), pred.ravel())
    return {"Forecast vs actual": fig, "Residuals": residuals["Residuals"],
            "Residual distribution": residuals["Residual distribution"]}


def anomaly_figures(p: Prepared, scores: np.ndarray, threshold: float, notes: list[str]) -> dict[str, go.Figure]:
    """A histogram of the test rows' anomaly scores with the threshold; with a label, the classifier figures
    of "flagged" (score above the threshold) against the label."""
    labelled = bool(p.schema.get("label")) and len(np.unique(p.y_test)) == 2
    table = pd.DataFrame({"anomaly score": scores})
    if labelled:
        table[str(p.schema["label"])] = np.where(p.y_test == 1, "anomaly", "normal")
    hist = px.histogram(table, x="anomaly score", color=str(p.schema["label"]) if labelled else None,
                        barmode="overlay", title="Anomaly scores (test split)")
    hist.add_vline(x=threshold, line_dash="dash", annotation_text=f"threshold {threshold:.4g}")
    figures = {"Anomaly scores": hist}
    if not labelled:
        notes.append("No two-valued label column was named at training, so there is no ROC curve.")
        return figures
    flagged = (scores > threshold).astype("int64")
    return figures | classification_figures(p.y_test, flagged, np.column_stack([-scores, scores]),
                                            ["normal", "anomaly"])
