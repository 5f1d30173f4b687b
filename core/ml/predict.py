"""Prediction with a stored model: the same coercion as training, clear messages for bad input."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from core import datasets, readers, storage
from core.errors import InvalidInput
from core.ml import artifacts
from core.ml.catalog import CLASSIFICATION, cpu_threads
from core.ml.preprocess import coerce_features, unseen_categories

PREDICTION = "prediction"


def check_input(model_id: uuid.UUID | str, frame: pd.DataFrame) -> list[str]:
    """Warnings about `frame` (unseen categories); raises InvalidInput for missing columns or wrong types."""
    model = artifacts.get_model(model_id)
    x = _features(model.feature_schema, frame)
    return unseen_categories(x, model.feature_schema)


def _features(schema: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    if frame is None or len(frame) == 0:
        raise InvalidInput("There are no rows to predict.", hint="Upload a file with at least one row.")
    return coerce_features(frame, schema, strict=True)


def predict(model_id: uuid.UUID | str, frame: pd.DataFrame) -> pd.DataFrame:
    """A `prediction` column (and `probability_<class>` columns for classifiers) followed by the input rows.

    Raises InvalidInput for missing columns, values of the wrong type or an empty frame; NotFound for
    an unknown model; ModelError when the model file is missing or altered. Warnings about unseen
    categories are in `result.attrs["warnings"]`.
    """
    model = artifacts.get_model(model_id)
    schema = model.feature_schema
    x = _features(schema, frame)
    pipe = artifacts.load_pipeline(model)
    x = x.reset_index(drop=True)
    with threadpool_limits(cpu_threads(len(x))):
        scores = _scores(pipe, x, model.task, schema)
    return _first(scores, frame.reset_index(drop=True), unseen_categories(x, schema))


def _scores(pipe: Any, x: pd.DataFrame, task: str, schema: dict[str, Any]) -> pd.DataFrame:
    """The prediction column, and a probability column per class for classifiers."""
    out = pd.DataFrame(index=x.index)
    if task != CLASSIFICATION:
        out[PREDICTION] = pipe.predict(x)
        return out
    classes = np.asarray(schema["classes"], dtype=object)
    out[PREDICTION] = classes[np.asarray(pipe.predict(x), dtype=int)]
    if hasattr(pipe, "predict_proba"):
        proba = pipe.predict_proba(x)
        for column, code in enumerate(pipe.classes_):
            out[f"probability_{classes[int(code)]}"] = proba[:, column]
    return out


def _first(scores: pd.DataFrame, frame: pd.DataFrame, warnings: list[str]) -> pd.DataFrame:
    """Predictions and probabilities first, then the input columns (an input column of the same name is replaced)."""
    clashing = [c for c in frame.columns if c in scores.columns]
    if clashing:
        warnings = [*warnings, f"The input column(s) {', '.join(map(repr, clashing))} were replaced by the "
                    "model's output of the same name."]
    out = pd.concat([scores, frame.drop(columns=clashing)], axis=1)
    out.attrs["warnings"] = warnings
    return out


def read_rows(data: bytes, filename: str) -> pd.DataFrame:
    """Rows to predict from an uploaded file, read like a dataset import (format, delimiter and
    encoding detected: a semicolon or Latin-1 CSV, Excel, JSON, Parquet...).

    Raises IngestError / UnsupportedFormat / TooLarge with a message naming the problem.
    """
    name = Path(str(filename).replace("\\", "/")).name[:200] or "upload"
    datasets.check_size(len(data), what=f"The file {name}")
    suffix = "".join(ch for ch in Path(name).suffix.lower() if ch.isalnum() or ch == ".")[:10]
    tmp = storage.area("tmp") / f"predict-{uuid.uuid4().hex}{suffix}"  # never a path taken from the upload
    try:
        tmp.write_bytes(data)
        return readers.read(tmp, filename=name).table.to_pandas()
    finally:
        tmp.unlink(missing_ok=True)
