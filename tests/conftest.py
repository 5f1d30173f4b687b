"""Shared fixtures: every test gets its own DATA_DIR and SQLite database; `backend` adds PostgreSQL.

TEST_DATABASE_URL (a PostgreSQL server URL) and TEST_REDIS_URL point the integration
tests at real services; under CI=true a missing service is an error, locally a skip.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.config import reload_settings
from core.db import get_engine, reset_engines

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _worker_redis(url: str) -> str:
    """Under pytest-xdist each worker flushes a database of its own: gw0 keeps the given one, gw1 the one below."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    return f"{base}/{(int(db or 0) - int(worker[2:])) % 16}"


REDIS = _worker_redis(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def _unavailable(what: str, exc: Exception) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI but unreachable: {exc}")
    pytest.skip(f"{what} unreachable: {exc}")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated to the heads, made once per test process: each test starts from a copy
    (migrating a fresh file costs 0.2-0.4 s, and nearly every test opens the database)."""
    from core.db import _make_engine, migrate

    path = tmp_path_factory.mktemp("migrated") / "workbench.db"
    engine = _make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection checkpoints the write-ahead log into the file
    return path


@pytest.fixture(autouse=True)
def workbench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
              migrated_sqlite: Path) -> Iterator[Path]:
    """A fresh DATA_DIR and SQLite database (a copy of a migrated one, unless the test is marked
    `fresh_database`), embedded broker, no API keys."""
    data = tmp_path / "data"
    if request.node.get_closest_marker("fresh_database") is None:
        data.mkdir(parents=True)
        shutil.copyfile(migrated_sqlite, data / "workbench.db")
    monkeypatch.setenv("DATA_DIR", str(data))
    for name in ("DATABASE_URL", "REDIS_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "CHROMA_HOST",
                 "SERPAPI_API_KEY", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("JOB_HEARTBEAT_TIMEOUT_S", "120")
    monkeypatch.setenv("SCHEDULER_IN_APP", "false")  # AppTests must not start a scheduler thread in pytest
    monkeypatch.setenv("MODEL_KEY_FILE", str(tmp_path / "keys" / "model-signing.key"))  # outside DATA_DIR
    monkeypatch.chdir(tmp_path)  # keeps a developer's .env out of the tests
    reload_settings()
    yield data
    reset_engines()


@contextmanager
def scratch_pg_database(prefix: str) -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards (skip or fail if unreachable)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # reported as skip or failure
        _unavailable("PostgreSQL", exc)
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session."""
    with scratch_pg_database("wb_test") as url:
        yield url


def _truncate_all(url: str) -> None:
    """Empty every table of the database at `url` (its own engine: the app's engines may still be switching)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = [r[0] for r in conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"))]
            if tables:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture
def postgres(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Switch this test to the PostgreSQL test database, emptied first."""
    monkeypatch.setenv("DATABASE_URL", pg_database)
    reload_settings()
    reset_engines()
    get_engine()  # migrated on first use
    _truncate_all(pg_database)
    return pg_database


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test on SQLite and again on PostgreSQL."""
    if request.param == "postgres":
        request.getfixturevalue("postgres")
    return request.param


@pytest.fixture
def redis_url(monkeypatch: pytest.MonkeyPatch) -> str:
    """A real Redis (database 15, flushed) set as REDIS_URL."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        _unavailable("Redis", exc)
    client.flushdb()
    monkeypatch.setenv("REDIS_URL", REDIS)
    reload_settings()
    return REDIS


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    """A small CSV with numbers, text and a missing value."""
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\n")
    return path
