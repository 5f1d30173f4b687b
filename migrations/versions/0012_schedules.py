"""Schedules: recurring dataset refreshes, profiles and template runs, and the runs they made.

Revision ID: 0012_schedules
Revises: 0001_foundation
Create Date: 2026-12-01

`schedule_run` has a unique (schedule_id, fire_time) key: the database, not the scheduler process,
decides that a slot fires once, even with two schedulers running.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_schedules"
down_revision = "0001_foundation"
branch_labels = ("schedules",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("target_label", sa.String(300), nullable=False),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("every_minutes", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("anchor_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_schedule_kind", "schedule", ["kind"])
    op.create_index("ix_schedule_target_id", "schedule", ["target_id"])
    op.create_index("ix_schedule_created", "schedule", ["created"])
    op.create_table(
        "schedule_run",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("schedule_id", sa.Uuid(), sa.ForeignKey("schedule.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("drift", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("schedule_id", "fire_time", name="uq_schedule_run_slot"),
    )
    op.create_index("ix_schedule_run_schedule_id", "schedule_run", ["schedule_id"])
    op.create_index("ix_schedule_run_job_id", "schedule_run", ["job_id"])
    op.create_index("ix_schedule_run_created", "schedule_run", ["created"])


def downgrade() -> None:
    op.drop_table("schedule_run")
    op.drop_table("schedule")
