"""Protocols: API token digests (MCP and A2A bearer tokens) and the A2A task store.

Revision ID: 0011_protocols
Revises: 0001_foundation
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_protocols"
down_revision = "0001_foundation"
branch_labels = ("protocols",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("user", sa.String(200), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_api_token_user", "api_token", ["user"])
    op.create_index("ix_api_token_created", "api_token", ["created"])
    op.create_table(
        "a2a_task",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("context_id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("agent", sa.String(50), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task", sa.JSON(), nullable=False),
    )
    op.create_index("ix_a2a_task_context_id", "a2a_task", ["context_id"])
    op.create_index("ix_a2a_task_owner", "a2a_task", ["owner"])
    op.create_index("ix_a2a_task_state", "a2a_task", ["state"])
    op.create_index("ix_a2a_task_last_updated", "a2a_task", ["last_updated"])


def downgrade() -> None:
    op.drop_table("a2a_task")
    op.drop_table("api_token")
