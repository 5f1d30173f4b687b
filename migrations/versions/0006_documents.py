"""Documents: uploaded files, their pages and chunks (vectors live in Chroma).

Revision ID: 0006_documents
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_documents"
down_revision = "0001_foundation"
branch_labels = ("documents",)
depends_on = None


def _document_fk() -> sa.Column:
    return sa.Column("document_id", sa.Uuid(), sa.ForeignKey("document.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("embedding_model", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("indexed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_document_name", "document", ["name"])
    op.create_index("ix_document_status", "document", ["status"])
    op.create_index("ix_document_hash", "document", ["hash"], unique=True)
    op.create_index("ix_document_created", "document", ["created"])
    op.create_table(
        "document_page",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _document_fk(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_document_page_document_id", "document_page", ["document_id"])
    op.create_index("ix_document_page_number", "document_page", ["number"])
    op.create_table(
        "document_chunk",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _document_fk(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_document_chunk_document_id", "document_chunk", ["document_id"])


def downgrade() -> None:
    op.drop_table("document_chunk")
    op.drop_table("document_page")
    op.drop_table("document")
