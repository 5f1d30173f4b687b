"""Exploration: charts saved to the gallery and the SQL query history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, owner_id_field, uuid_pk


class Visualization(SQLModel, table=True):
    """A chart in the gallery: the spec that built it, the figure as Plotly JSON, the dataset version it shows."""

    __tablename__ = "visualization"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(default="", max_length=300)
    kind: str = Field(max_length=50)
    dataset_id: uuid.UUID = Field(index=True)
    dataset_name: str = Field(default="", max_length=200)
    dataset_version: int = 1
    spec: dict[str, Any] = json_column({})
    figure: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created: datetime = created_at()


class QueryHistory(SQLModel, table=True):
    """One SQL query that was run or refused: its text, target, row count, duration and error."""

    __tablename__ = "query_history"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    sql: str = Field(sa_column=Column(Text, nullable=False))
    target: str = Field(default="datasets", max_length=500)
    rows: int = 0
    truncated: bool = False
    duration_s: float = 0.0
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created: datetime = created_at()
