"""Explore: the chart gallery and the SQL query history.

Revision ID: 0004_explore
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_explore"
down_revision = "0001_foundation"
branch_labels = ("explore",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visualization",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_name", sa.String(200), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("figure", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_visualization_dataset_id", "visualization", ["dataset_id"])
    op.create_index("ix_visualization_created", "visualization", ["created"])
    op.create_table(
        "query_history",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("sql", sa.Text(), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_query_history_created", "query_history", ["created"])


def downgrade() -> None:
    op.drop_table("query_history")
    op.drop_table("visualization")
