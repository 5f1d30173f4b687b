"""Projects: projects, their linked items and notes, archived snapshots and templates.

Revision ID: 0010_projects
Revises: 0001_foundation
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_projects"
down_revision = "0001_foundation"
branch_labels = ("projects",)
depends_on = None


def _project_fk() -> sa.Column:
    return sa.Column("project_id", sa.Uuid(), sa.ForeignKey("project.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("name", "status", "created", "updated"):
        op.create_index(f"ix_project_{column}", "project", [column])
    op.create_table(
        "project_item",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _project_fk(),
        sa.Column("item_type", sa.String(30), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("project_id", "item_type", "item_id", name="uq_project_item"),
    )
    for column in ("project_id", "item_type", "item_id", "created"):
        op.create_index(f"ix_project_item_{column}", "project_item", [column])
    op.create_table(
        "project_note",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _project_fk(),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("item_type", sa.String(30), nullable=True),
        sa.Column("item_id", sa.Uuid(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_project_note_project_id", "project_note", ["project_id"])
    op.create_index("ix_project_note_created", "project_note", ["created"])
    op.create_table(
        "project_archive",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("dataset_names", sa.JSON(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("folder", sa.String(1000), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("project_id", "name", "created"):
        op.create_index(f"ix_project_archive_{column}", "project_archive", [column])
    op.create_table(
        "project_template",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("archive_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    for column in ("archive_id", "name", "created"):
        op.create_index(f"ix_project_template_{column}", "project_template", [column])


def downgrade() -> None:
    for table in ("project_template", "project_archive", "project_note", "project_item", "project"):
        op.drop_table(table)
