"""SQL over the stored datasets (DuckDB) and external databases (SQLAlchemy), read-only.

Every statement is checked before anything runs (`guard.validate`): one read-only query, tables
that are datasets or CTEs in scope, no file, network, catalog or settings functions, bounded
generating functions. Over the datasets DuckDB runs it (`engine`) with external access disabled,
the configuration locked, memory/thread limits and a timeout. External databases (`external`)
run it in a read-only session with a statement timeout set in the database, allow-listed
functions only; the same path serves the SQL tab and database imports. Results get unique column
names (`year`, `year_1`, as DuckDB's own client shows them), and the history never stores a
password (`history`).
"""

from __future__ import annotations

import time
import uuid
from typing import Protocol, runtime_checkable

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import URL, make_url

from core.config import get_settings
from core.datasets.store import store_table
from core.db import find_by_ref
from core.duck import quote
from core.errors import ConnectionFailed, InvalidSql, NotFound, WorkbenchError
from core.models import Dataset
from core.models.dataset import DatabaseConnection
from core.sql import external
from core.sql.engine import TableInfo, connect_datasets, identifier, run_duckdb, tables, unavailable
from core.sql.external import DIALECTS, DRIVERS
from core.sql.external import execute as _execute_external
from core.sql.guard import Refused, function_name, validate
from core.sql.history import clear_history, history, history_entry, mask, record


@runtime_checkable
class HasUrlMethod(Protocol):
    def url(self) -> str: ...


@runtime_checkable
class HasSqlalchemyUrl(Protocol):
    sqlalchemy_url: str


ConnectionRef = str | uuid.UUID | URL | DatabaseConnection | HasUrlMethod | HasSqlalchemyUrl


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


# ---------------------------------------------------------------- where a query goes


def connection_url(connection: ConnectionRef) -> str:
    """The SQLAlchemy URL of a connection: a URL string or URL, a saved DatabaseConnection (row, id or
    name), or an object with `url()` / `sqlalchemy_url`."""
    if isinstance(connection, URL):
        url = connection
    elif isinstance(connection, DatabaseConnection) or (isinstance(connection, (str, uuid.UUID))
                                                        and "://" not in str(connection)):
        url = external.url_for(_saved(connection))
    else:
        url = _parse_url(_raw_url(connection))
    if url.drivername in DRIVERS:
        url = url.set(drivername=DRIVERS[url.drivername])
    return url.render_as_string(hide_password=False)


def _saved(ref: str | uuid.UUID | DatabaseConnection) -> DatabaseConnection:
    """A saved connection by id or name (or the row itself); raises NotFound."""
    row = ref if isinstance(ref, DatabaseConnection) else find_by_ref(DatabaseConnection, ref)
    if row is None:
        raise NotFound(f"No database connection {str(ref)!r}.", hint="Save one on the Datasets page first.")
    return row


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


def _target(connection: ConnectionRef | None) -> str:
    if connection is None:
        return "datasets"
    try:
        return mask(make_url(connection_url(connection)).render_as_string(hide_password=True))[:500]
    except WorkbenchError:
        return "connection"


def role_warning(connection: ConnectionRef) -> str | None:
    """A warning when the connection's login could write to its database (queries stay read-only)."""
    engine = external.engine_for(connection_url(connection), get_settings().sql_timeout_s)
    try:
        with external.read_only(engine, get_settings().sql_timeout_s) as conn:
            return external.role_warning(conn)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- results


def unique_columns(names: list[str]) -> list[str]:
    """Column names made unique as DuckDB's client does: a repeated `year` becomes `year_1`, `year_2` …"""
    seen = {n.lower() for n in names}
    counts: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        key = name.lower()
        if key in counts:
            n = counts[key]
            while f"{name}_{n}".lower() in seen:
                n += 1
            counts[key] = n + 1
            name = f"{name}_{n}"
            seen.add(name.lower())
        else:
            counts[key] = 1
        out.append(name)
    return out


def _renamed(table: pa.Table) -> pa.Table:
    names = unique_columns(table.column_names)
    return table if names == table.column_names else table.rename_columns(names)


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
            table, truncated = run_duckdb(sql, limit=limit, timeout_s=timeout_s)
        else:
            table, truncated = external.run(connection_url(connection), sql, limit=limit, timeout_s=timeout_s)
    except (InvalidSql, ConnectionFailed) as exc:
        if record:
            _record(sql, target=target, rows=0, truncated=False, duration_s=time.perf_counter() - started,
                    error=str(exc))
        raise
    duration = time.perf_counter() - started
    frame = _renamed(table).to_pandas()
    if record:
        _record(sql, target=target, rows=len(frame), truncated=truncated, duration_s=duration, error=None)
    return QueryResult(sql=sql, frame=frame, rows=len(frame), truncated=truncated, limit=limit,
                       duration_s=duration, target=target)


def _record(sql: str, **fields: object) -> None:
    record(sql, **fields)


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
    return store_table(table, name=name, source="sql", source_detail=mask(sql))


__all__ = [
    "DIALECTS",
    "QueryResult",
    "Refused",
    "TableInfo",
    "_execute_external",
    "clear_history",
    "connect_datasets",
    "connection_url",
    "function_name",
    "history",
    "history_entry",
    "identifier",
    "query",
    "quote",
    "role_warning",
    "run",
    "save_query",
    "tables",
    "unavailable",
    "unique_columns",
    "validate",
]
