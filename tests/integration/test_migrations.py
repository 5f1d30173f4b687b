"""Migrations apply on an empty PostgreSQL database and on SQLite, and match the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

import core.models  # noqa: F401
from core.db import alembic_config, migrate
from tests.conftest import scratch_pg_database

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
    with scratch_pg_database("wb_mig") as url:
        _check_schema(url)


def test_first_database_access_migrates_without_a_setup_call(workbench: Path) -> None:
    from core import datasets

    assert datasets.list_datasets() == []
    assert (workbench / "workbench.db").exists()


def test_concurrent_migrations_in_one_process_do_not_collide(tmp_path: Path) -> None:
    import threading

    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            engine = create_engine(f"sqlite:///{tmp_path / f'db{i}.db'}")
            migrate(engine)
            assert "job" in inspect(engine).get_table_names()
            engine.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
