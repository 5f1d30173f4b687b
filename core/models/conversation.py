"""Assistant conversations, their messages, and per-agent settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Text, Uuid
from sqlmodel import Field, SQLModel

from core.db import utcnow
from core.models.base import created_at, json_column, optional_json, owner_id_field, uuid_pk


class Conversation(SQLModel, table=True):
    """One chat thread with the assistant; `agent` is the pinned specialist (None: routed)."""

    __tablename__ = "conversation"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    title: str = Field(default="New conversation", max_length=200)
    agent: str | None = Field(default=None, max_length=50)
    dataset_id: str | None = Field(default=None, max_length=64)
    archived: bool = Field(default=False, index=True)
    created: datetime = created_at()
    updated: datetime = Field(default_factory=utcnow, nullable=False, index=True)


class Message(SQLModel, table=True):
    """A user or assistant message. `tool_calls` lists the tools that ran with their results."""

    __tablename__ = "message"

    id: uuid.UUID = uuid_pk()
    conversation_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("conversation.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    role: str = Field(max_length=20)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    agent: str | None = Field(default=None, max_length=50)
    tool_calls: list[dict[str, Any]] = json_column([])
    meta: dict[str, Any] | None = optional_json()
    created: datetime = created_at()


class AgentConfig(SQLModel, table=True):
    """Settings of one specialist: model, temperature and the tools it may use (None: all of its tools)."""

    __tablename__ = "agent_config"

    agent: str = Field(primary_key=True, max_length=50)
    model: str = Field(default="", max_length=200)
    temperature: float = 0.2
    enabled_tools: list[str] | None = optional_json()
    updated: datetime = Field(default_factory=utcnow, nullable=False)
