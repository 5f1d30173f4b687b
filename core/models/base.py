"""Column helpers shared by the tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from core.db import utcnow

LOCAL_USER_ID = uuid.UUID(int=1)  # the single user of the embedded default; owns what existed before sign-in


def owner_id_field() -> Any:
    """Who owns the row: stamped by `core.users`' flush hook with the acting user (the local user by default)."""
    return Field(default=LOCAL_USER_ID, nullable=False, index=True)


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def created_at() -> Any:
    return Field(default_factory=utcnow, nullable=False, index=True)


def json_column(default: Any) -> Any:
    factory = (lambda: list(default)) if isinstance(default, list) else (lambda: dict(default))
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


def optional_json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


__all__ = ["LOCAL_USER_ID", "created_at", "datetime", "json_column", "optional_json", "owner_id_field", "uuid_pk"]
