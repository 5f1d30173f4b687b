"""SQL over the stored datasets (DuckDB) and external databases (SQLAlchemy), read-only.

Every statement is checked before anything runs (`validate`): it must parse with sqlglot
as one read-only query; its tables must be datasets or CTE names; no table functions,
no string literals as tables, no file, network or system functions. DuckDB then runs it
with external access disabled (only the dataset Parquet files are allowed), the
configuration locked, a memory limit and a timeout. External databases run it inside a
read-only transaction that is always rolled back.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from pydantic import BaseModel, ConfigDict
from sqlalchemy import create_engine, delete
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlmodel import select

from core import datasets, storage
from core.config import get_settings
from core.db import session
from core.duck import quote
from core.errors import ConnectionFailed, InvalidSql, WorkbenchError
from core.models import Dataset
from core.models.dataset import DatabaseConnection
from core.models.explore import QueryHistory

log = logging.getLogger(__name__)

DUCKDB_MEMORY_LIMIT = "2GB"
_databases_lock = threading.Lock()
_databases: dict[tuple[Any, ...], duckdb.DuckDBPyConnection] = {}  # one locked-down DuckDB per set of datasets
QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)
READ_ONLY_HINT = "Only one read-only query (SELECT, WITH … SELECT, UNION …) may run here."
DENIED_FUNCTIONS = frozenset({
    "glob", "getenv", "current_setting", "set_config", "query", "query_table", "sniff_csv", "load_file",
    "pg_sleep", "sleep", "benchmark", "load_extension", "install", "load", "checkpoint", "force_checkpoint",
    "which_secret", "enable_profiling", "disable_profiling", "from_json_file", "shell", "system",
})
DENIED_PREFIXES = ("read_", "pg_read", "pg_ls", "pg_stat_file", "pg_terminate", "pg_cancel", "pg_reload",
                   "pg_file", "lo_", "dblink", "duckdb_", "pragma_", "sqlite_", "postgres_", "mysql_", "iceberg_",
                   "delta_", "parquet_", "http", "s3", "gcs", "azure", "copy_", "txid_", "export_", "import_")
DENIED_SUFFIXES = ("_scan", "_attach", "_query")
DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}
DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql",
           "mariadb": "mariadb+pymysql"}


@runtime_checkable
class HasUrlMethod(Protocol):
    def url(self) -> str: ...


@runtime_checkable
class HasSqlalchemyUrl(Protocol):
    sqlalchemy_url: str


ConnectionRef = str | uuid.UUID | URL | DatabaseConnection | HasUrlMethod | HasSqlalchemyUrl


class TableInfo(BaseModel):
    """A dataset as SQL sees it: its table name, an identifier alias, its columns."""

    name: str
    alias: str | None
    dataset_id: str
    rows: int
    columns: list[dict[str, Any]]

    @property
    def ref(self) -> str:
        """How to write this table in SQL: the alias, else the name (quoted when it is not an identifier)."""
        return self.alias or (self.name if _is_plain(self.name) else quote(self.name))


class QueryResult(BaseModel):
    """The rows a query returned (at most `limit`), whether more existed, and how long it took."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    sql: str
    frame: pd.DataFrame
    rows: int
    truncated: bool
    limit: int | None
    duration_s: float
    target: str


class Refused(InvalidSql):
    """A statement refused by validation, before anything ran (a failed query raises plain InvalidSql)."""


# ---------------------------------------------------------------- names


def identifier(name: str) -> str:
    """A plain SQL identifier for a dataset name: 'Sales 2024' -> 'sales_2024'."""
    ident = re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "dataset"
    return f"t_{ident}" if ident[0].isdigit() else ident


def _is_plain(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


def tables() -> list[TableInfo]:
    """Every dataset as a table: its name (quote it if it is not an identifier) and alias (always one)."""
    rows = sorted(datasets.list_datasets(), key=lambda d: d.created)
    taken = {d.name.lower() for d in rows}
    out: list[TableInfo] = []
    for ds in rows:
        alias: str | None = identifier(ds.name)
        if alias.lower() in taken:
            alias = None  # the name is already an identifier, or another dataset has this name
        else:
            taken.add(alias.lower())
        out.append(TableInfo(name=ds.name, alias=alias, dataset_id=str(ds.id), rows=ds.rows,
                             columns=list(ds.schema_)))
    return out


# ---------------------------------------------------------------- validation


def _position(sql: str, node: exp.Expression | None) -> str:
    meta = (node.meta if node is not None else {}) or {}
    start = meta.get("start")
    if start is None:
        return f" (line {meta['line']}, column {meta['col']})" if "line" in meta else ""
    line = sql.count("\n", 0, start) + 1
    col = start - (sql.rfind("\n", 0, start) + 1) + 1
    return f" (line {line}, column {col})"


def _parse(sql: str, dialect: str) -> exp.Expression:
    if not sql or not sql.strip():
        raise Refused("The query is empty.", hint="Write a SELECT statement, e.g. SELECT * FROM my_dataset.")
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except ParseError as exc:
        raise _syntax_error(sql, exc, dialect) from exc
    except TokenError as exc:
        raise Refused(f"The query could not be read: {exc}.", hint="Check quotes and comments are closed.") from exc
    if len(statements) != 1:
        raise Refused(f"The query holds {len(statements)} statements; only one may run.", hint=READ_ONLY_HINT)
    return statements[0]


def _syntax_error(sql: str, exc: ParseError, dialect: str) -> InvalidSql:
    """DuckDB's own parser message where it also fails (it reads better), else sqlglot's, with the position."""
    if dialect == "duckdb":
        try:
            with duckdb.connect() as parser:
                parser.extract_statements(sql)
        except duckdb.Error as duck:
            return Refused(_duckdb_message(duck), hint="Check the SQL near that position.")
    first = exc.errors[0] if exc.errors else {}
    where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
    detail = re.sub(r"(for|but got) <.*", "", str(first.get("description", exc))).strip()  # no \s* prefix: quadratic
    return Refused(f"Syntax error{where}: {detail}.", hint="Check the SQL near that position.")


def _check_root(sql: str, tree: exp.Expression) -> None:
    if not isinstance(tree, QUERY_ROOTS):
        word = sql.strip().split(None, 1)[0].upper() if sql.strip() else "?"
        raise Refused(f"{word} statements are not allowed; this workbench only reads data.", hint=READ_ONLY_HINT)
    for node in tree.find_all(exp.Into, exp.Lock, exp.Command, exp.Insert, exp.Update, exp.Delete, exp.Create,
                              exp.Drop, exp.Alter, exp.Copy, exp.Set, exp.Pragma):
        what = "SELECT … INTO" if isinstance(node, exp.Into) else type(node).__name__.upper()
        raise Refused(f"{what} is not allowed{_position(sql, node)}.", hint=READ_ONLY_HINT)


def function_name(node: exp.Func) -> str:
    """The SQL name of a function call node, lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _denied(name: str) -> bool:
    return name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES) or name.endswith(DENIED_SUFFIXES)


def _check_functions(sql: str, tree: exp.Expression) -> None:
    for node in tree.find_all(exp.Func):
        name = function_name(node)
        if _denied(name):
            raise Refused(
                f"The function {name}() is not allowed{_position(sql, node)}: it reads files, the network or "
                "the system.",
                hint="Query the datasets by their table names instead.",
            )


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _check_tables(sql: str, tree: exp.Expression, known: Iterable[str] | None) -> None:
    allowed = None if known is None else {k.lower() for k in known} | _cte_names(tree)
    for table in tree.find_all(exp.Table):
        where = _position(sql, table.this if isinstance(table.this, exp.Expression) else table)
        if not isinstance(table.this, exp.Identifier):
            raise Refused(f"Table functions are not allowed{where}.",
                          hint="Refer to a dataset by its table name, e.g. FROM sales.")
        if _literal_table(sql, table.this):
            raise Refused(f"A string ('{table.name}') cannot be used as a table{where}: files are not readable "
                          "from SQL.", hint="Import the file on the Datasets page, then query it by name.")
        if allowed is None:
            continue
        if table.args.get("db") or table.args.get("catalog"):
            raise Refused(f"Qualified table names such as {table.sql()} are not allowed{where}.",
                          hint="Refer to a dataset by its name alone.")
        if table.name.lower() not in allowed:
            close = difflib.get_close_matches(table.name.lower(), sorted(allowed), n=1)
            hint = f"Did you mean {close[0]!r}?" if close else "The schema browser lists the dataset tables."
            raise Refused(f"Unknown table {table.name!r}{where}.", hint=hint)


def _literal_table(sql: str, ident: exp.Identifier) -> bool:
    start = (ident.meta or {}).get("start")
    return ident.quoted and start is not None and "'" in sql[max(start - 1, 0):start + 1]


def validate(sql: str, *, known_tables: Iterable[str] | None = None, dialect: str = "duckdb") -> exp.Expression:
    """Refuse anything but one read-only query; return its sqlglot tree.

    `known_tables`: the table names the query may read (None: any, for external databases).
    Raises InvalidSql with the position of the problem where there is one.
    """
    tree = _parse(sql, dialect)
    _check_root(sql, tree)
    _check_functions(sql, tree)
    _check_tables(sql, tree, known_tables)
    return tree


# ---------------------------------------------------------------- DuckDB over the datasets


def _dataset_sources(infos: list[TableInfo]) -> dict[str, str]:
    by_id = {str(d.id): d for d in datasets.list_datasets()}
    return {i.dataset_id: str(storage.absolute(by_id[i.dataset_id].path)) for i in infos if i.dataset_id in by_id}


def _build_database(infos: list[TableInfo], paths: dict[str, str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY_LIMIT, "python_enable_replacements": False,
                                 "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for info in infos:
            path = paths[info.dataset_id].replace("'", "''")
            con.execute(f"CREATE VIEW {quote(info.name)} AS SELECT * FROM read_parquet('{path}')")
            if info.alias:
                con.execute(f"CREATE VIEW {quote(info.alias)} AS SELECT * FROM {quote(info.name)}")
        allowed = ", ".join("'" + p.replace("'", "''") + "'" for p in paths.values())
        con.execute(f"SET allowed_paths = [{allowed}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


def connect_datasets(infos: list[TableInfo] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection to a locked-down in-memory DuckDB with one view per dataset (and its alias).

    The database is built once per set of datasets (name, alias, file) and reused: each call
    returns a fresh cursor on it, so a timeout interrupts only its own query. Files other than the
    dataset Parquet files cannot be read; the configuration cannot be changed.
    """
    infos = tables() if infos is None else infos
    paths = _dataset_sources(infos)
    signature = tuple((i.name, i.alias, paths.get(i.dataset_id)) for i in infos)
    with _databases_lock:
        database = _databases.get(signature)
        if database is None:
            database = _build_database([i for i in infos if i.dataset_id in paths], paths)
            _databases.clear()  # the previous set of datasets: closed once its last cursor is gone
            _databases[signature] = database
        return database.cursor()


def _duckdb_check(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """DuckDB's own parser must agree: exactly one SELECT statement."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise _duckdb_error(exc) from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise Refused("Only one read-only query may run.", hint=READ_ONLY_HINT)


@contextmanager
def _deadline(timeout_s: float, stop: Any) -> Iterator[threading.Event]:
    fired = threading.Event()

    def _fire() -> None:
        fired.set()
        stop()

    timer = threading.Timer(timeout_s, _fire)
    timer.daemon = True
    timer.start()
    try:
        yield fired
    finally:
        timer.cancel()


def _duckdb_message(exc: Exception) -> str:
    """DuckDB's first error line plus the line and column its caret points at."""
    text_ = str(exc)
    first = text_.split("\n", 1)[0]
    match = re.search(r"LINE (\d+): (.*)\n(\s*)\^", text_)
    if not match:
        return first
    col = len(match.group(3)) - len(f"LINE {match.group(1)}: ") + 1
    return f"{first} (line {match.group(1)}, column {max(col, 1)})"


def _duckdb_error(exc: Exception) -> InvalidSql:
    candidates = re.search(r"Candidate bindings: (.*)", str(exc))
    hint = f"Did you mean {candidates.group(1)}?" if candidates else "Check the names in the schema browser."
    return InvalidSql(_duckdb_message(exc), hint=hint)


def _fetch_limited(relation: duckdb.DuckDBPyRelation, limit: int | None) -> tuple[pa.Table, bool]:
    reader = relation.to_arrow_reader(min(limit + 1, 100_000) if limit else 100_000)
    batches, count = [], 0
    for batch in reader:
        batches.append(batch)
        count += batch.num_rows
        if limit is not None and count > limit:
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    if limit is not None and table.num_rows > limit:
        return table.slice(0, limit), True
    return table, False


def _run_duckdb(sql: str, *, limit: int | None, timeout_s: float) -> tuple[pa.Table, bool]:
    infos = tables()
    validate(sql, known_tables=[n for i in infos for n in (i.name, i.alias) if n])
    with connect_datasets(infos) as con:
        _duckdb_check(con, sql)
        relation = _bind(con, sql)
        with _deadline(timeout_s, con.interrupt) as fired:
            try:
                return _fetch_limited(relation, limit)
            except duckdb.Error as exc:
                if fired.is_set() or isinstance(exc, duckdb.InterruptException):
                    raise _timeout(timeout_s) from exc
                raise _duckdb_error(exc) from exc


def _bind(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
    """Parse and bind (nothing runs yet). On a binding error, `execute` fails the same way before running
    anything and its message carries the line and column."""
    try:
        return con.sql(sql)
    except duckdb.Error:
        try:
            con.execute(sql)
        except duckdb.Error as exc:
            raise _duckdb_error(exc) from exc
        raise


def _timeout(timeout_s: float) -> InvalidSql:
    return InvalidSql(f"The query was stopped after {timeout_s:g} s (the time limit).",
                      hint="Filter or aggregate more, or raise SQL_TIMEOUT_S in the settings.")


# ---------------------------------------------------------------- external databases


def connection_url(connection: ConnectionRef) -> str:
    """The SQLAlchemy URL of a connection: a URL string or URL, a saved DatabaseConnection (row, id or
    name), or an object with `url()` / `sqlalchemy_url`."""
    if isinstance(connection, URL):
        url = connection
    elif isinstance(connection, DatabaseConnection) or (isinstance(connection, (str, uuid.UUID))
                                                        and "://" not in str(connection)):
        from core import connections

        url = connections.url_for(connections.get_connection(connection))
    else:
        url = _parse_url(_raw_url(connection))
    if url.drivername in DRIVERS:
        url = url.set(drivername=DRIVERS[url.drivername])
    return url.render_as_string(hide_password=False)


def _raw_url(connection: object) -> str:
    if isinstance(connection, str):
        return connection
    if isinstance(connection, HasUrlMethod):
        return str(connection.url())
    if isinstance(connection, HasSqlalchemyUrl):
        return str(connection.sqlalchemy_url)
    raise InvalidSql("This connection has no database URL.", hint="Pass a SQLAlchemy URL or a saved connection.")


def _parse_url(raw: str) -> URL:
    try:
        return make_url(raw)
    except Exception as exc:  # sqlalchemy raises ArgumentError, ValueError
        raise InvalidSql("The connection URL could not be read.", hint="Example: postgresql://user@host/db") from exc


def _backend(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in DIALECTS:
        raise InvalidSql(f"Databases of type {name!r} cannot be queried here.",
                         hint="Supported: PostgreSQL, MySQL/MariaDB and SQLite.")
    return name


def _begin_read_only(conn: Connection, backend: str, timeout_s: float) -> None:
    """Open a read-only transaction (the database itself refuses any write inside it)."""
    if backend == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_s * 1000)}")
    elif backend in ("mysql", "mariadb"):
        _mysql_timeout(conn, timeout_s)
        conn.exec_driver_sql("START TRANSACTION READ ONLY")
    else:
        conn.exec_driver_sql("PRAGMA query_only = ON")


def _mysql_timeout(conn: Connection, timeout_s: float) -> None:
    for statement in (f"SET SESSION max_statement_time = {float(timeout_s)}",
                      f"SET SESSION max_execution_time = {int(timeout_s * 1000)}"):
        try:
            conn.exec_driver_sql(statement)
            return
        except SQLAlchemyError:
            conn.rollback()


def _execute_external(url: str, sql: str, *, limit: int | None, timeout_s: float) -> tuple[pa.Table, bool]:
    """Run `sql` inside a read-only transaction that is always rolled back (no validation here)."""
    backend = _backend(url)
    engine = create_engine(url, poolclass=NullPool)
    try:
        try:
            conn = engine.connect()
        except SQLAlchemyError as exc:
            raise ConnectionFailed(f"Could not connect to the {backend} database: {_reason(exc)}",
                                   hint="Check the host, port, user and password of the connection.") from exc
        with conn:
            try:
                _begin_read_only(conn, backend, timeout_s)
                frame = _fetch_dbapi(conn, sql, limit)
            except (SQLAlchemyError, conn.dialect.loaded_dbapi.Error) as exc:
                raise InvalidSql(f"The {backend} database refused the query: {_reason(exc)}",
                                 hint="Check the SQL against the database's own dialect.") from exc
            finally:
                conn.rollback()
    finally:
        engine.dispose()
    truncated = limit is not None and len(frame) > limit
    frame = frame.iloc[:limit] if truncated else frame
    return pa.Table.from_pandas(frame, preserve_index=False), truncated


def _fetch_dbapi(conn: Connection, sql: str, limit: int | None) -> pd.DataFrame:
    """Run on the driver's cursor without parameters, so '%' in the SQL stays a plain character."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchmany(limit + 1) if limit is not None else cursor.fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=[d[0] for d in cursor.description or []])
    finally:
        cursor.close()


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().split("\n")[0]


def _run_external(connection: ConnectionRef, sql: str, *, limit: int | None, timeout_s: float
                  ) -> tuple[pa.Table, bool]:
    url = connection_url(connection)
    validate(sql, known_tables=None, dialect=DIALECTS[_backend(url)])
    return _execute_external(url, sql, limit=limit, timeout_s=timeout_s)


def _target(connection: ConnectionRef | None) -> str:
    if connection is None:
        return "datasets"
    try:
        return make_url(connection_url(connection)).render_as_string(hide_password=True)[:500]
    except WorkbenchError:
        return "connection"


# ---------------------------------------------------------------- public API


def run(sql: str, *, connection: ConnectionRef | None = None, limit: int | None = -1,
        timeout_s: float | None = None, record: bool = True) -> QueryResult:
    """Run one read-only query and return its rows (at most `limit`) with timing; record it in the history.

    `connection`: None for the datasets (DuckDB), else a SQLAlchemy URL or a saved connection.
    `limit`: -1 for SQL_MAX_ROWS, None for no limit. Raises InvalidSql (refused or failed),
    ConnectionFailed.
    """
    settings = get_settings()
    limit = settings.sql_max_rows if limit == -1 else limit
    timeout_s = settings.sql_timeout_s if timeout_s is None else timeout_s
    started = time.perf_counter()
    target = _target(connection)
    try:
        if connection is None:
            table, truncated = _run_duckdb(sql, limit=limit, timeout_s=timeout_s)
        else:
            table, truncated = _run_external(connection, sql, limit=limit, timeout_s=timeout_s)
    except (InvalidSql, ConnectionFailed) as exc:
        if record:
            _record(sql, target=target, rows=0, truncated=False, duration_s=time.perf_counter() - started,
                    error=str(exc))
        raise
    duration = time.perf_counter() - started
    frame = table.to_pandas()
    if record:
        _record(sql, target=target, rows=len(frame), truncated=truncated, duration_s=duration, error=None)
    return QueryResult(sql=sql, frame=frame, rows=len(frame), truncated=truncated, limit=limit,
                       duration_s=duration, target=target)


def query(sql: str, *, connection: ConnectionRef | None = None, limit: int | None = 10_000) -> pd.DataFrame:
    """Run one read-only query and return a DataFrame.

    `frame.attrs` holds `truncated` (more rows existed than `limit`), `limit` and `duration_s`.
    Raises InvalidSql (refused or failed) and ConnectionFailed.
    """
    result = run(sql, connection=connection, limit=limit)
    frame = result.frame
    frame.attrs.update(truncated=result.truncated, limit=result.limit, duration_s=result.duration_s)
    return frame


def save_query(sql: str, *, name: str, connection: ConnectionRef | None = None) -> Dataset:
    """Run a query without a row limit and store the whole result as a new dataset (source 'sql')."""
    result = run(sql, connection=connection, limit=None)
    table = pa.Table.from_pandas(result.frame, preserve_index=False)
    return datasets.store_table(table, name=name, source="sql", source_detail=sql)


def _record(sql: str, **fields: Any) -> None:
    try:
        with session() as s:
            s.add(QueryHistory(sql=sql, **fields))
    except SQLAlchemyError:
        log.exception("could not record the query in the history")


def history(*, limit: int = 50) -> list[QueryHistory]:
    """The most recent queries, newest first."""
    with session() as s:
        stmt = select(QueryHistory).order_by(QueryHistory.created.desc()).limit(limit)
        return list(s.exec(stmt).all())


def clear_history() -> int:
    """Delete the whole query history; returns how many entries went."""
    with session() as s:
        return s.exec(delete(QueryHistory)).rowcount or 0


def history_entry(entry_id: uuid.UUID | str) -> QueryHistory | None:
    with session() as s:
        return s.get(QueryHistory, uuid.UUID(str(entry_id)))


__all__ = ["QueryResult", "Refused", "TableInfo", "clear_history", "connect_datasets", "connection_url", "history",
           "identifier", "query", "run", "save_query", "tables", "validate"]
