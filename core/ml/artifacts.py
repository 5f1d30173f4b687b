"""Model files under DATA_DIR/models, and the MLModel / TrainingRun rows that describe them.

A model file is loaded only when its sha256 matches the one stored in its row, so only
files the workbench wrote itself are ever unpickled.
"""

from __future__ import annotations

import hashlib
import platform
import uuid
from pathlib import Path
from typing import Any

import joblib
from sqlmodel import select

from core import storage
from core.db import as_uuid, find_by_ref, session
from core.errors import ModelError, NotFound
from core.models.ml import MLModel, TrainingRun


def library_versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn
    import xgboost

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "xgboost": xgboost.__version__, "numpy": numpy.__version__, "pandas": pandas.__version__}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_pipeline(model_id: uuid.UUID, pipeline: Any) -> tuple[str, str, int]:
    """Write a fitted pipeline atomically; return (stored path, sha256, size)."""
    target = storage.area("models") / f"{model_id}.joblib"
    with storage.atomic_path(target) as tmp:
        joblib.dump(pipeline, tmp, compress=3)
    return storage.relative(target), sha256_file(target), target.stat().st_size


def artifact_file(model: MLModel) -> Path:
    """The model's file, checked to lie inside DATA_DIR/models."""
    path = storage.absolute(model.artifact_path)
    storage.inside(storage.area("models"), path)
    if not path.is_file():
        raise ModelError(f"The file of model {model.name!r} is missing.", hint="Train the model again.")
    return path


def load_pipeline(model: MLModel) -> Any:
    """Unpickle a model's pipeline after checking its sha256 against the row."""
    path = artifact_file(model)
    if sha256_file(path) != model.sha256:
        raise ModelError(f"The file of model {model.name!r} has changed since it was saved; it will not be loaded.",
                         hint="Train the model again.")
    return joblib.load(path)


def get_model(ref: uuid.UUID | str) -> MLModel:
    """A model by id or by name (the newest of that name); raises NotFound."""
    row = find_by_ref(MLModel, ref)
    if row is None:
        raise NotFound(f"No model {str(ref)!r}.", hint="See the Models page for the trained models.")
    return row


def list_models(*, dataset_id: uuid.UUID | str | None = None) -> list[MLModel]:
    """Every stored model, newest first (optionally of one dataset)."""
    query = select(MLModel).order_by(MLModel.created.desc())
    if dataset_id is not None:
        query = query.where(MLModel.dataset_id == as_uuid(dataset_id))
    with session() as s:
        return list(s.exec(query).all())


def delete_model(ref: uuid.UUID | str) -> None:
    """Delete a model's row and its file."""
    model = get_model(ref)
    with session() as s:
        row = s.get(MLModel, model.id)
        if row is not None:
            s.delete(row)
    path = storage.absolute(model.artifact_path)
    path.unlink(missing_ok=True)


def get_run(ref: uuid.UUID | str) -> TrainingRun:
    key = as_uuid(ref)
    with session() as s:
        row = s.get(TrainingRun, key) if key else None
    if row is None:
        raise NotFound(f"No training run {str(ref)!r}.")
    return row


def list_runs(*, limit: int = 100) -> list[TrainingRun]:
    """Training runs, newest first."""
    with session() as s:
        return list(s.exec(select(TrainingRun).order_by(TrainingRun.created.desc()).limit(limit)).all())


def save_rows(*rows: Any) -> None:
    with session() as s:
        for row in rows:
            s.add(row)
