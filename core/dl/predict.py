"""Using a stored network: predictions on new rows, anomaly scores, synthetic rows, and the shared leaderboard."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import datasets
from core.dl import encode, images, scoring, series
from core.dl.data import encode_text, ordered_series
from core.dl.spec import ANOMALY, CLASSIFIERS, GENERATIVE, REGRESSION
from core.dl.train import is_deep, load_network
from core.errors import InvalidInput, ModelError
from core.ml import artifacts
from core.ml.predict import PREDICTION, _first
from core.ml.preprocess import coerce_features
from core.models.dataset import Dataset

MAX_GENERATED = 1_000_000


def _deep(model_id: uuid.UUID | str, *, instead: str = "core.ml.predict") -> Any:
    """The network's model row; NotFound for an unknown id, ModelError for a classical model (use `instead`)."""
    model = artifacts.get_model(model_id)
    if not is_deep(model):
        raise ModelError(f"Model {model.name!r} is a classical model, not a network.", hint=f"Use {instead} for it.")
    return model


def predict(model_id: uuid.UUID | str, frame: pd.DataFrame) -> pd.DataFrame:
    """The input rows with a `prediction` column first (plus `probability_<class>` for classifiers and
    `anomaly_score` for autoencoders), as `core.ml.predict` returns them.

    Raises InvalidInput for an empty frame or missing/ill-typed columns; ModelError for a GAN (use
    `generate`) or an altered model file.
    """
    model = _deep(model_id)
    if frame is None or len(frame) == 0:
        raise InvalidInput("There are no rows to predict.", hint="Upload a file with at least one row.")
    if model.task == GENERATIVE:
        raise ModelError("A GAN does not predict; it generates rows.", hint="Use core.dl.generate(model_id, n_rows).")
    schema = model.feature_schema
    if schema["kind"] == "series" and schema["time_column"] in frame.columns:
        frame = frame.sort_values(schema["time_column"], kind="stable")  # forecasts follow time order
    frame = frame.reset_index(drop=True)
    _, net, engine = load_network(model)
    if schema["kind"] == "series":
        windows = _series_windows(schema, frame)
        raw = engine.predict(net, series.inputs(windows, schema))
        return _first(_forecast_columns(schema, series.forecast(raw, windows, schema), len(frame)), frame, [])
    x = _inputs(schema, frame)
    raw = engine.predict(net, x)
    return _first(_outputs(model.task, schema, x, raw, len(frame)), frame, [])


def _inputs(schema: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    kind = schema["kind"]
    if kind == "tabular":
        return encode.transform(coerce_features(frame, schema, strict=True), schema["encoder"])
    if kind == "image":
        if schema["source"] == "files":
            if "file" not in frame.columns:
                raise InvalidInput("Image prediction needs a `file` column of an imported image dataset.")
            return images.load_with(frame, schema)
        missing = [c for c in schema["pixel_columns"] if c not in frame.columns]
        if missing:
            raise InvalidInput(f"Missing pixel column(s): {', '.join(missing[:10])}.",
                               hint=f"The model was trained on {len(schema['pixel_columns'])} pixel columns.")
        raw = frame[schema["pixel_columns"]].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy("float32")
        return (raw / schema["scale"]).reshape(-1, *schema["shape"])
    if kind == "tokens":
        column = schema["text_column"]
        if column not in frame.columns:
            raise InvalidInput(f"Missing text column {column!r}.")
        vocab = {w: i + 2 for i, w in enumerate(schema["vocab"])}
        return encode_text(frame[column], vocab, int(schema["length"]))
    raise ModelError(f"Unknown input kind {kind!r} in the model's schema.", hint="Train the network again.")


def _series_windows(schema: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Every window of `window` consecutive values (rows ordered by the time column), the last one included."""
    for column in (schema["time_column"], schema["value_column"]):
        if column not in frame.columns:
            raise InvalidInput(f"Missing column {column!r}.", hint="Forecasting needs the time and value columns.")
    window = int(schema["window"])
    if len(frame) < window:
        raise InvalidInput(f"Forecasting needs at least {window} rows (the model's window).",
                           hint="Upload the most recent rows of the series, at least one full window.")
    values, _ = ordered_series(frame, schema["value_column"], schema["time_column"])
    return series.windows(values, window, 0)[0]


def _outputs(task: str, schema: dict[str, Any], x: np.ndarray, raw: np.ndarray, n: int) -> pd.DataFrame:
    out = pd.DataFrame(index=range(n))
    if task in CLASSIFIERS:
        classes = np.asarray(schema["classes"], dtype=object)
        proba = scoring.softmax(raw)
        out[PREDICTION] = classes[proba.argmax(1)]
        for code, name in enumerate(classes):
            out[f"probability_{name}"] = proba[:, code]
    elif task == REGRESSION:
        out[PREDICTION] = scoring.unscale(raw[:, 0], schema["y_scale"])
    elif task == ANOMALY:
        score = scoring.reconstruction_error(x, raw)
        out[PREDICTION] = score > float(schema["threshold"])
        out["anomaly_score"] = score
    return out


def _forecast_columns(schema: dict[str, Any], values: np.ndarray, n: int) -> pd.DataFrame:
    """Row i (in time order) gets the forecast made `horizon` steps before it (NaN without a full window
    before that); the last row's `forecast_h<k>` columns hold the next values after the data."""
    window, horizon = int(schema["window"]), int(schema["horizon"])
    pred = np.full(n, np.nan)
    for i in range(n):
        start = i - horizon - window + 1
        if start >= 0:
            pred[i] = values[start, horizon - 1]
    out = pd.DataFrame({PREDICTION: pred})
    for h in range(horizon):
        column = np.full(n, np.nan)
        column[-1] = values[-1, h]
        out[f"forecast_h{h + 1}"] = column
    return out


def generate(model_id: uuid.UUID | str, n_rows: int, *, seed: int = 0) -> pd.DataFrame:
    """Synthetic rows with the training data's columns from a GAN. Raises InvalidInput for a bad count."""
    model = _deep(model_id)
    if model.task != GENERATIVE:
        raise ModelError(f"Model {model.name!r} is not a GAN; only GANs generate rows.")
    if not isinstance(n_rows, int) or isinstance(n_rows, bool) or not 1 <= n_rows <= MAX_GENERATED:
        raise InvalidInput(f"Ask for between 1 and {MAX_GENERATED:,} rows, not {n_rows!r}.")
    _, net, engine = load_network(model)
    return encode.inverse(engine.generate(net, n_rows, seed), model.feature_schema["encoder"])


def save_synthetic(model_id: uuid.UUID | str, n_rows: int, *, name: str) -> Dataset:
    """Generate rows and store them as a new dataset."""
    frame = generate(model_id, n_rows)
    return datasets.store_table(pa.Table.from_pandas(frame, preserve_index=False), name=name, source="gan",
                                source_detail=f"model {model_id}", notes=[f"{n_rows} synthetic rows from a GAN."])


def save_anomalies(model_id: uuid.UUID | str, *, threshold: float | None = None) -> Dataset:
    """Score the model's dataset and save it as a new version with `anomaly_score` and `anomaly` columns."""
    model = _deep(model_id)
    if model.task != ANOMALY:
        raise ModelError(f"Model {model.name!r} is not an anomaly detector.")
    frame = datasets.load_frame(model.dataset_id)
    scored = predict(model.id, frame)
    limit = float(model.feature_schema["threshold"] if threshold is None else threshold)
    out = frame.copy()
    out["anomaly_score"] = scored["anomaly_score"].to_numpy()
    out["anomaly"] = out["anomaly_score"] > limit
    table = pa.Table.from_pandas(out, preserve_index=False)
    flagged = int(out["anomaly"].sum())
    return datasets.versions.add_version(
        model.dataset_id, lambda tmp: pq.write_table(table, tmp), step={"op": "anomaly_scores", "model": str(model.id),
                                                                        "threshold": limit},
        summary=f"Anomaly scores from {model.name}: {flagged} row(s) above {limit:.4g}")


def leaderboard(dataset_id: uuid.UUID | str, target: str) -> list[dict[str, Any]]:
    """Deep and classical models of one dataset and target on their held-out split, best first."""
    rows = []
    for model in artifacts.list_models(dataset_id=dataset_id):
        if model.target != target:
            continue
        test = model.metrics.get("test", {})
        primary = model.metrics.get("primary") or scoring.PRIMARY.get(model.task, "accuracy")
        rows.append({"model_id": str(model.id), "name": model.name, "kind": "deep" if is_deep(model) else "classical",
                     "algorithm": model.algorithm, "task": model.task, "primary": primary,
                     "score": test.get(primary), **{k: v for k, v in test.items() if isinstance(v, int | float)}})
    rows.sort(key=lambda r: scoring.sort_key(r["primary"], r["score"]))
    return rows
