"""External databases: the one path every SQL sent to another database takes (SQL tab and imports).

`check` validates the statement for the database's dialect (one query, allow-listed functions,
no executable comments). `read_only` opens a session that cannot write for the whole call: on
PostgreSQL the session default is read-only from connect time (`default_transaction_read_only`)
and the transaction is read-only; on MySQL/MariaDB the session and the transaction are read-only;
on SQLite `query_only` is on. The statement timeout is set in the database session
(`statement_timeout`, `max_statement_time` / `max_execution_time`, a progress handler on SQLite).
Everything is rolled back at the end; a failed statement inside is undone to a savepoint, never by
ending the read-only transaction. `role_warning` says when the login itself could write.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from core import storage
from core.bounds import ResultBudget, result_too_large, row_bytes
from core.errors import ConnectionFailed, InvalidInput, InvalidSql, NotFound
from core.models.dataset import DatabaseConnection
from core.sql.guard import validate

log = logging.getLogger(__name__)

DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite", "mssql": "tsql"}
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql",
           "mariadb": "mariadb+pymysql"}
SUPPORTED_DRIVERS = frozenset(DRIVERS.values()) | {"mysql+pymysql", "mssql", "mssql+pyodbc", "mssql+pymssql"}
CONNECT_TIMEOUT_S = 10
# kind of a saved connection: SQLAlchemy driver, default port, sqlglot dialect, package to install
KINDS = {
    "postgresql": ("postgresql+psycopg", 5432, "postgres", "psycopg[binary]"),
    "mysql": ("mysql+pymysql", 3306, "mysql", "PyMySQL"),
    "sqlite": ("sqlite", None, "sqlite", ""),
    "mssql": ("mssql+pymssql", 1433, "tsql", "pymssql"),
}
URL_PARAMETERS = frozenset({
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl", "sslcompression", "ssl_ca", "ssl_cert",
    "ssl_key", "ssl_check_hostname", "ssl_verify_cert", "ssl_verify_identity", "ssl_disabled", "charset",
    "application_name", "connect_timeout", "target_session_attrs", "user", "password", "passwd", "host", "port",
    "dbname", "mode", "uri",
})
SAFE_ROLE_HINT = "Use a database role that may only SELECT (see docs/datasets.md, 'A read-only login')."


def _password(conn: DatabaseConnection, password: str | None) -> str | None:
    if password:
        return password
    if conn.password_env:
        # the variable is named by the analyst per connection, so it cannot be a Settings field
        return os.environ.get(conn.password_env) or None
    return None


def url_for(conn: DatabaseConnection, password: str | None = None) -> URL:
    """The SQLAlchemy URL of a saved connection (the password only in memory: given for this call, or read
    from the environment variable the connection names)."""
    driver = KINDS[conn.kind][0]
    if conn.kind == "sqlite":
        path = Path(conn.database).expanduser().resolve()
        if not path.is_file():
            raise NotFound(f"No SQLite file at {path}.", hint="Give the full path of an existing .sqlite/.db file.")
        return URL.create(driver, database=f"file:{path}", query={"mode": "ro", "uri": "true"})
    return URL.create(driver, username=conn.user or None, password=_password(conn, password), host=conn.host,
                      port=conn.port, database=conn.database)


def sqlite_read_only(url: URL) -> URL:
    """A SQLite URL rebuilt to open an existing file read-only (`mode=ro`: nothing is created or written).

    Parameters of the given URL are dropped; a missing file is NotFound; the workbench's own files
    (anything under DATA_DIR, e.g. its metadata database) are refused."""
    given = (url.database or "").split("?", 1)[0]
    given = given[len("file:"):] if given.startswith("file:") else given
    if not given or given == ":memory:":
        raise InvalidInput("A SQLite URL needs the path of a database file, e.g. sqlite:////data/shop.db.",
                           hint="Give the full path of an existing .sqlite/.db file.")
    path = Path(given).expanduser().resolve()
    if path.is_relative_to(storage.data_dir().resolve()):
        raise InvalidSql("The workbench's own files (under DATA_DIR) cannot be queried as a SQLite database.",
                         hint="Query the datasets directly on the SQL page, without a connection.")
    if not path.is_file():
        raise NotFound(f"No SQLite file at {path}.", hint="Give the full path of an existing .sqlite/.db file.")
    return URL.create("sqlite", database=f"file:{quote(str(path))}", query={"mode": "ro", "uri": "true"})


def backend(url: URL | str) -> str:
    """postgresql, mysql, mariadb, sqlite or mssql; raises InvalidSql for any other database."""
    name = (url if isinstance(url, URL) else make_url(url)).get_backend_name()
    if name not in DIALECTS:
        raise InvalidSql(f"Databases of type {name!r} cannot be queried here.",
                         hint="Supported: PostgreSQL, MySQL/MariaDB and SQLite.")
    return name


def check(sql: str, backend_name: str) -> str:
    """The statement, validated for this database's dialect, without a trailing ';'. Raises Refused."""
    validate(sql, known_tables=None, dialect=DIALECTS.get(backend_name, "postgres"))
    return (sql or "").strip().rstrip(";").strip()


def connect_args(backend_name: str, timeout_s: float) -> dict[str, Any]:
    """Driver options: a connect timeout, and on PostgreSQL a read-only session with a statement timeout."""
    if backend_name == "postgresql":
        options = (f"-c default_transaction_read_only=on -c statement_timeout={max(1, int(timeout_s * 1000))} "
                   "-c standard_conforming_strings=on")  # backslashes in strings read as the guard reads them
        return {"connect_timeout": CONNECT_TIMEOUT_S, "options": options}
    if backend_name in ("mysql", "mariadb"):
        return {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": int(timeout_s) + 30}
    if backend_name == "mssql":
        return {"login_timeout": CONNECT_TIMEOUT_S}
    return {}


def engine_for(url: URL | str, timeout_s: float) -> Engine:
    """An engine (no pool: one connection per call) with the read-only session options of its backend.

    URL parameters are limited to TLS and naming options: others (`init_command`, `options`, ...) could
    run SQL or change the session before the read-only settings apply. Raises InvalidSql.
    """
    url = url if isinstance(url, URL) else make_url(url)
    if url.get_backend_name() == "sqlite":
        return create_engine(sqlite_read_only(url), poolclass=NullPool)
    odd = sorted(set(url.query) - URL_PARAMETERS)
    if odd:
        raise InvalidSql(f"The connection URL parameter {odd[0]!r} is not allowed here.",
                         hint="Only TLS options (sslmode, ssl_ca, ...), charset and application_name may be set.")
    if url.drivername in DRIVERS:
        url = url.set(drivername=DRIVERS[url.drivername])
    if url.drivername not in SUPPORTED_DRIVERS:
        raise InvalidInput(f"The database driver {url.drivername!r} is not available here.",
                           hint="Write the URL as postgresql://…, mysql://…, mariadb://… or sqlite:///path.")
    try:
        return create_engine(url, poolclass=NullPool, connect_args=connect_args(backend(url), timeout_s))
    except ImportError as exc:
        raise ConnectionFailed(f"The driver for {url.get_backend_name()} is not installed.",
                               hint=f"Install it with: .venv/bin/pip install {exc.name}") from exc


def _begin(conn: Connection, backend_name: str, timeout_s: float) -> None:
    cur = conn.connection.cursor()
    try:
        if backend_name == "postgresql":
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout_s * 1000))}")
        elif backend_name in ("mysql", "mariadb"):
            _mysql_timeout(conn, cur, timeout_s)
            cur.execute(_MYSQL_MODE)
            cur.execute("SET SESSION TRANSACTION READ ONLY")
            cur.execute("START TRANSACTION READ ONLY")
        elif backend_name == "sqlite":
            cur.execute("PRAGMA query_only = ON")
            _sqlite_deadline(conn.connection, timeout_s)
    finally:
        cur.close()


# the server reads quotes and backslashes as the guard (sqlglot) does, whatever its configured sql_mode
_MYSQL_MODE = ("SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(REPLACE(REPLACE(CONCAT(',', @@SESSION.sql_mode, "
               "','), ',NO_BACKSLASH_ESCAPES,', ','), ',ANSI_QUOTES,', ','), ',ANSI,', ','))")


def _mysql_timeout(conn: Connection, cur: Any, timeout_s: float) -> None:
    """MariaDB's max_statement_time (seconds), else MySQL's max_execution_time (milliseconds)."""
    for statement in (f"SET SESSION max_statement_time = {float(timeout_s)}",
                      f"SET SESSION max_execution_time = {max(1, int(timeout_s * 1000))}"):
        try:
            cur.execute(statement)
            return
        except conn.dialect.loaded_dbapi.Error:
            log.debug("this server has no %s", statement.split()[2])
    raise ConnectionFailed("The database has no statement time limit (max_statement_time / max_execution_time).",
                           hint="Use MariaDB 10.1+ or MySQL 5.7+.")


def _sqlite_deadline(dbapi: Any, timeout_s: float) -> None:
    raw = getattr(dbapi, "driver_connection", dbapi)
    stop_at = time.monotonic() + timeout_s
    with suppress(AttributeError):
        raw.set_progress_handler(lambda: int(time.monotonic() > stop_at), 10_000)


@contextmanager
def read_only(engine: Engine, timeout_s: float) -> Iterator[Connection]:
    """A connection whose session and transaction are read-only, with the statement timeout set; always
    rolled back. Raises ConnectionFailed when the database cannot be reached."""
    name = backend(engine.url)
    try:
        conn = engine.connect()
    except SQLAlchemyError as exc:
        raise ConnectionFailed(f"Could not connect to the {name} database: {reason(exc)}",
                               hint="Check the host, port, user and password of the connection.") from exc
    except (OSError, LookupError, AttributeError, TypeError, ValueError) as exc:  # a bad TLS file, charset ...
        raise ConnectionFailed(f"Could not connect to the {name} database: {type(exc).__name__}: {exc}"[:300],
                               hint="Check the URL's parameters (TLS files, charset) and the server.") from exc
    with conn:
        try:
            try:
                _begin(conn, name, timeout_s)
            except conn.dialect.loaded_dbapi.Error as exc:
                raise ConnectionFailed(f"The {name} database refused a read-only session: {reason(exc)}",
                                       hint="Check the server version and the login's rights.") from exc
            yield conn
        finally:
            with suppress(Exception):  # the connection may already be broken; it is closed right after
                conn.connection.rollback()


def _server_cursor(dbapi: Any, backend_name: str) -> Any:
    """A cursor that streams rows from the server where the driver has one (PostgreSQL, MySQL)."""
    raw = getattr(dbapi, "driver_connection", dbapi)
    if backend_name == "postgresql":
        return raw.cursor(name="wb_read")
    if backend_name in ("mysql", "mariadb"):
        import pymysql.cursors

        return raw.cursor(pymysql.cursors.SSCursor)
    return dbapi.cursor()


def batches(conn: Connection, sql: str, *, limit: int | None, batch_rows: int,
            server_side: bool = True) -> Iterator[tuple[list[str], list]]:
    """Run `sql` (already checked) on the driver's cursor, without parameters ('%' stays a plain
    character), and yield (column names, rows) batches until `limit` rows (None: all). A server-side
    cursor streams the rows where the driver has one; stopping early drops the connection rather than
    reading the rest."""
    name = backend(conn.engine.url)
    cursor = _server_cursor(conn.connection, name) if server_side else conn.connection.cursor()
    complete = False
    try:
        cursor.execute(sql)
        names = [str(d[0]) for d in cursor.description or []]
        got = 0
        while limit is None or got < limit:
            rows = cursor.fetchmany(batch_rows if limit is None else min(batch_rows, limit - got))
            if not rows:
                complete = True
                break
            got += len(rows)
            yield names, [tuple(r) for r in rows]
        if got == 0:
            yield names, []
    finally:
        if server_side and not complete and name in ("mysql", "mariadb"):
            _drop_unbuffered(conn, cursor)
        else:
            with suppress(Exception):
                cursor.close()


def _drop_unbuffered(conn: Connection, cursor: Any) -> None:
    """Stop reading an unbuffered MySQL result early: PyMySQL would read every remaining row on close (and
    again when the result is collected), so the result is marked finished and the connection dropped."""
    result = getattr(cursor, "_result", None)
    if result is not None and hasattr(result, "unbuffered_active"):
        result.unbuffered_active = False
    conn.invalidate()


def count(conn: Connection, sql: str) -> int | None:
    """How many rows the query returns, or None when the database cannot count it (undone to a savepoint:
    the read-only transaction goes on)."""
    cur = conn.connection.cursor()
    try:
        cur.execute("SAVEPOINT wb_count")
        try:
            cur.execute(f"SELECT count(*) FROM ({sql}) AS wb_count")
            return int(cur.fetchone()[0] or 0)
        except conn.dialect.loaded_dbapi.Error:
            cur.execute("ROLLBACK TO SAVEPOINT wb_count")
            return None
    finally:
        cur.close()


def execute(url: URL | str, sql: str, *, limit: int | None, timeout_s: float,
            server_side: bool = False) -> tuple[pa.Table, bool]:
    """Run `sql` in a read-only session that is always rolled back (no validation here: see `run`)."""
    engine = engine_for(url, timeout_s)
    name = backend(engine.url)
    try:
        with read_only(engine, timeout_s) as conn:
            try:
                frame = _frame(conn, sql, limit, server_side)
            except (SQLAlchemyError, conn.dialect.loaded_dbapi.Error) as exc:
                raise refused_by_database(name, exc, timeout_s) from exc
    finally:
        engine.dispose()
    truncated = limit is not None and len(frame) > limit
    frame = frame.iloc[:limit] if truncated else frame
    return pa.Table.from_pandas(frame, preserve_index=False), truncated


def _frame(conn: Connection, sql: str, limit: int | None, server_side: bool) -> pd.DataFrame:
    names: list[str] = []
    rows: list[tuple] = []
    budget = ResultBudget()
    try:
        for columns, batch in batches(conn, sql, limit=None if limit is None else limit + 1, batch_rows=200,
                                      server_side=server_side):
            budget.add(row_bytes(batch))
            names = columns
            rows += batch
        return pd.DataFrame(rows, columns=names)
    except MemoryError as exc:
        raise result_too_large() from exc


def run(url: URL | str, sql: str, *, limit: int | None, timeout_s: float) -> tuple[pa.Table, bool]:
    """Validate `sql` for the database's dialect, then run it read-only. Raises InvalidSql, ConnectionFailed."""
    return execute(url, check(sql, backend(url)), limit=limit, timeout_s=timeout_s, server_side=True)


def refused_by_database(name: str, exc: Exception, timeout_s: float) -> InvalidSql:
    """The database's own refusal (a write in a read-only transaction, a timeout, a bad name) as InvalidSql."""
    text = reason(exc)
    if re.search(r"statement timeout|max_statement_time|maximum statement execution time|interrupted", text, re.I):
        return InvalidSql(f"The {name} database stopped the query after {timeout_s:g} s (the time limit).",
                          hint="Filter or aggregate more, or raise SQL_TIMEOUT_S in the settings.")
    return InvalidSql(f"The {name} database refused the query: {text}",
                      hint="Check the SQL against the database's own dialect.")


def reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().split("\n")[0][:300]


# ---------------------------------------------------------------- can this login write?

_PG_WRITES = """
SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb,
  EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> 'information_schema'
            AND n.nspname NOT LIKE 'pg\\_%'
            AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')),
  EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
            AND has_schema_privilege(n.oid, 'CREATE')),
  EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'UPDATE') ELSE false END)
FROM pg_roles r WHERE r.rolname = current_user
"""
_PG_WHAT = ("is a superuser", "may create roles", "may create databases", "may change tables",
            "may create tables", "may advance sequences")
_MYSQL_READ = {"SELECT", "USAGE", "SHOW VIEW", "SHOW DATABASES", "PROCESS", "REPLICATION CLIENT", "BINLOG MONITOR",
               "SLAVE MONITOR", "REPLICA MONITOR"}


def _scalar_rows(conn: Connection, statement: str) -> list[tuple]:
    cur = conn.connection.cursor()
    try:
        cur.execute(statement)
        return [tuple(r) for r in cur.fetchall()]
    finally:
        cur.close()


def _pg_powers(conn: Connection) -> list[str]:
    rows = _scalar_rows(conn, _PG_WRITES)
    return [what for what, flag in zip(_PG_WHAT, rows[0], strict=True) if flag] if rows else []


def _mysql_powers(conn: Connection) -> list[str]:
    powers: list[str] = []
    for (grant,) in _scalar_rows(conn, "SHOW GRANTS"):
        match = re.match(r"GRANT (.+?) ON ", str(grant))
        if not match or str(grant).startswith("GRANT PROXY"):
            continue
        privileges = {p.strip().upper() for p in match.group(1).split(",")}
        powers += sorted(p.lower() for p in privileges - _MYSQL_READ)
    return sorted(set(powers))


def role_warning(conn: Connection) -> str | None:
    """A warning when the login can write to the database (the workbench still only reads), else None."""
    name = backend(conn.engine.url)
    try:
        if name == "postgresql":
            powers = _pg_powers(conn)
        elif name in ("mysql", "mariadb"):
            powers = [f"has {p}" for p in _mysql_powers(conn)]
        else:
            return None
    except (DBAPIError, conn.dialect.loaded_dbapi.Error) as exc:
        log.info("could not read the privileges of the login: %s", reason(exc))
        return None
    if not powers:
        return None
    user = conn.engine.url.username or "this login"
    return (f"The user {user!r} can change this database ({', '.join(powers[:6])}). The workbench only reads "
            f"(read-only transactions, checked queries), but a login that cannot write is safer. {SAFE_ROLE_HINT}")
