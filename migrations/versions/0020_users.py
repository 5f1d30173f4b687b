"""Users, project shares, the audit trail, and an owner on every stored item.

Revision ID: 0020_users
Revises: every feature branch (a merge)
Create Date: 2026-12-01

Every owned table gains `owner_id`, defaulting (also in the database, for rows written by raw
inserts) to the local user, who owns everything made before sign-in. Names and document hashes were
unique across the whole database; they become unique per owner, so one analyst's "sales" neither
blocks nor reveals another's.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0020_users"
# It changes tables of every feature, so it merges their branches.
down_revision = ("0002_datasets", "0003_stats", "0004_explore", "0005_ml", "0006_documents", "0007_agents",
                 "0008_jobs_recovery", "0010_projects", "0011_protocols", "0012_schedules")
branch_labels = ("users",)
depends_on = None

LOCAL = uuid.UUID(int=1)
OWNED = ("dataset", "database_connection", "document", "schedule", "project", "project_archive",
         "project_template", "job", "visualization", "query_history", "conversation", "hypothesis_test",
         "training_run", "ml_model", "api_token")


def _local_literal() -> str:
    return f"'{LOCAL}'" if op.get_bind().dialect.name == "postgresql" else f"'{LOCAL.hex}'"


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("email", sa.String(300), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_app_user_subject", "app_user", ["subject"], unique=True)
    op.create_index("ix_app_user_email", "app_user", ["email"])
    op.create_index("ix_app_user_created", "app_user", ["created"])
    op.create_table(
        "project_share",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("project_id", sa.Uuid(), sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("can_edit", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_project_share_project_id", "project_share", ["project_id"])
    op.create_index("ix_project_share_user_id", "project_share", ["user_id"])
    op.create_index("ix_project_share_created", "project_share", ["created"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("item_type", sa.String(50), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_event_user_id", "audit_event", ["user_id"])
    op.create_index("ix_audit_event_action", "audit_event", ["action"])
    op.create_index("ix_audit_event_created", "audit_event", ["created"])
    local = _local_literal()
    for table in OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("owner_id", sa.Uuid(), nullable=False, server_default=sa.text(local)))
        op.create_index(f"ix_{table}_owner_id", table, ["owner_id"])
    op.drop_index("ix_dataset_name", "dataset")
    op.create_index("ix_dataset_name", "dataset", ["name"])
    op.create_index("uq_dataset_owner_name", "dataset", ["owner_id", "name"], unique=True)
    op.drop_index("ix_database_connection_name", "database_connection")
    op.create_index("ix_database_connection_name", "database_connection", ["name"])
    op.create_index("uq_database_connection_owner_name", "database_connection", ["owner_id", "name"], unique=True)
    op.drop_index("ix_document_hash", "document")
    op.create_index("ix_document_hash", "document", ["hash"])
    op.create_index("uq_document_owner_hash", "document", ["owner_id", "hash"], unique=True)
    op.execute(sa.text(f"INSERT INTO app_user (id, subject, name, email, is_admin, created, last_seen) "
                       f"VALUES ({local}, 'local', 'Local user', '', {'true' if op.get_bind().dialect.name == 'postgresql' else '1'}, "
                       f"CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def downgrade() -> None:
    op.drop_index("uq_document_owner_hash", "document")
    op.drop_index("ix_document_hash", "document")
    op.create_index("ix_document_hash", "document", ["hash"], unique=True)
    op.drop_index("uq_database_connection_owner_name", "database_connection")
    op.drop_index("ix_database_connection_name", "database_connection")
    op.create_index("ix_database_connection_name", "database_connection", ["name"], unique=True)
    op.drop_index("uq_dataset_owner_name", "dataset")
    op.drop_index("ix_dataset_name", "dataset")
    op.create_index("ix_dataset_name", "dataset", ["name"], unique=True)
    for table in OWNED:
        op.drop_index(f"ix_{table}_owner_id", table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("owner_id")
    op.drop_table("audit_event")
    op.drop_table("project_share")
    op.drop_table("app_user")
