"""Documents for question answering: the file, its pages (or slides, or sections) and its chunks.

The vectors live in Chroma (one collection per embedding model); the text lives here,
so keyword search and citations need nothing but the database.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, Uuid
from sqlmodel import Field, SQLModel

from core.models.base import created_at, json_column, owner_id_field, uuid_pk


class DocumentStatus(StrEnum):
    indexing = "indexing"
    ready = "ready"


def _document_fk() -> Any:
    return Field(sa_column=Column(Uuid(), ForeignKey("document.id", ondelete="CASCADE"), nullable=False, index=True))


class Document(SQLModel, table=True):
    """An uploaded document. `pages` counts pages (PDF), slides (PPTX) or sections (DOCX, text)."""

    __tablename__ = "document"
    __table_args__ = (Index("uq_document_owner_hash", "owner_id", "hash", unique=True),)

    id: uuid.UUID = uuid_pk()
    owner_id: uuid.UUID = owner_id_field()
    name: str = Field(index=True, max_length=300)
    type: str = Field(max_length=10)
    pages: int = 0
    chunks: int = 0
    embedding_model: str = Field(max_length=200)
    status: str = Field(default=DocumentStatus.indexing, index=True, max_length=20)
    hash: str = Field(index=True, max_length=64)
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    path: str = Field(default="", max_length=1000)
    meta: dict[str, Any] = json_column({})
    created: datetime = created_at()
    indexed: datetime | None = None
    heartbeat_at: datetime | None = None


class DocumentPage(SQLModel, table=True):
    """The text of one page, slide or section, as shown beside a citation."""

    __tablename__ = "document_page"

    id: uuid.UUID = uuid_pk()
    document_id: uuid.UUID = _document_fk()
    number: int = Field(index=True)
    label: str = Field(default="", max_length=300)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))


class DocumentChunk(SQLModel, table=True):
    """A retrievable piece of a page: `start`/`end` are character offsets in that page's text."""

    __tablename__ = "document_chunk"

    id: uuid.UUID = uuid_pk()
    document_id: uuid.UUID = _document_fk()
    seq: int = 0
    page: int = 1
    start: int = 0
    end: int = 0
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
