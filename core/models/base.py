"""Column helpers shared by the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from core.db import utcnow


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def created_at() -> Any:
    return Field(default_factory=utcnow, nullable=False, index=True)


def json_column(default: Any) -> Any:
    factory = (lambda: list(default)) if isinstance(default, list) else (lambda: dict(default))
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


def optional_json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


__all__ = ["created_at", "datetime", "json_column", "optional_json", "uuid_pk"]
