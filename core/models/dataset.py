"""Datasets: one row per stored table, its versions (one Parquet file each) and saved database connections."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, owner_id_field, uuid_pk


class Dataset(SQLModel, table=True):
    """A stored dataset. `schema_` lists columns as {name, dtype}; `version`, `path`, `rows`, `columns`,
    `schema_` and `size_bytes` describe the current version; `notes` says what the import fixed or assumed."""

    __tablename__ = "dataset"
    __table_args__ = (Index("uq_dataset_owner_name", "owner_id", "name", unique=True),)

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(index=True, max_length=200)
    source: str = Field(default="upload", max_length=50)
    source_detail: str = Field(default="", max_length=2000)
    format: str = Field(default="csv", max_length=20)
    path: str = Field(max_length=1000)
    rows: int = 0
    columns: int = 0
    schema_: list[dict[str, Any]] = json_column([])
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    version: int = 1
    notes: list[str] = json_column([])
    created: datetime = created_at()


class DatasetVersion(SQLModel, table=True):
    """One stored state of a dataset: version 1 is the import, each cleaning step adds one."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "version", name="uq_dataset_version"),)

    id: uuid.UUID = uuid_pk()
    dataset_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    version: int
    parent: int | None = None
    step: dict[str, Any] = json_column({})
    summary: str = Field(default="", max_length=2000)
    path: str = Field(max_length=1000)
    rows: int = 0
    columns: int = 0
    schema_: list[dict[str, Any]] = json_column([])
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    created: datetime = created_at()


class DatabaseConnection(SQLModel, table=True):
    """A saved external database. The password is never stored: `password_env` names the environment
    variable that holds it, or the analyst types it for the session."""

    __tablename__ = "database_connection"
    __table_args__ = (Index("uq_database_connection_owner_name", "owner_id", "name", unique=True),)

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(index=True, max_length=200)
    kind: str = Field(max_length=20)
    host: str = Field(default="", max_length=300)
    port: int | None = None
    database: str = Field(default="", max_length=1000)
    user: str = Field(default="", max_length=200)
    password_env: str = Field(default="", max_length=200)
    created: datetime = created_at()
