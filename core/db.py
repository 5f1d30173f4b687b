"""Engine, sessions and migrations.

The first call to `get_engine()` in a process applies pending Alembic migrations,
so a notebook or a script needs no set-up call. The same code runs on SQLite
(embedded default) and PostgreSQL (psycopg 3).
"""

from __future__ import annotations

import fcntl
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine, select

from core.config import get_settings

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
_lock = threading.Lock()
_migrate_lock = threading.Lock()
_engines: dict[str, Engine] = {}
MIGRATION_LOCK_KEY = 0x5742_4D49_4752  # "WBMIGR": the advisory lock every workbench process migrates under


def utcnow() -> datetime:
    """Timezone-aware UTC now (SQLModel stores and returns UTC on SQLite and PostgreSQL alike)."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at `migrations/` and the given database."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Apply every pending migration (all branch heads) to the engine's database.

    One migration at a time: Alembic's `op` and `context` are process-wide proxies, so two threads
    migrating at once (say a worker thread opening a new database while a page does) would clobber
    each other; and two processes starting on one fresh database (the app and a worker) would both
    create the tables. Threads wait on a lock; processes on a PostgreSQL advisory lock held by the
    migrating transaction, or on SQLite on an exclusive lock of a file beside the database.
    """
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with _migrate_lock, _sqlite_file_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """Hold an exclusive `flock` on `<database>.migrate.lock` (SQLite files only; a no-op otherwise)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    path = Path(database).with_name(Path(database).name + ".migrate.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def get_engine() -> Engine:
    """The engine for the configured database, migrated on first use in this process."""
    url = get_settings().resolved_database_url
    engine = _engines.get(url)
    if engine is not None:
        return engine
    with _lock:
        if url not in _engines:
            engine = _make_engine(url)
            migrate(engine)
            _engines[url] = engine
            log.info("database ready: %s", engine.url.render_as_string(hide_password=True))
    return _engines[url]


def reset_engines() -> None:
    """Dispose every engine (tests switch databases with this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def session() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def as_uuid(ref: object) -> uuid.UUID | None:
    """`ref` as a UUID, or None when it is not one."""
    try:
        return ref if isinstance(ref, uuid.UUID) else uuid.UUID(str(ref))
    except ValueError:
        return None


def find_by_ref(model: type, ref: object, *, name_field: str = "name") -> object | None:
    """The row of `model` whose UUID primary key equals `ref`, else the newest whose `name_field` does; or None."""
    with session() as s:
        key = as_uuid(ref)
        row = s.get(model, key) if key else None
        if row is None:
            query = select(model).where(model.__table__.c[name_field] == str(ref))
            if "created" in model.__table__.c:
                query = query.order_by(model.__table__.c["created"].desc())
            row = s.exec(query).first()
        return row


if __name__ == "__main__":  # `python -m core.db`: apply migrations and say where
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    get_engine()
