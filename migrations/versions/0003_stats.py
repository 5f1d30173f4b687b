"""Statistics: saved hypothesis tests.

Revision ID: 0003_stats
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_stats"
down_revision = "0001_foundation"
branch_labels = ("stats",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hypothesis_test",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("test", sa.String(50), nullable=False),
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), sa.ForeignKey("dataset.id", ondelete="SET NULL"), nullable=True),
        sa.Column("dataset_name", sa.String(200), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=False),
        sa.Column("p_adjusted", sa.Float(), nullable=True),
        sa.Column("effect_size", sa.Float(), nullable=True),
        sa.Column("significant", sa.Boolean(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hypothesis_test_test", "hypothesis_test", ["test"])
    op.create_index("ix_hypothesis_test_dataset_id", "hypothesis_test", ["dataset_id"])
    op.create_index("ix_hypothesis_test_created", "hypothesis_test", ["created"])


def downgrade() -> None:
    op.drop_table("hypothesis_test")
