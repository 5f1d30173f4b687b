"""Data checks and preprocessing: which columns to use and how, as a scikit-learn pipeline.

`plan_features` looks at the raw frame and decides, per column, numeric / categorical /
datetime or dropped (with a note saying why). The plan is stored with the model as its
feature schema, so prediction applies the same coercion and reports bad input clearly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.errors import InvalidInput, ModelError
from core.ml.catalog import CLASSIFICATION, REGRESSION, check_task

MAX_ONE_HOT = 20  # categories one-hot encoded per column; the rarer ones are grouped as "other"
MAX_STORED_CATEGORIES = 500
MAX_CLASSES = 100
TEXT_MEAN_LENGTH = 40
_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key)$|^id[_\s-]", re.IGNORECASE)


@dataclass
class FeaturePlan:
    """What training does with each column. `schema()` is what the model row stores."""

    target: str
    task: str
    columns: list[dict[str, Any]] = field(default_factory=list)  # {name, kind, categories?, default}
    dropped: list[dict[str, str]] = field(default_factory=list)  # {name, reason}
    notes: list[str] = field(default_factory=list)
    classes: list[Any] = field(default_factory=list)

    def names(self, kind: str | None = None) -> list[str]:
        return [c["name"] for c in self.columns if kind is None or c["kind"] == kind]

    def schema(self) -> dict[str, Any]:
        return {"target": self.target, "task": self.task, "columns": self.columns, "dropped": self.dropped,
                "classes": self.classes}


class DateParts(BaseEstimator, TransformerMixin):
    """Turn datetime columns into year, month, day, weekday and hour numbers."""

    PARTS = ("year", "month", "day", "dayofweek", "hour")

    def fit(self, X: pd.DataFrame, y: Any = None) -> DateParts:
        self.columns_ = list(X.columns)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        parts = [getattr(pd.to_datetime(X[c], errors="coerce").dt, p).astype("float64")
                 for c in X.columns for p in self.PARTS]
        return np.column_stack(parts) if parts else np.empty((len(X), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array([f"{c}_{p}" for c in self.columns_ for p in self.PARTS], dtype=object)


# ---- the target ---------------------------------------------------------------------------------

def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
                or pd.api.types.is_bool_dtype(series))


def _looks_like_id(series: pd.Series, name: str) -> bool:
    """Every value distinct and either text, or whole numbers that count up or carry an id-like name."""
    values = series.dropna()
    if len(values) < 20 or values.nunique() != len(values):
        return False
    if _is_text(values):
        return True
    if pd.api.types.is_integer_dtype(values) or (pd.api.types.is_float_dtype(values)
                                                 and bool((values % 1 == 0).all())):
        consecutive = values.max() - values.min() + 1 == len(values)
        return bool(consecutive or _ID_NAME.search(name))
    return False


def detect_task(y: pd.Series) -> str:
    """Classification for text, booleans and few distinct whole numbers; regression otherwise."""
    values = y.dropna()
    if _is_text(values) or pd.api.types.is_bool_dtype(values):
        return CLASSIFICATION
    whole = pd.api.types.is_integer_dtype(values) or bool((values % 1 == 0).all())
    if whole and values.nunique() <= max(2, min(20, len(values) // 10)):
        return CLASSIFICATION
    return REGRESSION


def check_target(frame: pd.DataFrame, target: str, task: str | None, *, cv: int, test_size: float) -> str:
    """Validate the target and the row count; return the task. Raises InvalidInput or ModelError."""
    if target not in frame.columns:
        raise InvalidInput(f"There is no column {target!r}.", hint=f"Columns: {', '.join(map(str, frame.columns))}")
    y = frame[target]
    if y.notna().sum() == 0:
        raise ModelError(f"The target {target!r} is missing in every row.", hint="Pick a column that has values.")
    if _looks_like_id(y, target):
        raise ModelError(f"The target {target!r} looks like an identifier: every value is different.",
                         hint="Pick the column you want to predict, such as a label, an amount or a category.")
    task = check_task(task) if task else detect_task(y)
    if task == REGRESSION and not pd.api.types.is_numeric_dtype(y.dropna()):
        raise ModelError(f"The target {target!r} is not numeric, so regression cannot predict it.",
                         hint="Choose classification, or a numeric target.")
    _check_rows(int(y.notna().sum()), cv, test_size)
    if task == CLASSIFICATION:
        _check_classes(y.dropna(), target, cv)
    return task


def _check_rows(rows: int, cv: int, test_size: float) -> None:
    if not 2 <= cv <= 20:
        raise InvalidInput(f"Cross-validation needs between 2 and 20 folds, not {cv}.")
    needed = math.ceil(2 * cv / (1 - test_size))
    if rows < needed:
        raise ModelError(f"Only {rows} row(s) have a target value: too few for {cv}-fold cross-validation "
                         f"and a held-out test set (at least {needed} needed).",
                         hint="Use fewer folds or a larger dataset.")


def _check_classes(y: pd.Series, target: str, cv: int) -> None:
    counts = y.astype(str).value_counts()
    if len(counts) < 2:
        raise ModelError(f"The target {target!r} has only one class ({counts.index[0]!r}): there is nothing "
                         "to tell apart.", hint="Pick a target with at least two different values.")
    if len(counts) > MAX_CLASSES:
        raise ModelError(f"The target {target!r} has {len(counts):,} classes, over the limit of {MAX_CLASSES}.",
                         hint="For a numeric target choose regression; otherwise group the classes.")
    rare = counts[counts < cv + 1]
    if len(rare):
        raise ModelError(f"The class(es) {', '.join(map(repr, rare.index[:5]))} of {target!r} have fewer than "
                         f"{cv + 1} rows: a held-out test row plus {cv}-fold cross-validation needs at least that many "
                         "per class.", hint="Use fewer folds, or remove or merge the rare classes.")


# ---- the features -------------------------------------------------------------------------------

def plan_features(frame: pd.DataFrame, target: str, task: str) -> FeaturePlan:
    """Decide how each column is used; raises ModelError when no usable feature remains."""
    plan = FeaturePlan(target=target, task=task)
    for name in frame.columns:
        if name != target:
            _plan_column(plan, str(name), frame[name])
    if not plan.columns:
        reasons = "; ".join(f"{d['name']}: {d['reason']}" for d in plan.dropped) or "the target is the only column"
        raise ModelError(f"No usable feature column to learn {target!r} from ({reasons}).",
                         hint="Add columns that carry information about the target.")
    return plan


def _plan_column(plan: FeaturePlan, name: str, series: pd.Series) -> None:
    values = series.dropna()
    reason = _drop_reason(series, values, name)
    if reason:
        plan.dropped.append({"name": name, "reason": reason})
        plan.notes.append(f"Column {name!r} dropped: {reason}.")
        return
    if pd.api.types.is_datetime64_any_dtype(values):
        plan.columns.append({"name": name, "kind": "datetime", "default": str(values.iloc[len(values) // 2])})
    elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        plan.columns.append({"name": name, "kind": "numeric", "default": float(values.median()),
                             "whole": bool(pd.api.types.is_integer_dtype(values))})
    else:
        _plan_categorical(plan, name, values)


def _drop_reason(series: pd.Series, values: pd.Series, name: str) -> str:
    if values.empty:
        return "every value is missing"
    if values.nunique() <= 1:
        return "it is constant (one value only)"
    if _is_text(values) and values.nunique() > 0.5 * len(values):
        if values.astype(str).str.len().mean() > TEXT_MEAN_LENGTH:
            return "it is free text (long, mostly unique values); text features are not supported yet"
    if _looks_like_id(series, name):
        return "it looks like an identifier (every value is different)"
    return ""


def _plan_categorical(plan: FeaturePlan, name: str, values: pd.Series) -> None:
    counts = values.astype(str).value_counts()
    plan.columns.append({"name": name, "kind": "categorical", "default": str(counts.index[0]),
                         "categories": [str(c) for c in counts.index[:MAX_STORED_CATEGORIES]],
                         "n_categories": len(counts)})
    if len(counts) > MAX_ONE_HOT:
        plan.notes.append(f"Column {name!r} has {len(counts):,} categories: the {MAX_ONE_HOT} most frequent are "
                          "one-hot encoded and the rest grouped as 'other'.")


def build_preprocessor(plan: FeaturePlan) -> ColumnTransformer:
    """Imputation, scaling, one-hot encoding and datetime parts for the planned columns."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline([
        ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
        ("encode", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_ONE_HOT + 1,
                                 sparse_output=False)),
    ])
    dates = Pipeline([("parts", DateParts()), ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                      ("scale", StandardScaler())])
    parts = [("numeric", numeric, plan.names("numeric")), ("categorical", categorical, plan.names("categorical")),
             ("datetime", dates, plan.names("datetime"))]
    return ColumnTransformer([p for p in parts if p[2]], remainder="drop", verbose_feature_names_out=False)


# ---- coercion (training and prediction) ---------------------------------------------------------

def coerce_features(frame: pd.DataFrame, schema: dict[str, Any], *, strict: bool = False) -> pd.DataFrame:
    """The planned columns in their trained types. With `strict`, missing columns and values of the
    wrong type raise InvalidInput naming the column."""
    columns = schema["columns"]
    missing = [c["name"] for c in columns if c["name"] not in frame.columns]
    if missing:
        raise InvalidInput(f"Missing column(s): {', '.join(missing)}.",
                           hint="The model was trained with: " + ", ".join(c["name"] for c in columns))
    out = {c["name"]: _coerce(frame[c["name"]], c, strict) for c in columns}
    return pd.DataFrame(out, index=frame.index)


def _coerce(series: pd.Series, column: dict[str, Any], strict: bool) -> pd.Series:
    kind = column["kind"]
    if kind == "numeric":
        converted = pd.to_numeric(series, errors="coerce").astype("float64")
    elif kind == "datetime":
        converted = pd.to_datetime(series, errors="coerce")
        if getattr(converted.dt, "tz", None) is not None:
            converted = converted.dt.tz_convert(None)
    else:
        return series.map(lambda v: np.nan if _missing(v) else str(v)).astype(object)
    if strict:
        bad = series[converted.isna() & series.notna() & (series.astype(str).str.strip() != "")]
        if len(bad):
            raise InvalidInput(f"Column {column['name']!r} should hold {'numbers' if kind == 'numeric' else 'dates'}"
                               f" but has {len(bad)} value(s) like {str(bad.iloc[0])!r}.",
                               hint="Fix or empty those cells and try again.")
    return converted


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def unseen_categories(frame: pd.DataFrame, schema: dict[str, Any]) -> list[str]:
    """Warnings for categorical values the model never saw in training (they are treated as 'other')."""
    warnings = []
    for column in schema["columns"]:
        if column["kind"] != "categorical" or column.get("n_categories", 0) > MAX_STORED_CATEGORIES:
            continue
        seen = set(column["categories"])
        new = sorted({str(v) for v in frame[column["name"]].dropna()} - seen)
        if new:
            shown = ", ".join(map(repr, new[:5])) + (" …" if len(new) > 5 else "")
            warnings.append(f"Column {column['name']!r} has value(s) not seen in training: {shown}. "
                            "They are treated as an unknown category.")
    return warnings
