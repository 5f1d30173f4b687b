"""Evaluation of a stored model on its held-out test split: metrics, Plotly figures, permutation importance.

SHAP explanations live in `core.ml.explain`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pyarrow.parquet as pq
from sklearn import metrics as skm
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from core import datasets, storage
from core.errors import ModelError, NotFound
from core.ml import artifacts
from core.ml.catalog import CLASSIFICATION, cpu_threads
from core.ml.metrics import PRIMARY, compute_metrics, predict_scores
from core.ml.preprocess import coerce_features
from core.models.ml import MLModel

IMPORTANCE_ROWS = 2000


@dataclass
class Evaluation:
    """Test-split metrics, figures by name, the permutation importance table and notes."""

    model_id: str
    metrics: dict[str, float]
    figures: dict[str, go.Figure] = field(default_factory=dict)
    importance: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


def test_split(model: MLModel) -> tuple[pd.DataFrame, np.ndarray]:
    """Rebuild the model's held-out test split from its dataset, seed and size."""
    _, x_test, y_test = split_frames(model)
    return x_test, y_test


def split_frames(model: MLModel) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The model's training features, held-out test features and test target, rebuilt from its dataset."""
    schema = model.feature_schema
    frame = training_frame(model)
    frame = frame[frame[model.target].notna()]
    x = coerce_features(frame, schema)
    stratify = None
    if model.task == CLASSIFICATION:
        y = pd.Index(schema["classes"]).get_indexer(frame[model.target]).astype("int64")
        stratify = y
    else:
        y = pd.to_numeric(frame[model.target]).to_numpy(dtype="float64")
    x_train, x_test, _, y_test = train_test_split(x, y, test_size=int(schema["test_size"]),
                                                  random_state=schema["seed"], stratify=stratify)
    return x_train, x_test, y_test


def training_frame(model: MLModel) -> pd.DataFrame:
    """The dataset version the model was trained on (the current one if that file is gone)."""
    path = storage.local(storage.dataset_file(model.dataset_id, model.dataset_version))
    if path.is_file():
        return pq.read_table(path).to_pandas()
    try:
        return datasets.load_frame(model.dataset_id)
    except NotFound as exc:
        raise ModelError("The dataset this model was trained on has been deleted; evaluation needs it.") from exc


def evaluate(model_id: uuid.UUID | str, *, importance_repeats: int = 3) -> Evaluation:
    """Metrics and figures of a model on its test split. Raises ModelError when its dataset is gone."""
    model = artifacts.get_model(model_id)
    pipe = artifacts.load_pipeline(model)
    x_test, y_test = test_split(model)
    classes = [str(c) for c in model.feature_schema.get("classes", [])]
    pred, proba = predict_scores(pipe, x_test, len(classes))
    result = Evaluation(str(model.id), compute_metrics(model.task, y_test, pred, proba, len(classes)))
    if model.task == CLASSIFICATION:
        result.figures.update(classification_figures(y_test, pred, proba, classes))
    else:
        result.figures.update(regression_figures(y_test, pred))
    result.importance = importance(pipe, x_test, y_test, model.task, importance_repeats)
    result.figures["Feature importance"] = importance_figure(result.importance.head(20))
    curve = model.metrics.get("learning_curve")
    if curve:
        result.figures["Learning curve"] = learning_curve_figure(curve)
    return result


def classification_figures(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None,
                           classes: list[str]) -> dict[str, go.Figure]:
    matrix = skm.confusion_matrix(y, pred, labels=list(range(len(classes))))
    confusion = px.imshow(matrix, x=classes, y=classes, text_auto=True, color_continuous_scale="Blues",
                          labels={"x": "predicted", "y": "actual", "color": "rows"},
                          title="Confusion matrix (test split)")
    confusion.update_xaxes(type="category").update_yaxes(type="category")
    figures = {"Confusion matrix": confusion}
    if proba is None:
        return figures
    roc, pr = go.Figure(), go.Figure()
    shown = [1] if len(classes) == 2 else range(len(classes))
    for code in shown:
        truth = (y == code).astype(int)
        if truth.min() == truth.max():
            continue
        fpr, tpr, _ = skm.roc_curve(truth, proba[:, code])
        precision, recall, _ = skm.precision_recall_curve(truth, proba[:, code])
        name = f"{classes[code]} (AUC {skm.auc(fpr, tpr):.3f})"
        roc.add_trace(go.Scatter(x=fpr, y=tpr, mode="lines", name=name))
        pr.add_trace(go.Scatter(x=recall, y=precision, mode="lines", name=classes[code]))
    roc.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dash"}))
    roc.update_layout(title="ROC curve (one-vs-rest)", xaxis_title="false positive rate",
                      yaxis_title="true positive rate")
    pr.update_layout(title="Precision-recall curve", xaxis_title="recall", yaxis_title="precision")
    return figures | {"ROC curve": roc, "Precision-recall curve": pr}


def regression_figures(y: np.ndarray, pred: np.ndarray) -> dict[str, go.Figure]:
    frame = pd.DataFrame({"actual": y, "predicted": pred, "residual": y - pred})
    scatter = px.scatter(frame, x="actual", y="predicted", title="Predicted vs actual (test split)", opacity=0.6)
    low, high = float(frame[["actual", "predicted"]].min().min()), float(frame[["actual", "predicted"]].max().max())
    scatter.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="perfect", line={"dash": "dash"}))
    residuals = px.scatter(frame, x="predicted", y="residual", title="Residuals vs predicted", opacity=0.6)
    residuals.add_hline(y=0, line_dash="dash")
    return {"Predicted vs actual": scatter, "Residuals": residuals,
            "Residual distribution": px.histogram(frame, x="residual", title="Residual distribution")}


def importance(pipe: Any, x: pd.DataFrame, y: np.ndarray, task: str, repeats: int) -> pd.DataFrame:
    """Permutation importance of each input column on (a sample of) the test split."""
    if len(x) > IMPORTANCE_ROWS:
        idx = np.random.default_rng(0).choice(len(x), IMPORTANCE_ROWS, replace=False)
        x, y = x.iloc[idx], y[idx]
    scoring = PRIMARY[task] if task == CLASSIFICATION else "r2"
    with threadpool_limits(cpu_threads(len(x))):
        res = permutation_importance(pipe, x, y, scoring=scoring, n_repeats=repeats, random_state=0, n_jobs=1)
    table = pd.DataFrame({"feature": list(x.columns), "importance": res.importances_mean, "std": res.importances_std})
    return table.sort_values("importance", ascending=False, ignore_index=True)


def importance_figure(table: pd.DataFrame) -> go.Figure:
    """Permutation importance as horizontal bars, largest on top, every feature labelled."""
    shown = table.iloc[::-1]
    fig = px.bar(shown, x="importance", y="feature", error_x="std", orientation="h",
                 title="Permutation importance (drop in score when shuffled)")
    labels = [str(f) for f in shown["feature"]]
    fig.update_yaxes(type="category", tickmode="array", tickvals=labels, ticktext=labels, automargin=True)
    return fig.update_layout(height=140 + 26 * len(labels))  # room for each label, so Plotly skips none


def learning_curve_figure(curve: dict[str, Any]) -> go.Figure:
    fig = go.Figure()
    for name, values in curve["series"].items():
        fig.add_trace(go.Scatter(y=values, mode="lines", name=name))
    fig.update_layout(title="Learning curve", xaxis_title=curve.get("x_label", "iteration"))
    return fig
