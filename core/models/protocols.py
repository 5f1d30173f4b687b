"""Network protocols: the API tokens that open MCP and A2A over HTTP, and the A2A tasks those clients start."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from core.db import utcnow
from core.models.base import created_at, json_column, owner_id_field, uuid_pk


class ApiToken(SQLModel, table=True):
    """An issued bearer token, kept only as its SHA-256 digest (the clear token is shown once, at issue).

    `user` is empty for a service token; per-user tokens (sign-in, issue 17) fill it in.
    """

    __tablename__ = "api_token"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(max_length=200)
    user: str | None = Field(default=None, max_length=200, index=True)
    digest: str = Field(max_length=64, unique=True)
    revoked: bool = Field(default=False)
    created: datetime = created_at()
    last_used: datetime | None = None


class A2ATask(SQLModel, table=True):
    """One A2A task as the protocol sees it (the whole Task, as JSON), so it outlives a server restart.

    `owner` is who may see it (the token's principal); `job_id` links a long task to its background job.
    """

    __tablename__ = "a2a_task"

    id: str = Field(primary_key=True, max_length=64)
    context_id: str = Field(default="", max_length=64, index=True)
    owner: str = Field(default="", max_length=200, index=True)
    agent: str = Field(default="", max_length=50)
    state: str = Field(default="", max_length=40, index=True)
    job_id: str | None = Field(default=None, max_length=64)
    last_updated: datetime = Field(default_factory=utcnow, nullable=False, index=True)
    task: dict[str, Any] = json_column({})
