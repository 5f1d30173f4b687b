"""Datasets: versions, import notes and saved database connections.

Revision ID: 0002_datasets
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_datasets"
down_revision = "0001_foundation"
branch_labels = ("datasets",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset") as batch:
        batch.add_column(sa.Column("notes", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "dataset_version",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dataset_id", sa.Uuid(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        sa.Column("step", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("columns", sa.Integer(), nullable=False),
        sa.Column("schema_", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dataset_id", "version", name="uq_dataset_version"),
    )
    op.create_index("ix_dataset_version_dataset_id", "dataset_version", ["dataset_id"])
    op.create_index("ix_dataset_version_created", "dataset_version", ["created"])
    op.create_table(
        "database_connection",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("host", sa.String(300), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("database", sa.String(1000), nullable=False),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("password_env", sa.String(200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_database_connection_name", "database_connection", ["name"], unique=True)
    op.create_index("ix_database_connection_created", "database_connection", ["created"])


def downgrade() -> None:
    op.drop_table("database_connection")
    op.drop_table("dataset_version")
    with op.batch_alter_table("dataset") as batch:
        batch.drop_column("notes")
