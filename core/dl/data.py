"""Turn a dataset into arrays for one task: the hold-out split, a validation split, and the stored schema.

Supervised tasks on tables, pixels and text use the same held-out split as `core.ml` (stratified for
classes, same seed and size), so deep and classical models of one dataset and target are compared on the
same rows. Everything fitted (encoder, pixel scale, vocabulary, series scale) comes from the training
split only and goes into `schema`, which the model row stores.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from core.dl import encode, images, series
from core.dl.spec import (
    ANOMALY,
    CLASSIFICATION,
    GENERATIVE,
    IMAGE,
    REGRESSION,
    SEQUENCE,
    TEXT,
    TrainSpec,
)
from core.errors import InvalidInput, ModelError
from core.ml.preprocess import check_target, detect_task, plan_features

TOKEN = re.compile(r"\w+", re.UNICODE)
PAD, OOV = 0, 1


@dataclass
class Prepared:
    """Arrays for training (float32 inputs, int64 classes or float32 targets) and what prediction needs."""

    kind: str  # "tabular" | "image" | "tokens" | "series"
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_out: int
    schema: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    levels: np.ndarray | None = None  # series: the ordered values the windows were cut from

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def net_input(self) -> dict[str, Any]:
        """What a backend needs to build the network: input kind, per-sample shape, outputs, vocabulary size."""
        vocab = len(self.schema.get("vocab", [])) + 2 if self.kind == "tokens" else 0
        return {"kind": self.kind, "shape": list(self.input_shape), "n_out": int(self.n_out), "vocab": vocab}


def infer_task(frame: pd.DataFrame, target: str | None, architecture: str, options: dict[str, Any]) -> str:
    """The task when none is given: from the architecture, the options and the target."""
    if architecture == "autoencoder":
        return ANOMALY
    if architecture == "gan":
        return GENERATIVE
    if options.get("image_shape") or (set(images.COLUMNS) <= set(frame.columns)):
        return IMAGE
    if options.get("text_column"):
        return TEXT
    if options.get("time_column") or architecture in ("rnn", "lstm", "gru"):
        return SEQUENCE
    if target is None:
        raise InvalidInput("A target column is needed to infer the task.", hint="Pass target=... or task=...")
    if target not in frame.columns:
        raise InvalidInput(f"There is no column {target!r}.", hint=f"Columns: {', '.join(map(str, frame.columns))}")
    return detect_task(frame[target])


def prepare(frame: pd.DataFrame, spec: TrainSpec, target: str | None, dataset_id: str) -> Prepared:
    """Arrays and schema for `spec.task`; raises InvalidInput / ModelError for data the task cannot use."""
    if frame.empty:
        raise ModelError("The dataset has no rows.", hint="Import data with rows first.")
    builder = {CLASSIFICATION: _tabular, REGRESSION: _tabular, IMAGE: _image, TEXT: _text, SEQUENCE: _series,
               ANOMALY: _unsupervised, GENERATIVE: _unsupervised}[spec.task]
    prepared = builder(frame, spec, target)
    prepared.schema.update({"task": spec.task, "target": target, "seed": spec.seed,
                            "test_size": spec.options.test_size, "dataset_id": dataset_id,
                            "threshold_quantile": spec.options.threshold_quantile})
    _check_batch(prepared, spec)
    return prepared


def _check_batch(prepared: Prepared, spec: TrainSpec) -> None:
    rows = len(prepared.x_train)
    if rows < spec.batch_size:
        raise InvalidInput(f"Only {rows} training row(s) remain after the test and validation splits, fewer than the "
                           f"batch size {spec.batch_size}.", hint=f"Lower the batch size to {max(1, rows // 2)} or less.")


def _need_target(frame: pd.DataFrame, target: str | None, task: str) -> str:
    if not target:
        raise InvalidInput(f"The task {task} needs a target column.", hint="Pass target=<column to predict>.")
    if target not in frame.columns:
        raise InvalidInput(f"There is no column {target!r}.", hint=f"Columns: {', '.join(map(str, frame.columns))}")
    values = frame[target].dropna()
    if values.nunique() <= 1:
        raise ModelError(f"The target {target!r} is constant ({values.iloc[0]!r} in every row)" if len(values)
                         else f"The target {target!r} is missing in every row",
                         hint="Pick a column with at least two different values.")
    return target


def _held_out(y: np.ndarray, spec: TrainSpec, stratified: bool, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row positions, chosen exactly as `core.ml.train.make_split` chooses them."""
    n_test = max(math.ceil(spec.options.test_size * len(y)), n_classes)
    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=n_test, random_state=spec.seed, stratify=y if stratified else None)
    return train, test


def _val_cut(train: np.ndarray, y: np.ndarray, spec: TrainSpec, stratified: bool) -> tuple[np.ndarray, np.ndarray]:
    n_val = max(1, round(spec.options.validation_fraction * len(train)))
    strat = y[train] if stratified and np.bincount(y[train]).min() >= 2 else None
    if stratified and strat is not None:
        n_val = max(n_val, len(np.unique(y[train])))
    fit, val = train_test_split(train, test_size=n_val, random_state=spec.seed + 1, stratify=strat)
    return fit, val


def _classes(frame: pd.DataFrame, target: str) -> tuple[np.ndarray, list[Any]]:
    codes, classes = pd.factorize(frame[target], sort=True)
    return codes.astype("int64"), [c.item() if isinstance(c, np.generic) else c for c in classes]


def _supervised(x: np.ndarray, y: np.ndarray, spec: TrainSpec, *, classes: list[Any] | None, kind: str,
                schema: dict[str, Any], notes: list[str]) -> Prepared:
    stratified = classes is not None
    train, test = _held_out(y, spec, stratified, len(classes or []))
    fit, val = _val_cut(train, y, spec, stratified)
    if classes is None:
        mean, std = float(y[fit].mean()), float(y[fit].std() or 1.0)
        schema["y_scale"] = [mean, std]
        y = ((y - mean) / std).astype("float32")
    schema["classes"] = classes or []
    return Prepared(kind, x[fit], y[fit], x[val], y[val], x[test], y[test], len(classes) if classes else 1,
                    schema, notes)


# ---- tables --------------------------------------------------------------------------------------

def _tabular(frame: pd.DataFrame, spec: TrainSpec, target: str | None) -> Prepared:
    target = _need_target(frame, target, spec.task)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    check_target(frame, target, spec.task, cv=2, test_size=spec.options.test_size)
    plan = plan_features(frame, target, spec.task)
    classes = None
    if spec.task == CLASSIFICATION:
        y, classes = _classes(frame, target)
    else:
        y = pd.to_numeric(frame[target]).to_numpy("float64")
    train, _ = _held_out(y, spec, classes is not None, len(classes or []))
    encoder = encode.fit(frame.iloc[train], plan.columns)
    x = encode.transform(frame, encoder)
    schema = {"kind": "tabular", "columns": plan.columns, "dropped": plan.dropped, "encoder": encoder}
    return _supervised(x, y, spec, classes=classes, kind="tabular", schema=schema, notes=list(plan.notes))


def _unsupervised(frame: pd.DataFrame, spec: TrainSpec, target: str | None) -> Prepared:
    """Anomaly detection and generation: every usable column is an input; a label (if named) only scores."""
    label = None
    if target:
        _need_target(frame, target, spec.task)
        label = frame[target]
    planned = plan_features(frame.drop(columns=[target]) if target else frame, "\0none", REGRESSION)
    idx = np.arange(len(frame))
    if spec.task == GENERATIVE:
        train, test = idx, idx[:0]
    else:
        train, test = train_test_split(idx, test_size=max(1, math.ceil(spec.options.test_size * len(idx))),
                                       random_state=spec.seed)
    n_val = max(1, round(spec.options.validation_fraction * len(train)))
    rng = np.random.default_rng(spec.seed)
    shuffled = rng.permutation(train)
    fit, val = shuffled[n_val:], shuffled[:n_val]
    encoder = encode.fit(frame.iloc[fit], planned.columns)
    x = encode.transform(frame, encoder)
    y = _anomaly_labels(label) if label is not None else np.zeros(len(frame), "int64")
    schema = {"kind": "tabular", "columns": planned.columns, "dropped": planned.dropped, "encoder": encoder,
              "label": target, "classes": []}
    return Prepared("tabular", x[fit], x[fit], x[val], x[val], x[test], y[test], x.shape[1], schema,
                    list(planned.notes))


def _anomaly_labels(label: pd.Series) -> np.ndarray:
    """1 for the rarer value of a two-valued label column (the anomalies), else 0."""
    counts = label.astype(str).value_counts()
    if len(counts) != 2:
        raise InvalidInput(f"The label column {label.name!r} has {len(counts)} values; an anomaly label needs two.",
                           hint="Leave the target empty for unlabelled anomaly detection.")
    return (label.astype(str) == counts.index[-1]).to_numpy("int64")


# ---- images --------------------------------------------------------------------------------------

def _image(frame: pd.DataFrame, spec: TrainSpec, target: str | None) -> Prepared:
    if target is None and "label" in frame.columns and "file" in frame.columns:
        target = "label"
    target = _need_target(frame, target, spec.task)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    check_target(frame, target, CLASSIFICATION, cv=2, test_size=spec.options.test_size)
    y, classes = _classes(frame, target)
    if spec.options.image_shape:
        x, schema, notes = _pixels(frame, target, spec.options.image_shape, y, spec)
    elif "file" in frame.columns:
        x, schema, notes = images.load_files(frame, spec.options.image_size)
    else:
        raise InvalidInput("Image classification needs either an image dataset (columns file, label) or pixel "
                           "columns with a declared shape.", hint='Pass options={"image_shape": [8, 8]} for 64 pixel columns.')
    return _supervised(x, y, spec, classes=classes, kind="image", schema=schema, notes=notes)


def _pixels(frame: pd.DataFrame, target: str, shape: list[int], y: np.ndarray,
            spec: TrainSpec) -> tuple[np.ndarray, dict[str, Any], list[str]]:
    if any(s < 1 or s > 512 for s in shape):
        raise InvalidInput(f"The image shape {shape} is out of range (each side 1 to 512).")
    chw = [1, *shape] if len(shape) == 2 else [shape[2], shape[0], shape[1]]  # [h, w] or [h, w, channels]
    pixels = [c for c in frame.columns if c != target and pd.api.types.is_numeric_dtype(frame[c])]
    needed = int(np.prod(chw))
    if len(pixels) != needed:
        raise InvalidInput(f"The image shape {shape} needs {needed} numeric pixel columns, but the table has "
                           f"{len(pixels)} besides the target.", hint="Declare the shape that matches the columns.")
    raw = frame[pixels].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy("float32")
    train, _ = _held_out(y, spec, True, int(y.max()) + 1)
    scale = float(np.abs(raw[train]).max()) or 1.0
    schema = {"kind": "image", "source": "pixels", "pixel_columns": pixels, "shape": chw, "scale": scale}
    return (raw / scale).reshape(-1, *chw), schema, []


# ---- text ----------------------------------------------------------------------------------------

def tokenize(text: Any) -> list[str]:
    return TOKEN.findall(str(text).lower()) if isinstance(text, str) else []


def encode_text(texts: pd.Series, vocab: dict[str, int], length: int) -> np.ndarray:
    """Token ids, pre-padded with 0 to `length` (the last tokens are kept); unknown words are 1."""
    out = np.zeros((len(texts), length), "int64")
    for i, text in enumerate(texts):
        ids = [vocab.get(t, OOV) for t in tokenize(text)][-length:]
        if ids:
            out[i, -len(ids):] = ids
    return out


def _text(frame: pd.DataFrame, spec: TrainSpec, target: str | None) -> Prepared:
    target = _need_target(frame, target, spec.task)
    column = spec.options.text_column or _guess_text(frame, target)
    if column not in frame.columns:
        raise InvalidInput(f"There is no text column {column!r}.", hint=f"Columns: {', '.join(map(str, frame.columns))}")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    if not frame[column].map(lambda t: bool(tokenize(t))).any():
        raise ModelError(f"The text column {column!r} is empty: no row has a word in it.",
                         hint="Pick the column that holds the text.")
    check_target(frame, target, CLASSIFICATION, cv=2, test_size=spec.options.test_size)
    y, classes = _classes(frame, target)
    train, _ = _held_out(y, spec, True, len(classes))
    counts = Counter(t for text in frame[column].iloc[train] for t in tokenize(text))  # training split only
    words = [w for w, _ in counts.most_common(spec.options.max_tokens - 2)]
    vocab = {w: i + 2 for i, w in enumerate(words)}
    x = encode_text(frame[column], vocab, spec.options.sequence_length)
    schema = {"kind": "tokens", "text_column": column, "vocab": words, "length": spec.options.sequence_length}
    notes = [f"Vocabulary: {len(words):,} words from the training split; others count as unknown."]
    return _supervised(x, y, spec, classes=classes, kind="tokens", schema=schema, notes=notes)


def _guess_text(frame: pd.DataFrame, target: str) -> str:
    texts = [c for c in frame.columns if c != target and not (pd.api.types.is_numeric_dtype(frame[c])
             or pd.api.types.is_datetime64_any_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    if not texts:
        raise InvalidInput("Text classification needs a text column.", hint='Pass options={"text_column": "..."}.')
    return max(texts, key=lambda c: frame[c].astype(str).str.len().mean())


# ---- series --------------------------------------------------------------------------------------

def order_column(frame: pd.DataFrame, requested: str | None) -> str:
    if requested:
        if requested not in frame.columns:
            raise InvalidInput(f"There is no time column {requested!r}.",
                               hint=f"Columns: {', '.join(map(str, frame.columns))}")
        return requested
    dates = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if not dates:
        raise InvalidInput("Sequence models need an order: this table has no date/time column.",
                           hint='Name the column that orders the rows with options={"time_column": "..."}, or choose '
                           "an MLP/ResNet for a table without order.")
    return dates[0]


def ordered_series(frame: pd.DataFrame, target: str, time_column: str) -> tuple[np.ndarray, pd.Series]:
    ordered = frame.sort_values(time_column, kind="stable")
    values = pd.to_numeric(ordered[target], errors="coerce")
    if values.notna().sum() < 2:
        raise ModelError(f"The column {target!r} has no numbers to forecast.", hint="Pick a numeric value column.")
    return values.interpolate(limit_direction="both").to_numpy("float64"), ordered[time_column]


def infer_season(times: pd.Series) -> int:
    try:
        freq = pd.infer_freq(pd.DatetimeIndex(pd.to_datetime(times)))
    except (TypeError, ValueError):
        freq = None
    key = (freq or "").upper().lstrip("0123456789")[:1]
    return {"M": 12, "Q": 4, "W": 52, "D": 7, "B": 5, "H": 24}.get(key, 1)


def _series(frame: pd.DataFrame, spec: TrainSpec, target: str | None) -> Prepared:
    target = _need_target(frame, target, spec.task)
    time_column = order_column(frame, spec.options.time_column)
    values, times = ordered_series(frame, target, time_column)
    window, horizon = spec.options.window, spec.options.horizon
    n = len(values) - window - horizon + 1
    if n < 10:
        raise InvalidInput(f"The window ({window}) plus horizon ({horizon}) is too long for a series of "
                           f"{len(values)} steps: it leaves {max(n, 0)} training example(s).",
                           hint=f"Use a window of at most {max(2, len(values) // 3)} steps.")
    n_test = max(1, math.ceil(spec.options.test_size * n))
    n_val = max(1, round(spec.options.validation_fraction * (n - n_test)))
    cut_val, cut_test = n - n_test - n_val, n - n_test
    season = spec.options.season or infer_season(times)
    level_x, level_y = series.windows(values, window, horizon)
    schema = {"kind": "series", "time_column": time_column, "value_column": target, "window": window,
              "horizon": horizon, "season": season, "first_test": int(cut_test), "classes": [],
              **series.fit(level_x[:cut_val], level_y[:cut_val], season)}  # training windows only
    x, y = series.inputs(level_x, schema), series.targets(level_x, level_y, schema)
    return Prepared("series", x[:cut_val], y[:cut_val], x[cut_val:cut_test], y[cut_val:cut_test],
                    x[cut_test:], y[cut_test:], horizon, schema,
                    [f"Chronological split: the last {n_test} window(s) are the test set; season {season}. The "
                     "network forecasts the seasonal-naive value plus a learned correction."], levels=values)
