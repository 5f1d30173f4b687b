"""External databases: saved connections and read-only imports of a table or a query.

A connection row holds kind, host, port, database and user; never the password. The password comes
from the environment variable the connection names (`password_env`) or is given for one call.
Queries must be a single SELECT (checked with sqlglot) and run in a read-only transaction where the
database supports one; results stream in batches into Arrow, with progress, up to the row limit.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlglot
from sqlalchemy import URL, create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlmodel import select

from core import storage
from core.datasets import store_table
from core.db import find_by_ref, session
from core.errors import Conflict, ConnectionFailed, IngestError, InvalidInput, InvalidSql, NotFound
from core.models.dataset import DatabaseConnection, Dataset
from core.progress import Progress, no_progress
from core.readers import normalise, unique_names

KINDS = {
    "postgresql": ("postgresql+psycopg", 5432, "postgres", "psycopg[binary]"),
    "mysql": ("mysql+pymysql", 3306, "mysql", "PyMySQL"),
    "sqlite": ("sqlite", None, "sqlite", ""),
    "mssql": ("mssql+pymssql", 1433, "tsql", "pymssql"),
}
BATCH_ROWS = 50_000
DEFAULT_LIMIT = 1_000_000
CONNECT_TIMEOUT_S = 10
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

def _password(conn: DatabaseConnection, password: str | None) -> str | None:
    if password:
        return password
    if conn.password_env:
        # the variable is named by the analyst per connection, so it cannot be a Settings field
        return os.environ.get(conn.password_env) or None
    return None


def url_for(conn: DatabaseConnection, password: str | None = None) -> URL:
    """The SQLAlchemy URL of a connection (the password only in memory)."""
    driver = KINDS[conn.kind][0]
    if conn.kind == "sqlite":
        path = Path(conn.database).expanduser().resolve()
        if not path.is_file():
            raise NotFound(f"No SQLite file at {path}.", hint="Give the full path of an existing .sqlite/.db file.")
        return URL.create(driver, database=f"file:{path}", query={"mode": "ro", "uri": "true"})
    return URL.create(driver, username=conn.user or None, password=_password(conn, password), host=conn.host,
                      port=conn.port, database=conn.database)


def _connect_args(kind: str) -> dict[str, Any]:
    if kind == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    if kind == "mysql":
        return {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": 600}
    if kind == "mssql":
        return {"login_timeout": CONNECT_TIMEOUT_S}
    return {}


@contextmanager
def open_engine(conn: DatabaseConnection, password: str | None = None) -> Iterator[Engine]:
    """An engine for one import (disposed afterwards); a missing driver is explained."""
    try:
        engine = create_engine(url_for(conn, password), connect_args=_connect_args(conn.kind), poolclass=None)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
        package = KINDS[conn.kind][3]
        raise ConnectionFailed(f"The driver for {conn.kind} is not installed.",
                               hint=f"Install it with: .venv/bin/pip install {package}") from exc
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def read_only(conn: DatabaseConnection, password: str | None = None) -> Iterator[Connection]:
    """A connection inside a read-only transaction (where the database has one); errors explained."""
    with open_engine(conn, password) as engine:
        try:
            with engine.connect() as c:
                if conn.kind == "postgresql":
                    c.execute(text("SET TRANSACTION READ ONLY"))
                elif conn.kind == "mysql":
                    c.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
                yield c
                c.rollback()
        except DBAPIError as exc:
            raise _explain(conn, exc) from exc


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


def list_tables(ref: uuid.UUID | str | DatabaseConnection, *, password: str | None = None) -> list[str]:
    """Tables and views the connection can read, as 'schema.table' where the database has schemas."""
    conn = get_connection(ref)
    with read_only(conn, password) as c:
        return sorted(_tables(c, conn.kind))


# ---------------------------------------------------------------- queries

def check_read_only(query: str, kind: str) -> str:
    """Return the query if it is one read-only SELECT, else raise InvalidSql naming what is wrong."""
    dialect = KINDS.get(kind, ("", 0, "postgres", ""))[2]
    cleaned = (query or "").strip().rstrip(";").strip()
    if not cleaned:
        raise InvalidSql("The query is empty.", hint="Write a SELECT ... FROM ... query.")
    try:
        statements = [s for s in sqlglot.parse(cleaned, read=dialect) if s is not None]
    except (ParseError, ValueError) as exc:
        raise InvalidSql(f"The query could not be parsed: {str(exc).splitlines()[0][:200]}",
                         hint="Check the SQL syntax for this database.") from exc
    if len(statements) != 1:
        raise InvalidSql("Only one statement can run at a time.", hint="Remove everything after the first ';'.")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise InvalidSql(f"Only read-only SELECT queries are allowed; this is a {tree.key.upper()} statement.",
                         hint="Write a SELECT query; changes to the database are not allowed from here.")
    for node in tree.walk():
        if isinstance(node, (exp.Into, exp.Insert, exp.Update, exp.Delete, exp.Create, exp.Drop, exp.Alter,
                             exp.Command, exp.Lock)) or type(node).__name__ in ("Merge", "TruncateTable", "Copy"):
            raise InvalidSql(f"The query contains {type(node).__name__.upper()}, which changes data or locks rows.",
                             hint="Only read-only SELECT queries are allowed.")
    return cleaned


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
    with read_only(conn, password) as c:
        sql = sql or _table_query(conn, c, str(table))
        total = _count(c, sql, limit)
        result = c.execution_options(stream_results=True, max_row_buffer=BATCH_ROWS).execute(text(sql))
        names = unique_names([str(k) for k in result.keys()], [])
        batches, got = [], 0
        while got < limit:
            rows = result.fetchmany(min(BATCH_ROWS, limit - got))
            if not rows:
                break
            batches.append(_batch_table(names, rows))
            got += len(rows)
            progress(min(got / total, 0.99) if total else None, f"Read {got:,} rows")
        result.close()
    if not batches:
        raise IngestError("The table or query returned no rows.", hint="Check the query's conditions.")
    return pa.concat_tables(batches, promote_options="permissive")


def _count(c: Connection, sql: str, limit: int) -> int | None:
    try:
        n = c.execute(text(f"SELECT count(*) FROM ({sql}) AS wb_count")).scalar()
    except SQLAlchemyError:
        c.rollback()
        return None
    return min(int(n or 0), limit)


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
