"""Migrations apply on an empty PostgreSQL database and on SQLite, and match the models."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import core.models  # noqa: F401
from core.db import alembic_config, migrate
from tests.conftest import PG_SERVER, _unavailable

pytestmark = pytest.mark.integration


def _check_schema(url: str) -> None:
    engine = create_engine(url)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"dataset", "job", "worker_beat", "alembic_version"} <= tables
    assert set(SQLModel.metadata.tables) <= tables
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    with engine.connect() as conn:
        applied = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
        diffs = [d for d in compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
                 if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]
    assert applied == heads
    assert diffs == [], f"models and migrations differ: {diffs}"
    migrate(engine)  # a second run is a no-op
    engine.dispose()


def test_migrations_on_empty_sqlite(tmp_path: Path) -> None:
    _check_schema(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_migrations_on_empty_postgresql() -> None:
    name = f"wb_mig_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _unavailable("PostgreSQL", exc)
    try:
        _check_schema(admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_first_database_access_migrates_without_a_setup_call(workbench: Path) -> None:
    from core import datasets

    assert datasets.list_datasets() == []
    assert (workbench / "workbench.db").exists()
