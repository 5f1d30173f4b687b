"""Users (sign-in), project shares and the audit trail.

A user is keyed by the OpenID Connect provider's subject. The embedded default has one local user
(`LOCAL_USER_ID`, subject "local") who owns everything made before sign-in was switched on.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Text, Uuid
from sqlmodel import Field, SQLModel

from core.db import utcnow
from core.models.base import created_at, json_column, uuid_pk

LOCAL_SUBJECT = "local"


class User(SQLModel, table=True):
    """Someone who signs in (or the local user). `subject` is the provider's `sub` claim."""

    __tablename__ = "app_user"

    id: uuid.UUID = uuid_pk()
    subject: str = Field(max_length=300, unique=True, index=True)
    name: str = Field(default="", max_length=300)
    email: str = Field(default="", max_length=300, index=True)
    is_admin: bool = False
    created: datetime = created_at()
    last_seen: datetime = Field(default_factory=utcnow, nullable=False)


class ProjectShare(SQLModel, table=True):
    """A project opened to one user (`user_id`) or to everyone (`user_id` empty), read-only or editable."""

    __tablename__ = "project_share"

    id: uuid.UUID = uuid_pk()
    project_id: uuid.UUID = Field(sa_column=Column(Uuid(), ForeignKey("project.id", ondelete="CASCADE"),
                                                   nullable=False, index=True))
    user_id: uuid.UUID | None = Field(default=None, index=True)
    can_edit: bool = False
    created: datetime = created_at()


class AuditEvent(SQLModel, table=True):
    """Who did what, when: sign-ins, shares and deletions (administrators list them on Settings)."""

    __tablename__ = "audit_event"

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=50, index=True)
    item_type: str = Field(default="", max_length=50)
    item_id: str = Field(default="", max_length=100)
    label: str = Field(default="", sa_column=Column(Text, nullable=False))
    detail: dict[str, Any] = json_column({})
    created: datetime = created_at()
