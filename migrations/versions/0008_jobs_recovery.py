"""Jobs: when and by which process a job was last queued, and how often a lost message was re-sent.

Revision ID: 0008_jobs_recovery
Revises: 0001_foundation
Create Date: 2026-12-01

The maintenance thread uses these to find queued jobs whose broker message no longer exists
(Redis restarted without persistence, an embedded app process stopped) and queue them again.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_jobs_recovery"
down_revision = "0001_foundation"
branch_labels = ("jobs",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("enqueued_by", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("requeues", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("requeues")
        batch.drop_column("enqueued_by")
        batch.drop_column("enqueued_at")
