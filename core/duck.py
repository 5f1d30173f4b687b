"""Every DuckDB database the workbench opens, with its limits.

`connect()` opens a database with a memory limit, a thread limit and a bounded spill folder;
`cursor()` hands out cursors on one shared in-memory database per process (opening a database
costs tens of milliseconds, a cursor microseconds) and interrupts any cursor still working after
DUCKDB_TIMEOUT_S. DuckDB's memory limit does not bound every allocation (a list from `range()` or
a string from `repeat()` is allocated whole, outside its buffer manager): `core.bounds` bounds
those statically, before any SQL query, filter or derived column runs.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from core import storage
from core.bounds import LIMIT_HINT
from core.config import get_settings
from core.errors import InvalidInput, InvalidSql, TooLarge

log = logging.getLogger(__name__)

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None


def quote(identifier: str) -> str:
    """A DuckDB identifier in double quotes (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'


# ---------------------------------------------------------------- databases with limits


def limits() -> dict[str, Any]:
    """The DuckDB configuration every database gets: memory, threads, spill folder and its size."""
    settings = get_settings()
    return {"memory_limit": settings.duckdb_memory_limit, "threads": max(1, settings.duckdb_threads),
            "temp_directory": str(storage.area("tmp") / "duckdb"),
            "max_temp_directory_size": settings.duckdb_max_temp_size,
            "autoinstall_known_extensions": False, "autoload_known_extensions": False}


def connect(**config: Any) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB database with the workbench's limits (`config` adds or overrides settings)."""
    return duckdb.connect(":memory:", config={**limits(), **config})


def cursor(*, timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh connection to the process's shared in-memory DuckDB database (close it, or use `with`).

    It is interrupted if it still works `timeout_s` (default DUCKDB_TIMEOUT_S) after it was handed out.
    """
    global _database
    with _lock:
        if _database is None:
            _database = connect()
        con = _database.cursor()
    _watchdog.watch(con, get_settings().duckdb_timeout_s if timeout_s is None else timeout_s)
    return con


class _Watchdog:
    """One thread that interrupts cursors past their deadline (held weakly: a closed cursor is forgotten)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, weakref.ref[duckdb.DuckDBPyConnection]]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def watch(self, con: duckdb.DuckDBPyConnection, timeout_s: float) -> None:
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + timeout_s, next(self._counter), weakref.ref(con)))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="duckdb-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._wake.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, ref = heapq.heappop(self._heap)
            con = ref()
            if con is not None:
                _interrupt(con)


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.interrupt()
    except duckdb.Error:  # already closed: nothing to stop
        log.debug("cursor closed before its deadline")


_watchdog = _Watchdog()


@contextmanager
def deadline(timeout_s: float, stop: Any) -> Iterator[threading.Event]:
    """Call `stop()` (e.g. a cursor's `interrupt`) after `timeout_s`; the event says whether it fired."""
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


@contextmanager
def explained(what: str = "This step") -> Iterator[None]:
    """Turn DuckDB's interrupt (the cursor passed its deadline) and out-of-memory errors into clear ones."""
    try:
        yield
    except duckdb.InterruptException as exc:
        raise TooLarge(f"{what} took longer than {get_settings().duckdb_timeout_s:g} s and was stopped.",
                       hint="Filter the data first, or raise DUCKDB_TIMEOUT_S in the settings.") from exc
    except duckdb.Error as exc:
        clear = limit_error(exc)
        if clear is not None:
            raise clear from exc
        if isinstance(exc, _INPUT_ERRORS):  # a filter or step the data cannot satisfy: the analyst's to fix
            raise InvalidInput(f"{what} could not run: {scrub_paths(str(exc).splitlines()[0])[:300]}",
                               hint="Check the column types and the values the filter or step compares.") from exc
        raise


_INPUT_ERRORS = (duckdb.ConversionException, duckdb.BinderException, duckdb.InvalidInputException,
                 duckdb.OutOfRangeException, duckdb.TypeMismatchException, duckdb.ParserException,
                 duckdb.NotImplementedException)


def scrub_paths(message: str) -> str:
    """A DuckDB message without the absolute location of DATA_DIR or any file in it."""
    root = str(storage.data_dir())
    return re.sub(re.escape(root) + r"[^\s'\"]*", "<dataset file>", message)


def limit_error(exc: duckdb.Error) -> InvalidSql | None:
    """A clear error for a query that ran out of memory or disk; None for other errors."""
    text = str(exc)
    if "max_temp_directory_size" in text:  # the spill folder is full, not the memory
        return InvalidSql(f"The query needs more temporary disk than the limit ({get_settings().duckdb_max_temp_size}) "
                          "to spill to.", hint="Filter or aggregate first, or raise DUCKDB_MAX_TEMP_SIZE (and check "
                                               "the free disk under DATA_DIR/tmp) in the settings.")
    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in text or "bad allocation" in text:
        return InvalidSql(f"The query needs more memory than the limit ({get_settings().duckdb_memory_limit}).",
                          hint=LIMIT_HINT)
    return None
