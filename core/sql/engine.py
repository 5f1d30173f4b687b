"""DuckDB over the stored datasets: one locked-down in-memory database per set of datasets.

Each dataset is a view over its Parquet file (under its name and an identifier alias). The
database has the workbench's memory, thread and spill limits (`core.duck`), external access off
(only the dataset files may be read) and its configuration locked. A dataset whose file is
missing is left out and reported; a dataset deleted while a query reads it fails that query with
a clear message and the query is tried once more without it, so deleting never breaks other
queries. Error messages never show where DATA_DIR is.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import duckdb
import pyarrow as pa
from pydantic import BaseModel
from sqlglot import exp

from core import duck, storage, users
from core.bounds import ResultBudget, result_too_large
from core.datasets.store import list_datasets
from core.duck import quote
from core.errors import InvalidSql
from core.sql.guard import READ_ONLY_HINT, Refused, duckdb_message, validate

log = logging.getLogger(__name__)

_databases_lock = threading.Lock()
_databases: dict[tuple[Any, ...], duckdb.DuckDBPyConnection] = {}  # one locked-down DuckDB per set of datasets
_missing: dict[str, str] = {}  # dataset id -> name, for datasets whose file could not be opened


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


def identifier(name: str) -> str:
    """A plain SQL identifier for a dataset name: 'Sales 2024' -> 'sales_2024'."""
    ident = re.sub(r"\W+", "_", name.strip().lower()).strip("_") or "dataset"
    return f"t_{ident}" if ident[0].isdigit() else ident


def _is_plain(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None


def tables() -> list[TableInfo]:
    """Every dataset as a table: its name (quote it if it is not an identifier) and alias (always one)."""
    me = users.current_id()  # with sign-in, one's own datasets first: a shared one of the same name gets a suffix
    rows = sorted(list_datasets(), key=lambda d: (d.owner_id != me, d.created))
    names: dict[str, str] = {}
    for ds in rows:
        name, n = ds.name, 1
        while name.lower() in {v.lower() for v in names.values()}:
            n += 1
            name = f"{ds.name}_{n}"
        names[str(ds.id)] = name
    taken = {name.lower() for name in names.values()}
    out: list[TableInfo] = []
    for ds in rows:
        alias: str | None = identifier(names[str(ds.id)])
        if alias.lower() in taken:
            alias = None  # the name is already an identifier, or another dataset has this name
        else:
            taken.add(alias.lower())
        out.append(TableInfo(name=names[str(ds.id)], alias=alias, dataset_id=str(ds.id), rows=ds.rows,
                             columns=list(ds.schema_)))
    return out


def unavailable() -> list[str]:
    """Names of the acting user's datasets left out of SQL because their file is missing or unreadable."""
    visible = {str(d.id) for d in list_datasets()}
    return sorted(name for dataset_id, name in _missing.items() if dataset_id in visible)


def scrub(message: str) -> str:
    """A message without the absolute location of DATA_DIR (or any dataset file in it)."""
    root = str(storage.data_dir())
    return re.sub(re.escape(root) + r"[^\s'\"]*", "<dataset file>", message)


# ---------------------------------------------------------------- the database


def _dataset_sources(infos: list[TableInfo]) -> dict[str, str]:
    by_id = {str(d.id): d for d in list_datasets()}
    return {i.dataset_id: str(storage.absolute(by_id[i.dataset_id].path)) for i in infos if i.dataset_id in by_id}


def _add_view(con: duckdb.DuckDBPyConnection, info: TableInfo, path: str) -> bool:
    """One dataset as a view (and its alias); False when its file cannot be opened (left out, reported)."""
    literal = "'" + path.replace("'", "''") + "'"
    try:
        con.execute(f"CREATE VIEW {quote(info.name)} AS SELECT * FROM read_parquet({literal})")
        if info.alias:
            con.execute(f"CREATE VIEW {quote(info.alias)} AS SELECT * FROM {quote(info.name)}")
    except duckdb.IOException:
        log.warning("dataset %s (%s): its file is missing or unreadable; left out of SQL", info.name,
                    info.dataset_id)
        _missing[info.dataset_id] = info.name
        return False
    _missing.pop(info.dataset_id, None)
    return True


def _build_database(infos: list[TableInfo], paths: dict[str, str]) -> duckdb.DuckDBPyConnection:
    con = duck.connect(python_enable_replacements=False)
    try:
        readable = [paths[i.dataset_id] for i in infos if _add_view(con, i, paths[i.dataset_id])]
        allowed = ", ".join("'" + p.replace("'", "''") + "'" for p in readable)
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


def _forget() -> None:
    """Drop the cached database so that the next query rebuilds it from the datasets as they are now."""
    with _databases_lock:
        _databases.clear()


# ---------------------------------------------------------------- running a query


def _duckdb_check(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """DuckDB's own parser must agree: exactly one SELECT statement."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise _duckdb_error(exc) from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise Refused("Only one read-only query may run.", hint=READ_ONLY_HINT)


def _duckdb_error(exc: Exception) -> InvalidSql:
    if isinstance(exc, duckdb.Error):
        limit = duck.limit_error(exc)
        if limit is not None:
            return limit
    candidates = re.search(r"Candidate bindings: (.*)", str(exc))
    hint = f"Did you mean {candidates.group(1)}?" if candidates else "Check the names in the schema browser."
    return InvalidSql(scrub(duckdb_message(exc)), hint=hint)


RESULT_BATCH_ROWS = 256  # rows per Arrow batch: a batch of very long values stays small enough to count


def _fetch_limited(relation: duckdb.DuckDBPyRelation, limit: int | None) -> tuple[pa.Table, bool]:
    """The rows (at most `limit`, and whether there were more), counted against SQL_MAX_RESULT_MB."""
    budget = ResultBudget()
    try:
        reader = relation.to_arrow_reader(RESULT_BATCH_ROWS)
        batches, count = [], 0
        for batch in reader:
            budget.add(batch.nbytes)
            batches.append(batch)
            count += batch.num_rows
            if limit is not None and count > limit:
                break
        table = pa.Table.from_batches(batches, schema=reader.schema)
    except (pa.ArrowException, MemoryError, OSError) as exc:  # Arrow reports DuckDB's errors as OSError
        if isinstance(exc, MemoryError) or re.search(r"(?i)out of memory|failed to allocate|capacity", str(exc)):
            raise result_too_large() from exc
        raise InvalidSql(scrub(duckdb_message(exc)), hint="Check the query; the schema browser lists the tables.") from exc
    if limit is not None and table.num_rows > limit:
        return table.slice(0, limit), True
    return table, False


class _FileGone(Exception):
    """A dataset file vanished under a running query (deleted meanwhile)."""


def _run_once(sql: str, *, limit: int | None, timeout_s: float) -> tuple[pa.Table, bool]:
    infos = tables()
    tree = validate(sql, known_tables=[n for i in infos for n in (i.name, i.alias) if n])
    with connect_datasets(infos) as con:
        _check_missing(tree, infos)
        _duckdb_check(con, sql)
        relation = _bind(con, sql)
        with duck.deadline(timeout_s, con.interrupt) as fired:
            try:
                return _fetch_limited(relation, limit)
            except (duckdb.IOException, duckdb.PermissionException) as exc:
                raise _FileGone(str(exc)) from exc
            except duckdb.Error as exc:
                if fired.is_set() or isinstance(exc, duckdb.InterruptException):
                    raise timeout_error(timeout_s) from exc
                raise _duckdb_error(exc) from exc


def _check_missing(tree: exp.Expression, infos: list[TableInfo]) -> None:
    """A query reading a dataset whose file is missing fails clearly; the other datasets still work."""
    used = {t.name.lower() for t in tree.find_all(exp.Table)}
    for info in infos:
        if info.dataset_id in _missing and {info.name.lower(), (info.alias or "").lower()} & used:
            raise InvalidSql(f"The dataset {info.name!r} cannot be read: its file is missing.",
                             hint="Import it again, or delete it on the Datasets page; the other datasets work.")


def run_duckdb(sql: str, *, limit: int | None, timeout_s: float) -> tuple[pa.Table, bool]:
    """Validate and run one query over the datasets; returns the rows (at most `limit`) and whether it was cut.

    A dataset deleted while the query reads it: the query is tried once more on the datasets as they
    are now (it then fails as an unknown table if it needed that dataset). Raises InvalidSql.
    """
    for attempt in (1, 2):
        try:
            return _run_once(sql, limit=limit, timeout_s=timeout_s)
        except _FileGone as exc:
            log.info("a dataset file vanished during a query (attempt %d): %s", attempt, scrub(str(exc)))
            _forget()
    raise InvalidSql("A dataset this query reads was deleted or replaced while it ran.",
                     hint="Run the query again; the schema browser lists the datasets that exist now.")


def _bind(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyRelation:
    """Parse and bind (nothing runs yet). On a binding error, `execute` fails the same way before running
    anything and its message carries the line and column."""
    try:
        return con.sql(sql)
    except (duckdb.IOException, duckdb.PermissionException) as exc:
        raise _FileGone(str(exc)) from exc
    except duckdb.Error:
        try:
            con.execute(sql)
        except (duckdb.IOException, duckdb.PermissionException) as exc:
            raise _FileGone(str(exc)) from exc
        except duckdb.Error as exc:
            raise _duckdb_error(exc) from exc
        raise


def timeout_error(timeout_s: float) -> InvalidSql:
    return InvalidSql(f"The query was stopped after {timeout_s:g} s (the time limit).",
                      hint="Filter or aggregate more, or raise SQL_TIMEOUT_S in the settings.")
