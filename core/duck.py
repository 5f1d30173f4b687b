"""One in-memory DuckDB database per process; each caller gets its own cursor.

Opening a DuckDB database costs tens of milliseconds; a cursor on a shared one costs microseconds,
is safe to use from its own thread, and keeps its temporary views to itself.
"""

from __future__ import annotations

import threading

import duckdb

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


def quote(identifier: str) -> str:
    """A DuckDB identifier in double quotes (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


def cursor() -> duckdb.DuckDBPyConnection:
    """A fresh connection to the process's shared in-memory DuckDB database (close it, or use `with`)."""
    global _database
    with _lock:
        if _database is None:
            _database = duckdb.connect(":memory:")
        return _database.cursor()
