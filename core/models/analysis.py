"""Saved analysis results: hypothesis tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Text, Uuid
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, owner_id_field, uuid_pk


class HypothesisTest(SQLModel, table=True):
    """One saved test result; `result` holds the whole TestResult as JSON."""

    __tablename__ = "hypothesis_test"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    test: str = Field(index=True, max_length=50)
    method: str = Field(default="", max_length=200)
    dataset_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(Uuid(), ForeignKey("dataset.id", ondelete="SET NULL"), nullable=True, index=True)
    )
    dataset_name: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=300)
    statistic: float | None = None
    p_value: float
    p_adjusted: float | None = None
    effect_size: float | None = None
    significant: bool = False
    conclusion: str = Field(default="", sa_column=Column(Text, nullable=False))
    params: dict[str, Any] = json_column({})
    result: dict[str, Any] = json_column({})
    created: datetime = created_at()
