"""Projects: a project, the items linked to it, its notes, its archived snapshots and its templates.

A flush hook links every new item (dataset, version, document, chart, test, SQL query, training run,
model, conversation) to the current project (`core.project_context`), so no creation site has to
know about projects. A new kind of item joins with `register_item_type`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Text, UniqueConstraint, Uuid, event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel

from core import project_context
from core.db import utcnow
from core.models.analysis import HypothesisTest
from core.models.base import created_at, json_column, owner_id_field, uuid_pk
from core.models.conversation import Conversation
from core.models.dataset import Dataset, DatasetVersion
from core.models.documents import Document
from core.models.explore import QueryHistory, Visualization
from core.models.ml import MLModel, TrainingRun

NOTE_KINDS = ("note", "finding", "todo", "decision")


def _project_fk(nullable: bool = False) -> Any:
    return Field(sa_column=Column(Uuid(), ForeignKey("project.id", ondelete="CASCADE"), nullable=nullable,
                                  index=True))


class Project(SQLModel, table=True):
    """A piece of work: its name, description and tags; `meta` keeps a template run's side-by-side results."""

    __tablename__ = "project"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(index=True, max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    tags: list[str] = json_column([])
    status: str = Field(default="active", index=True, max_length=20)  # "active" | "archived"
    meta: dict[str, Any] = json_column({})
    created: datetime = created_at()
    updated: datetime = Field(default_factory=utcnow, nullable=False, index=True)


class ProjectItem(SQLModel, table=True):
    """One stored item that belongs to a project (by type and id: items live in their own tables)."""

    __tablename__ = "project_item"
    __table_args__ = (UniqueConstraint("project_id", "item_type", "item_id", name="uq_project_item"),)

    id: uuid.UUID = uuid_pk()
    project_id: uuid.UUID = _project_fk()
    item_type: str = Field(max_length=30, index=True)
    item_id: uuid.UUID = Field(index=True)
    label: str = Field(default="", max_length=300)  # the item's name when linked: says what is gone once deleted
    created: datetime = created_at()


class ProjectNote(SQLModel, table=True):
    """A note, finding, to-do or decision in Markdown, optionally about one item."""

    __tablename__ = "project_note"

    id: uuid.UUID = uuid_pk()
    project_id: uuid.UUID = _project_fk()
    kind: str = Field(default="note", max_length=20)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    item_type: str | None = Field(default=None, max_length=30)
    item_id: uuid.UUID | None = None
    pinned: bool = False
    done: bool = False
    author: str = Field(default="", max_length=200)
    created: datetime = created_at()
    updated: datetime = Field(default_factory=utcnow, nullable=False)


class ProjectArchive(SQLModel, table=True):
    """A read-only snapshot of a finished project; `folder` (under DATA_DIR/archive) holds its files."""

    __tablename__ = "project_archive"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    project_id: uuid.UUID | None = Field(default=None, index=True)  # no FK: the snapshot outlives the project
    name: str = Field(index=True, max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    tags: list[str] = json_column([])
    dataset_names: list[str] = json_column([])
    snapshot: dict[str, Any] = json_column({})
    folder: str = Field(default="", max_length=1000)
    created: datetime = created_at()


class ProjectTemplate(SQLModel, table=True):
    """A reusable methodology: dataset roles with required columns, steps, parameters a user may change."""

    __tablename__ = "project_template"

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    archive_id: uuid.UUID | None = Field(default=None, index=True)
    name: str = Field(index=True, max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    roles: list[dict[str, Any]] = json_column([])
    steps: list[dict[str, Any]] = json_column([])
    parameters: list[dict[str, Any]] = json_column([])
    created: datetime = created_at()


ITEM_TYPES: dict[type, str] = {
    Dataset: "dataset", DatasetVersion: "dataset_version", Document: "document", Visualization: "chart",
    HypothesisTest: "test", QueryHistory: "sql", TrainingRun: "run", MLModel: "model", Conversation: "conversation",
}


def register_item_type(model: type, name: str) -> None:
    """Let items of `model` join the current project when they are created (e.g. deep-learning runs)."""
    ITEM_TYPES[model] = name


def item_type_of(obj: object) -> str | None:
    return ITEM_TYPES.get(type(obj))


@event.listens_for(OrmSession, "before_flush")
def _link_new_items(session: OrmSession, _context: Any, _instances: Any) -> None:
    """Link every new item of a known type to the current project, in the same transaction."""
    project_id = project_context.current()
    if project_id is None:
        return
    for obj in list(session.new):
        kind = ITEM_TYPES.get(type(obj))
        if kind is not None and getattr(obj, "id", None) is not None:
            session.add(ProjectItem(project_id=project_id, item_type=kind, item_id=obj.id, label=label_of(obj)))


def label_of(obj: object) -> str:
    """A short human name of an item (its name, title or SQL text)."""
    for attr in ("name", "title", "sql", "target"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)[:300]
    return ""
