"""External databases: saved connections and read-only imports of a table or a query.

A connection row holds kind, host, port, database and user; never the password. The password comes
from the environment variable the connection names (`password_env`) or is given for one call.
Queries take the one path of all external SQL (`core.sql.external`): validated for the database's
dialect (one SELECT, allow-listed functions, no executable comments), run in a session that stays
read-only for the whole call with a statement timeout set in the database; results stream in
batches into Arrow, with progress, up to the row limit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, NoSuchModuleError
from sqlmodel import select

import core.sql.external as external
from core import storage
from core.config import get_settings
from core.datasets.store import store_table
from core.db import find_by_ref, session
from core.errors import Conflict, ConnectionFailed, IngestError, InvalidInput, InvalidSql, NotFound
from core.models.dataset import DatabaseConnection, Dataset
from core.progress import Progress, no_progress
from core.readers import normalise, unique_names
from core.sql.external import KINDS, url_for

BATCH_ROWS = 50_000
DEFAULT_LIMIT = 1_000_000
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")


# ---------------------------------------------------------------- saved connections

def save_connection(name: str, kind: str, *, host: str = "", port: int | None = None, database: str = "",
                    user: str = "", password_env: str = "") -> DatabaseConnection:
    """Save a connection (no password: name the environment variable holding it in `password_env`)."""
    name = storage.check_name(name, what="connection name")
    if kind not in KINDS:
        raise InvalidInput(f"Unknown database kind {kind!r}.", hint=f"Choose one of {', '.join(KINDS)}.")
    if password_env and not _ENV_RE.match(password_env):
        raise InvalidInput(f"{password_env!r} is not an environment variable name.", hint="Use e.g. SALES_DB_PASSWORD.")
    if kind != "sqlite" and not host:
        raise InvalidInput("Give the database server's host name.", hint="For example db.example.com or 127.0.0.1.")
    if not database:
        raise InvalidInput("Give the database name (the file path for SQLite).")
    row = DatabaseConnection(name=name, kind=kind, host=host.strip(), port=port or KINDS[kind][1],
                             database=database.strip(), user=user.strip(), password_env=password_env.strip())
    try:
        with session() as s:
            s.add(row)
    except IntegrityError as exc:
        raise Conflict(f"A connection named {name!r} already exists.", hint="Choose another name.") from exc
    return row


def list_connections() -> list[DatabaseConnection]:
    with session() as s:
        return list(s.exec(select(DatabaseConnection).order_by(DatabaseConnection.name)).all())


def get_connection(ref: uuid.UUID | str | DatabaseConnection) -> DatabaseConnection:
    """A saved connection by id or name (or the row itself); raises NotFound."""
    if isinstance(ref, DatabaseConnection):
        return ref
    row = find_by_ref(DatabaseConnection, ref)
    if row is None:
        raise NotFound(f"No database connection {str(ref)!r}.", hint="Save one on the Datasets page first.")
    return row


def delete_connection(ref: uuid.UUID | str) -> None:
    row = get_connection(ref)
    with session() as s:
        s.delete(s.get(DatabaseConnection, row.id))


# ---------------------------------------------------------------- engines

@contextmanager
def open_engine(conn: DatabaseConnection, password: str | None = None, *,
                timeout_s: float | None = None) -> Iterator[Engine]:
    """An engine for one call (disposed afterwards), with the read-only session options; a missing driver
    is explained."""
    timeout_s = get_settings().db_import_timeout_s if timeout_s is None else timeout_s
    try:
        engine = external.engine_for(url_for(conn, password), timeout_s)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        package = KINDS[conn.kind][3]
        raise ConnectionFailed(f"The driver for {conn.kind} is not installed.",
                               hint=f"Install it with: .venv/bin/pip install {package}") from exc
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def read_only(conn: DatabaseConnection, password: str | None = None, *,
              timeout_s: float | None = None) -> Iterator[Connection]:
    """A connection that stays read-only for the whole call, with the statement timeout set in the
    database session (see `core.sql.external.read_only`); errors explained."""
    timeout_s = get_settings().db_import_timeout_s if timeout_s is None else timeout_s
    with open_engine(conn, password, timeout_s=timeout_s) as engine:
        try:
            with external.read_only(engine, timeout_s) as c:
                yield c
        except DBAPIError as exc:
            raise _explain(conn, exc) from exc
        except ConnectionFailed as exc:
            cause = exc.__cause__
            raise (_explain(conn, cause) if isinstance(cause, DBAPIError) else exc) from exc


def _explain(conn: DatabaseConnection, exc: DBAPIError) -> Exception:
    text_ = str(exc.orig or exc).strip().splitlines()[0][:300]
    lowered = text_.lower()
    if any(k in lowered for k in ("password", "access denied", "authentication", "login failed", "no password",
                                  "role \"")):
        where = f" (from ${conn.password_env})" if conn.password_env else ""
        return ConnectionFailed(f"{conn.kind} at {conn.host or conn.database} refused the login for user "
                                f"{conn.user!r}{where}: {text_}",
                                hint="Check the user name and password; set the password's environment variable "
                                     "or type it for this session.")
    if any(k in lowered for k in ("could not connect", "connection refused", "can't connect", "timeout",
                                  "unable to open", "name or service")):
        return ConnectionFailed(f"Could not reach {conn.kind} at {conn.host or conn.database}: {text_}",
                                hint="Check host, port and that the server is running.")
    if any(k in lowered for k in ("read-only", "read only")):
        return InvalidSql(f"The database refused a write: {text_}", hint="Only read-only queries are allowed.")
    return IngestError(f"The database answered an error: {text_}", hint="Check the table name or the query.")


def test_connection(ref: uuid.UUID | str | DatabaseConnection, *, password: str | None = None) -> str:
    """Connect and return the server version text; raises ConnectionFailed with the reason."""
    conn = get_connection(ref)
    query = {"postgresql": "SELECT version()", "mysql": "SELECT version()", "sqlite": "SELECT sqlite_version()",
             "mssql": "SELECT @@VERSION"}[conn.kind]
    with read_only(conn, password) as c:
        return str(c.execute(text(query)).scalar())


def role_warning(ref: uuid.UUID | str | DatabaseConnection, *, password: str | None = None) -> str | None:
    """A warning when the connection's login can write to its database (imports still only read), else None."""
    conn = get_connection(ref)
    with read_only(conn, password) as c:
        return external.role_warning(c)


def list_tables(ref: uuid.UUID | str | DatabaseConnection, *, password: str | None = None) -> list[str]:
    """Tables and views the connection can read, as 'schema.table' where the database has schemas."""
    conn = get_connection(ref)
    with read_only(conn, password) as c:
        return sorted(_tables(c, conn.kind))


# ---------------------------------------------------------------- queries

def check_read_only(query: str, kind: str) -> str:
    """Return the query (without a trailing ';') if it may run on this kind of database, else raise InvalidSql
    naming what is wrong: one read-only SELECT, allow-listed functions, no executable comments."""
    return external.check(query, kind)


def _table_query(conn: DatabaseConnection, c: Connection, table: str) -> str:
    if table not in _tables(c, conn.kind):
        raise NotFound(f"No table {table!r} in {conn.name}.", hint="Pick one from the list of tables.")
    prep = c.dialect.identifier_preparer
    parts = table.split(".", 1) if "." in table and table.split(".", 1)[1] else [table]
    return "SELECT * FROM " + ".".join(prep.quote(p) for p in parts)


def _tables(c: Connection, kind: str) -> list[str]:
    insp = inspect(c)
    schemas = [None] if kind in ("sqlite", "mysql") else [
        s for s in insp.get_schema_names() if s not in ("information_schema", "pg_catalog", "sys")
        and not s.startswith("pg_")]
    names = []
    for schema in schemas:
        prefix = f"{schema}." if schema and schema not in ("public", "dbo") else ""
        names += [prefix + t for t in insp.get_table_names(schema=schema) + insp.get_view_names(schema=schema)]
    return names


def _batch_table(columns: list[str], rows: list[Any]) -> pa.Table:
    """One fetched batch as Arrow, column by column; values Arrow cannot type (UUID, odd objects) become text."""
    values = list(zip(*rows, strict=True)) if rows else [[] for _ in columns]
    arrays = []
    for col in values:
        try:
            arrays.append(pa.array(list(col)))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays.append(pa.array([None if v is None else str(v) for v in col], type=pa.string()))
    return pa.Table.from_arrays(arrays, names=columns)


def fetch(conn: DatabaseConnection, *, table: str | None = None, query: str | None = None,
          limit: int | None = None, password: str | None = None, progress: Progress = no_progress) -> pa.Table:
    """Read a table or a read-only query into Arrow, in batches, stopping at `limit` rows."""
    if bool(table) == (query is not None):
        raise InvalidInput("Choose a table or write a query (one of the two).")
    limit = int(limit or DEFAULT_LIMIT)
    if limit < 1:
        raise InvalidInput("The row limit must be at least 1.")
    sql = check_read_only(query, conn.kind) if query is not None else None
    timeout_s = get_settings().db_import_timeout_s
    with read_only(conn, password, timeout_s=timeout_s) as c:
        sql = sql or _table_query(conn, c, str(table))
        try:
            out = _read(c, sql, limit, progress)
        except c.dialect.loaded_dbapi.Error as exc:
            raise external.refused_by_database(conn.kind, exc, timeout_s) from exc
    if out.num_rows == 0:
        raise IngestError("The table or query returned no rows.", hint="Check the query's conditions.")
    return out


def _read(c: Connection, sql: str, limit: int, progress: Progress) -> pa.Table:
    total = external.count(c, sql)
    total = None if total is None else min(total, limit)
    tables, got, names = [], 0, None
    for columns, rows in external.batches(c, sql, limit=limit, batch_rows=BATCH_ROWS):
        names = names or unique_names(columns, [])
        if not rows:
            break
        tables.append(_batch_table(names, rows))
        got += len(rows)
        progress(min(got / total, 0.99) if total else None, f"Read {got:,} rows")
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive")


def import_database(connection: uuid.UUID | str | DatabaseConnection, *, table: str | None = None,
                    query: str | None = None, name: str | None = None, limit: int | None = None,
                    password: str | None = None, progress: Progress | None = None) -> Dataset:
    """Import a table or a read-only query from a saved connection as a new dataset."""
    conn = get_connection(connection)
    progress = progress or no_progress
    progress(0.0, f"Connecting to {conn.name}")
    data = fetch(conn, table=table, query=query, limit=limit, password=password, progress=progress)
    progress(0.99, f"Storing {data.num_rows:,} rows")
    default = (table or "query").replace(".", "_")
    detail = f"{conn.kind}://{conn.host}/{conn.database} " + (f"table {table}" if table else f"query: {query}")
    notes = [f"Stopped at the row limit of {limit:,}."] if limit and data.num_rows >= int(limit) else []
    data = normalise(data, notes, conn.name)
    return store_table(data, name=name or f"{conn.name}_{default}"[:150], source="database", source_detail=detail,
                       fmt=conn.kind, notes=notes)
