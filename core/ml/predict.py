"""Prediction with a stored model: the same coercion as training, clear messages for bad input."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

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
    """The input rows with a `prediction` column, and `probability_<class>` columns for classifiers.

    Raises InvalidInput for missing columns, values of the wrong type or an empty frame; NotFound for
    an unknown model; ModelError when the model file is missing or altered. Warnings about unseen
    categories are in `result.attrs["warnings"]`.
    """
    model = artifacts.get_model(model_id)
    schema = model.feature_schema
    x = _features(schema, frame)
    pipe = artifacts.load_pipeline(model)
    out = frame.reset_index(drop=True).copy()
    x = x.reset_index(drop=True)
    with threadpool_limits(cpu_threads(len(x))):
        if model.task == CLASSIFICATION:
            classes = np.asarray(schema["classes"], dtype=object)
            out[PREDICTION] = classes[np.asarray(pipe.predict(x), dtype=int)]
            if hasattr(pipe, "predict_proba"):
                proba = pipe.predict_proba(x)
                for column, code in enumerate(pipe.classes_):
                    out[f"probability_{classes[int(code)]}"] = proba[:, column]
        else:
            out[PREDICTION] = pipe.predict(x)
    out.attrs["warnings"] = unseen_categories(x, schema)
    return out
