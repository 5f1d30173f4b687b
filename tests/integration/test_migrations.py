"""Migrations apply on an empty PostgreSQL database and on SQLite, and match the models."""

from __future__ import annotations

import time
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


@pytest.mark.fresh_database
def test_first_database_access_migrates_without_a_setup_call(workbench: Path) -> None:
    from core import datasets

    assert not (workbench / "workbench.db").exists()
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


MIGRATE_ON_GO = """
import sys, time
from pathlib import Path
from sqlalchemy import create_engine
from core.db import migrate
engine = create_engine(sys.argv[1])
go = Path(sys.argv[2])
Path(sys.argv[3]).touch()  # imported: ready for the start signal
while not go.exists():
    time.sleep(0.005)
migrate(engine)
"""


def _migrate_at_once(url: str, tmp_path: Path, processes: int = 3) -> list[str]:
    """Start `processes` real processes, let them migrate `url` at the same moment; return the failures."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    go = tmp_path / f"go-{uuid.uuid4().hex}"
    ready = [tmp_path / f"ready-{uuid.uuid4().hex}" for _ in range(processes)]
    procs = [subprocess.Popen([sys.executable, "-c", MIGRATE_ON_GO, url, str(go), str(flag)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for flag in ready]
    deadline = time.monotonic() + 60
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.02)  # every process has imported: they start migrating at the same moment
    go.touch()
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    return [out[-800:] for p, out in zip(procs, outputs, strict=True) if p.returncode != 0]


@pytest.mark.parametrize("round_", range(3))
def test_processes_migrating_one_fresh_sqlite_database_at_once_all_succeed(round_: int, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    assert _migrate_at_once(url, tmp_path) == []
    _check_schema(url)


@pytest.mark.parametrize("round_", range(3))
def test_processes_migrating_one_fresh_postgresql_database_at_once_all_succeed(round_: int, tmp_path: Path) -> None:
    with scratch_pg_database("wb_race") as url:
        assert _migrate_at_once(url, tmp_path) == []
        _check_schema(url)
