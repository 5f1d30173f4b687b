"""Machine learning: training runs (a cross-validated leaderboard) and the models they keep."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, owner_id_field, uuid_pk


class TrainingRun(SQLModel, table=True):
    """One training request: the models compared, their CV scores, and the best model kept."""

    __tablename__ = "training_run"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    dataset_id: uuid.UUID = Field(index=True)
    dataset_name: str = Field(default="", max_length=200)
    dataset_version: int = 1
    target: str = Field(max_length=300)
    task: str = Field(max_length=20)  # "classification" | "regression"
    primary_metric: str = Field(max_length=30)
    cv: int = 5
    seed: int = 42
    params: dict[str, Any] = json_column({})
    leaderboard: list[dict[str, Any]] = json_column([])
    notes: list[str] = json_column([])
    best_model_id: uuid.UUID | None = Field(default=None)
    duration_s: float = 0.0
    created: datetime = created_at()


class MLModel(SQLModel, table=True):
    """A fitted scikit-learn pipeline stored under DATA_DIR/models, verified by its sha256 before loading."""

    __tablename__ = "ml_model"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(index=True, max_length=300)
    run_id: uuid.UUID | None = Field(default=None, index=True)
    task: str = Field(max_length=20)
    algorithm: str = Field(max_length=50)
    target: str = Field(max_length=300)
    metrics: dict[str, Any] = json_column({})
    params: dict[str, Any] = json_column({})
    feature_schema: dict[str, Any] = json_column({})
    dataset_id: uuid.UUID | None = Field(default=None, index=True)
    dataset_version: int = 1
    library_versions: dict[str, Any] = json_column({})
    artifact_path: str = Field(max_length=1000)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created: datetime = created_at()
