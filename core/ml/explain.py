"""SHAP explanations of a stored model: which features push its predictions up or down.

`explain_model` gives SHAP values for a sample of the held-out test split (a global summary);
`explain_rows` for given rows (one prediction). Trees (random forest, decision tree, histogram gradient
boosting, XGBoost) use shap's TreeExplainer, linear models its LinearExplainer; the other models (k-NN,
SVM, MLP) the model-agnostic PermutationExplainer on a smaller sample, since it is slow. SHAP values of
the encoded columns (one-hot categories, date parts) are summed back to the input column they came
from, which keeps additivity: base value + sum of the values = the model's output for that row.
"""

from __future__ import annotations

import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from threadpoolctl import threadpool_limits

from core.errors import InvalidInput, ModelError
from core.ml import artifacts
from core.ml.catalog import CATALOG, CLASSIFICATION, cpu_threads
from core.ml.evaluate import split_frames
from core.ml.preprocess import DateParts, coerce_features
from core.models.ml import MLModel

SAMPLE_ROWS = 500  # rows of the test split explained by the fast explainers
PILOT_ROWS = 20  # explained first, to time the model
AGNOSTIC_PILOT_ROWS = 5
BUDGET_SECONDS = 8.0  # the global summary explains as many sampled rows as fit in about this long
AGNOSTIC_ROWS = 30  # ... and by the permutation explainer
BACKGROUND_ROWS = 100
AGNOSTIC_BACKGROUND = 25
LINEAR = ("logistic_regression", "linear_regression", "ridge")
PROBABILITY_TREES = ("random_forest", "decision_tree")  # TreeExplainer explains their class probabilities


@dataclass
class Explanation:
    """SHAP values of some rows, one column per input feature, in the units named by `output`."""

    model_id: str
    features: list[str]
    values: np.ndarray  # (rows, features)
    base_values: np.ndarray  # (rows,)
    data: pd.DataFrame  # the explained rows, input columns
    output: str  # e.g. "probability of 'yes'", "log-odds of 'yes'", "predicted price"
    method: str  # "tree", "linear" or "permutation"
    total_rows: int  # rows the sample was drawn from
    target_class: str | None = None

    @property
    def outputs(self) -> np.ndarray:
        """The model output each row's values add up to."""
        return self.base_values + self.values.sum(axis=1)

    @property
    def sampled(self) -> bool:
        return len(self.data) < self.total_rows


def method_for(algorithm: str) -> str:
    """Which SHAP explainer a catalog model gets."""
    if algorithm in LINEAR:
        return "linear"
    spec = CATALOG.get(algorithm)
    return "tree" if spec is not None and spec.tree else "permutation"


def classes_of(model: MLModel) -> list[str]:
    return [str(c) for c in model.feature_schema.get("classes", [])]


def explain_model(model_id: uuid.UUID | str, *, target_class: str | None = None, rows: int | None = None,
                  seconds: float = BUDGET_SECONDS) -> Explanation:
    """SHAP values of a random sample of the model's held-out test split (the size is in the result).

    The sample holds at most `rows` rows (500; 30 for the permutation explainer), fewer when a first
    batch shows that the model is too slow to explain that many within about `seconds`.
    """
    model = artifacts.get_model(model_id)
    pipe = artifacts.load_pipeline(model)
    x_train, x_test, _ = split_frames(model)
    limit = rows or (AGNOSTIC_ROWS if method_for(model.algorithm) == "permutation" else SAMPLE_ROWS)
    sample = _sample(x_test, limit)
    pilot = PILOT_ROWS if method_for(model.algorithm) != "permutation" else AGNOSTIC_PILOT_ROWS
    started = time.perf_counter()
    result = _explain(model, pipe, x_train, sample.iloc[:pilot], target_class)
    per_row = (time.perf_counter() - started) / len(result.data)
    affordable = min(len(sample), max(pilot, int(seconds / max(per_row, 1e-9))))
    if affordable > pilot:
        result = _joined(result, _explain(model, pipe, x_train, sample.iloc[pilot:affordable], target_class))
    result.total_rows = len(x_test)
    return result


def explain_rows(model_id: uuid.UUID | str, frame: pd.DataFrame, *, target_class: str | None = None) -> Explanation:
    """SHAP values of the given rows (for example one row of a predicted file or of the one-row form)."""
    model = artifacts.get_model(model_id)
    if frame is None or len(frame) == 0:
        raise InvalidInput("There is no row to explain.", hint="Predict at least one row first.")
    x = coerce_features(frame, model.feature_schema, strict=True).reset_index(drop=True)
    x_train, _, _ = split_frames(model)
    return _explain(model, artifacts.load_pipeline(model), x_train, x, target_class)


def _sample(frame: pd.DataFrame, limit: int, seed: int = 0) -> pd.DataFrame:
    if len(frame) <= limit:
        return frame
    return frame.iloc[np.sort(np.random.default_rng(seed).choice(len(frame), limit, replace=False))]


def _joined(first: Explanation, second: Explanation) -> Explanation:
    first.values = np.vstack([first.values, second.values])
    first.base_values = np.concatenate([first.base_values, second.base_values])
    first.data = pd.concat([first.data, second.data], ignore_index=True)
    return first


def _explain(model: MLModel, pipe: Any, x_train: pd.DataFrame, x: pd.DataFrame,
             target_class: str | None) -> Explanation:
    prep, estimator = pipe[:-1], pipe[-1]
    method = method_for(model.algorithm)
    background = _sample(x_train, AGNOSTIC_BACKGROUND if method == "permutation" else BACKGROUND_ROWS, seed=1)
    with warnings.catch_warnings(), threadpool_limits(cpu_threads(len(x))):
        warnings.simplefilter("ignore")
        encoded = _dense(prep.transform(x))
        try:
            values, base = _shap(method, estimator, encoded, _dense(prep.transform(background)), model.task)
        except Exception as exc:  # shap raises many kinds; say which model could not be explained
            raise ModelError(f"SHAP could not explain {model.name!r}: {type(exc).__name__}: {str(exc)[:200]}",
                             hint="Permutation importance above still shows which features matter.") from exc
    values, base, chosen = _pick_class(model, values, base, target_class)
    grouped = values @ _groups(prep, list(x.columns), encoded.shape[1])
    return Explanation(str(model.id), list(x.columns), grouped, np.array(np.broadcast_to(base, (len(x),)), float),
                       x.reset_index(drop=True), _output_label(model, method, chosen), method, len(x), chosen)


def _dense(matrix: Any) -> np.ndarray:
    return np.asarray(matrix.toarray() if hasattr(matrix, "toarray") else matrix, dtype="float64")


def _shap(method: str, estimator: Any, x: np.ndarray, background: np.ndarray, task: str) -> tuple[np.ndarray, Any]:
    """Raw SHAP values (rows, encoded columns[, classes]) and base values."""
    import shap

    if method == "tree":
        result = shap.TreeExplainer(estimator)(x)
    elif method == "linear":
        result = shap.LinearExplainer(estimator, shap.maskers.Independent(background))(x)
    else:
        fn = estimator.predict_proba if task == CLASSIFICATION else estimator.predict
        explainer = shap.PermutationExplainer(fn, shap.maskers.Independent(background))
        result = explainer(x, max_evals=max(2 * x.shape[1] + 1, 200), silent=True)
    return np.asarray(result.values, dtype="float64"), np.asarray(result.base_values, dtype="float64")


def _pick_class(model: MLModel, values: np.ndarray, base: np.ndarray,
                target_class: str | None) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Values for one class: the asked one, else the second class of a binary model, else the first."""
    if model.task != CLASSIFICATION:
        return values, base.reshape(len(values), -1)[:, 0], None
    classes = classes_of(model)
    chosen = target_class if target_class is not None else classes[1 if len(classes) == 2 else 0]
    if chosen not in classes:
        raise InvalidInput(f"{chosen!r} is not a class of this model.", hint=f"Classes: {', '.join(classes)}")
    code = classes.index(chosen)
    if values.ndim == 3:
        return values[:, :, code], base.reshape(len(values), -1)[:, code], chosen
    sign = 1.0 if code == 1 else -1.0  # one margin for a binary model: that of the second class
    return sign * values, sign * base.reshape(len(values), -1)[:, 0], chosen


def _groups(prep: Any, columns: list[str], width: int) -> np.ndarray:
    """A 0/1 matrix (encoded columns x input columns) saying which input column each encoded one came from."""
    matrix = np.zeros((width, len(columns)))
    ct = prep[-1] if hasattr(prep, "steps") else prep
    for name, transformer, names in ct.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        start = ct.output_indices_[name].start
        for column, size in zip(names, _widths(transformer, names), strict=True):
            matrix[start:start + size, columns.index(column)] = 1.0
            start += size
    if not np.allclose(matrix.sum(axis=1), 1.0):
        raise ModelError("The encoded columns could not be mapped back to the input columns.")
    return matrix


def _widths(pipeline: Any, names: list[str]) -> list[int]:
    """How many encoded columns each input column of one ColumnTransformer branch became."""
    last = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    first = pipeline.steps[0][1] if hasattr(pipeline, "steps") else pipeline
    if isinstance(first, DateParts):
        return [len(DateParts.PARTS)] * len(names)
    if hasattr(last, "categories_"):  # a one-hot encoder; infrequent categories share one column
        infrequent = getattr(last, "infrequent_categories_", [None] * len(names))
        return [len(c) - (len(i) - 1 if i is not None else 0) for c, i in zip(last.categories_, infrequent,
                                                                              strict=True)]
    stats = getattr(first, "statistics_", None)  # a numeric imputer drops columns empty in training
    if stats is None:
        return [1] * len(names)
    return [0 if np.isnan(v) else 1 for v in stats]


def _output_label(model: MLModel, method: str, chosen: str | None) -> str:
    if model.task != CLASSIFICATION:
        return f"predicted {model.target}"
    if method == "permutation" or model.algorithm in PROBABILITY_TREES:
        return f"probability of {chosen!r}"
    return f"log-odds of {chosen!r}"


# ---- figures ------------------------------------------------------------------------------------

def _order(expl: Explanation) -> np.ndarray:
    """Feature indices by mean |SHAP value|, largest first."""
    return np.argsort(-np.abs(expl.values).mean(axis=0), kind="stable")


def summary_figures(expl: Explanation, *, top: int = 20) -> dict[str, go.Figure]:
    """A bar chart of mean |SHAP value| and a beeswarm of every explained row, top features first."""
    order = _order(expl)[:top]
    return {"SHAP importance": _bar(expl, order), "SHAP beeswarm": _beeswarm(expl, order)}


def _height(n: int) -> int:
    return 140 + 26 * n


def _labelled(fig: go.Figure, labels: list[str]) -> go.Figure:
    """Every feature gets its label (Plotly otherwise drops some when they are crowded)."""
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(labels))), ticktext=labels, automargin=True)
    return fig.update_layout(height=_height(len(labels)))


def _bar(expl: Explanation, order: np.ndarray) -> go.Figure:
    mean = np.abs(expl.values).mean(axis=0)[order][::-1]
    labels = [expl.features[i] for i in order][::-1]
    fig = go.Figure(go.Bar(x=mean, y=list(range(len(labels))), orientation="h", hovertext=labels))
    fig.update_layout(title=f"Mean |SHAP value| ({expl.output})", xaxis_title="mean |SHAP value|")
    return _labelled(fig, labels)


def _beeswarm(expl: Explanation, order: np.ndarray) -> go.Figure:
    fig = go.Figure()
    labels = [expl.features[i] for i in order][::-1]
    rng = np.random.default_rng(0)
    for position, index in enumerate(order[::-1]):
        column = expl.data.iloc[:, index]
        numbers = pd.to_numeric(column, errors="coerce") if column.dtype.kind in "biuf" else None
        colour = _scaled(numbers) if numbers is not None else "lightgrey"
        fig.add_trace(go.Scatter(
            x=expl.values[:, index], y=position + rng.uniform(-0.3, 0.3, len(column)), mode="markers",
            marker={"color": colour, "colorscale": "RdBu_r", "cmin": 0, "cmax": 1, "size": 5, "opacity": 0.7,
                    "showscale": position == 0 and numbers is not None,
                    "colorbar": {"title": "feature value", "tickvals": [0, 1], "ticktext": ["low", "high"]}},
            text=[f"{expl.features[index]} = {v}" for v in column], showlegend=False,
            hovertemplate="%{text}<br>SHAP %{x:.4g}<extra></extra>"))
    fig.add_vline(x=0, line_color="grey")
    fig.update_layout(title=f"SHAP values per row ({expl.output})", xaxis_title="SHAP value (impact on the output)")
    return _labelled(fig, labels)


def _scaled(numbers: pd.Series) -> list[float]:
    low, high = numbers.quantile(0.05), numbers.quantile(0.95)
    span = (high - low) or 1.0
    return list(((numbers - low) / span).clip(0, 1).fillna(0.5))


def waterfall_figure(expl: Explanation, row: int = 0, *, top: int = 12) -> go.Figure:
    """How one row's prediction is built: the base value, then each feature's push up or down."""
    values = expl.values[row]
    order = np.argsort(-np.abs(values), kind="stable")
    shown, rest = order[:top], order[top:]
    labels = [f"{expl.features[i]} = {_short(expl.data.iloc[row, i])}" for i in shown][::-1]
    pushes = [float(values[i]) for i in shown][::-1]
    if len(rest):
        labels.insert(0, f"{len(rest)} other feature(s)")
        pushes.insert(0, float(values[rest].sum()))
    base, final = float(expl.base_values[row]), float(expl.outputs[row])
    fig = go.Figure(go.Waterfall(
        orientation="h", base=base, measure=["relative"] * len(pushes) + ["total"],
        y=[*labels, "prediction"], x=[*pushes, 0.0], text=[f"{p:+.3g}" for p in pushes] + [f"{final:.4g}"],
        textposition="outside", increasing={"marker": {"color": "#d62728"}},
        decreasing={"marker": {"color": "#1f77b4"}}, totals={"marker": {"color": "#7f7f7f"}}))
    fig.update_yaxes(type="category", automargin=True)
    fig.update_layout(title=f"Why this prediction: {expl.output} {final:.4g} (base value {base:.4g})",
                      xaxis_title=expl.output, height=_height(len(labels) + 1), showlegend=False)
    return fig


def _short(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 30 else text[:29] + "…"


def caption(expl: Explanation) -> str:
    """One line saying what was explained, on how many rows, and in which units."""
    rows = (f"a random sample of {len(expl.data):,} of the {expl.total_rows:,} test rows" if expl.sampled
            else f"{len(expl.data):,} row(s)")
    return f"SHAP values ({expl.method} explainer) of {rows}; units: {expl.output}."
