"""Model files under DATA_DIR/models, and the MLModel / TrainingRun rows that describe them.

A model file is read once into memory; those bytes are checked against the row's sha256 and the file's
HMAC signature (`core.ml.modelfile`, `core.ml.signing`) and the pipeline is built from the same bytes,
so a file swapped during loading cannot slip through. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import platform
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import select

from core import storage
from core.db import as_uuid, find_by_ref, session
from core.errors import ModelError, NotFound
from core.ml import modelfile
from core.models.ml import MLModel, TrainingRun


def library_versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn
    import skops
    import xgboost

    return {"python": platform.python_version(), "scikit-learn": sklearn.__version__,
            "xgboost": xgboost.__version__, "numpy": numpy.__version__, "pandas": pandas.__version__,
            "skops": skops.__version__}


SUFFIX = ".wbmodel"


def save_pipeline(model_id: uuid.UUID, pipeline: Any) -> tuple[str, str, int]:
    """Write a fitted pipeline, signed, atomically; return (stored path, sha256, size)."""
    blob = modelfile.dump(model_id, pipeline)
    target = storage.area("models") / f"{model_id}{SUFFIX}"
    with storage.atomic_path(target) as tmp:
        tmp.write_bytes(blob)
    return storage.relative(target), hashlib.sha256(blob).hexdigest(), len(blob)


def artifact_file(model: MLModel) -> Path:
    """The model's file, checked to lie inside DATA_DIR/models."""
    path = storage.absolute(model.artifact_path)
    storage.inside(storage.area("models"), path)
    if not path.is_file():
        raise ModelError(f"The file of model {model.name!r} is missing.", hint="Train the model again.")
    return path


def _verified_bytes(model: MLModel) -> bytes:
    """The file's bytes, read once, whose sha256 matches the row."""
    blob = artifact_file(model).read_bytes()
    if hashlib.sha256(blob).hexdigest() != model.sha256:
        raise ModelError(f"The file of model {model.name!r} has changed since it was saved; it will not be loaded.",
                         hint="Train the model again.")
    return blob


def load_pipeline(model: MLModel) -> Any:
    """The model's fitted pipeline, built from bytes that were verified (sha256 and signature)."""
    return modelfile.load(model.id, _verified_bytes(model), name=model.name)


def export_bytes(model: MLModel) -> bytes:
    """The verified skops payload, for download (`skops.io.load(path, trusted=[...])` opens it)."""
    return modelfile.payload(model.id, _verified_bytes(model), name=model.name)


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
    storage.remove_tree(storage.data_dir() / model.artifact_path)  # the local copy and the bucket's


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
