"""Datasets: one row per stored table, its Parquet file under DATA_DIR."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, uuid_pk


class Dataset(SQLModel, table=True):
    """A stored dataset. `schema_` lists columns as {name, dtype}; `version` is the current version."""

    __tablename__ = "dataset"

    id: uuid.UUID = uuid_pk()
    name: str = Field(index=True, unique=True, max_length=200)
    source: str = Field(default="upload", max_length=50)
    source_detail: str = Field(default="", max_length=2000)
    format: str = Field(default="csv", max_length=20)
    path: str = Field(max_length=1000)
    rows: int = 0
    columns: int = 0
    schema_: list[dict[str, Any]] = json_column([])
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    version: int = 1
    created: datetime = created_at()
