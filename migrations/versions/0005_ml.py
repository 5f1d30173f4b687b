"""ML: training runs and stored models.

Revision ID: 0005_ml
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_ml"
down_revision = "0001_foundation"
branch_labels = ("ml",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_run",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_name", sa.String(200), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("task", sa.String(20), nullable=False),
        sa.Column("primary_metric", sa.String(30), nullable=False),
        sa.Column("cv", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("leaderboard", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("best_model_id", sa.Uuid(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_training_run_dataset_id", "training_run", ["dataset_id"])
    op.create_index("ix_training_run_created", "training_run", ["created"])
    op.create_table(
        "ml_model",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("task", sa.String(20), nullable=False),
        sa.Column("algorithm", sa.String(50), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("feature_schema", sa.JSON(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=True),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("library_versions", sa.JSON(), nullable=False),
        sa.Column("artifact_path", sa.String(1000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ml_model_name", "ml_model", ["name"])
    op.create_index("ix_ml_model_run_id", "ml_model", ["run_id"])
    op.create_index("ix_ml_model_dataset_id", "ml_model", ["dataset_id"])
    op.create_index("ix_ml_model_created", "ml_model", ["created"])


def downgrade() -> None:
    op.drop_table("ml_model")
    op.drop_table("training_run")
