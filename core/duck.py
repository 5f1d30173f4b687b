"""Every DuckDB database the workbench opens, with its limits.

`connect()` opens a database with a memory limit, a thread limit and a bounded spill folder;
`cursor()` hands out cursors on one shared in-memory database per process (opening a database
costs tens of milliseconds, a cursor microseconds) and interrupts any cursor still working after
DUCKDB_TIMEOUT_S. DuckDB's memory limit does not bound every allocation (a list from `range()` or
a string from `repeat()` is allocated whole, outside its buffer manager), so `oversized()` bounds
those statically: every SQL query, filter and derived column is checked with it before it runs.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
from sqlglot import exp

from core import storage
from core.config import get_settings
from core.errors import InvalidSql

log = logging.getLogger(__name__)

_lock = threading.Lock()
_database: duckdb.DuckDBPyConnection | None = None
COLUMN_SIZE = 100  # characters or values assumed for a column or other non-constant value
PER_ROW_SHARE = 1000  # a call that reads a column may build SQL_MAX_GENERATED / this per row
LIMIT_HINT = ("Filter or aggregate first, or raise DUCKDB_MEMORY_LIMIT / SQL_TIMEOUT_S / SQL_MAX_GENERATED "
              "in the settings.")


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


def limit_error(exc: duckdb.Error) -> InvalidSql | None:
    """A clear error for a query that ran out of memory or disk; None for other errors."""
    text = str(exc)
    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory" in text or "bad allocation" in text:
        return InvalidSql(f"The query needs more memory than the limit ({get_settings().duckdb_memory_limit}).",
                          hint=LIMIT_HINT)
    return None


# ---------------------------------------------------------------- generating functions, bounded statically


def oversized(tree: exp.Expression, *, budget: int | None = None) -> str | None:
    """Why a parsed statement could build a value larger than allowed, else None.

    Functions whose result grows with an argument's value (range, generate_series, repeat, lpad, rpad,
    space, list_resize, bar, printf/format widths) must get that argument as a number written in the
    query. The estimated size of what one call builds (nested calls and lambdas multiply) must stay
    within `budget` (SQL_MAX_GENERATED) when the call is constant (DuckDB computes it once), and within
    budget / PER_ROW_SHARE when it reads a column: it is then computed for every row, a vector of 2,048
    rows at a time.
    """
    budget = get_settings().sql_max_generated if budget is None else budget
    for node in reversed(list(tree.find_all(exp.Func))):  # innermost first: name the call that builds
        size = _size(node)
        if size is None:
            return (f"{_name(node)}() needs its size argument as a number written in the query (a column or "
                    "expression could ask for any size)")
        per_row = node.find(exp.Column) is not None
        limit = budget // PER_ROW_SHARE if per_row else budget
        if size > limit and _grows(node):
            where = " for every row" if per_row else ""
            return f"{_name(node)}() would build about {size:,.0f} values or characters{where} (the limit is {limit:,})"
    return None


def _grows(node: exp.Expression) -> bool:
    """Whether a generating function is at or under `node` (a plain column alone is never refused)."""
    return any(_grown_size(n) is not False for n in node.find_all(exp.Func))


def _name(node: exp.Func) -> str:
    return str(node.name).lower() if isinstance(node, exp.Anonymous) else node.sql_name().lower()


def _const(node: exp.Expression | None) -> float | None:
    """The value of a constant numeric expression (literals, signs, + - * /, casts), else None."""
    if isinstance(node, exp.Literal) and node.is_number:
        try:
            return float(node.this)
        except ValueError:
            return None
    if isinstance(node, (exp.Paren, exp.Cast, exp.TryCast)):
        return _const(node.this)
    if isinstance(node, exp.Neg):
        value = _const(node.this)
        return None if value is None else -value
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        left, right = _const(node.left), _const(node.right)
        if left is None or right is None or (isinstance(node, exp.Div) and right == 0):
            return None
        return {exp.Add: left + right, exp.Sub: left - right, exp.Mul: left * right}.get(
            type(node), left / right if right else 0.0)
    return None


def _size(node: exp.Expression | None) -> float | None:
    """Estimated values/characters of one value of `node`; None when a size argument is not a constant."""
    if node is None:
        return 0.0
    if isinstance(node, exp.Literal):
        return float(len(str(node.this)))
    if isinstance(node, (exp.Column, exp.Star, exp.Null, exp.Boolean)):
        return float(COLUMN_SIZE)
    grow = _grown_size(node)
    if grow is not False:
        return grow
    lambdas = [c for c in node.iter_expressions() if isinstance(c, exp.Lambda)]
    parts = [_size(child) for child in node.iter_expressions() if not isinstance(child, exp.Lambda)]
    if any(p is None for p in parts):
        return None
    if lambdas:  # list_transform(l, x -> f(x)): f runs once per element of l
        body = _size(lambdas[0].this)
        if body is None:
            return None
        return max(parts, default=1.0) * (body if _grows(lambdas[0]) else 1.0)
    if isinstance(node, (exp.DPipe, exp.Concat, exp.ConcatWs, exp.Array)):
        return float(sum(parts))
    return max(parts, default=float(COLUMN_SIZE))


def _grown_size(node: exp.Expression) -> float | bool | None:
    """The size of a generating function call; False when `node` is not one."""
    name = _name(node) if isinstance(node, exp.Func) else ""
    args = _args(node)
    if isinstance(node, exp.GenerateSeries) or name in ("range", "generate_series", "generate_subscripts"):
        return _series(node, args)
    if isinstance(node, exp.Repeat) or name in ("repeat", "list_repeat", "array_repeat", "replicate"):
        return _times(args[0] if args else None, _const(args[1]) if len(args) > 1 else None)
    if isinstance(node, exp.Pad) or name in ("lpad", "rpad", "list_resize", "array_resize"):
        return _at_least(_const(args[1]) if len(args) > 1 else None, args[0] if args else None)
    if isinstance(node, exp.Space) or name == "space":
        return _at_least(_const(args[0]) if args else None, None)
    if name == "bar":
        return _at_least(_const(args[3]) if len(args) > 3 else 80.0, None)
    if isinstance(node, exp.Format) or name in ("printf", "format", "sprintf"):
        return _format_size(args)
    return False


def _args(node: exp.Expression) -> list[exp.Expression]:
    if isinstance(node, exp.Anonymous):
        return list(node.expressions)
    if isinstance(node, exp.GenerateSeries):
        return [a for a in (node.args.get("start"), node.args.get("end"), node.args.get("step")) if a is not None]
    if isinstance(node, exp.Repeat):
        return [node.this, node.args.get("times")]
    if isinstance(node, exp.Pad):
        return [node.this, node.expression]
    return [node.this, *node.expressions] if node.this is not None else list(node.expressions)


def _series(node: exp.Expression, args: list[exp.Expression]) -> float | None:
    values = [_const(a) for a in args]
    if not values or any(v is None for v in values):
        return None
    start, end = (0.0, values[0]) if len(values) == 1 and not isinstance(node, exp.GenerateSeries) else (
        values[0], values[1] if len(values) > 1 else values[0])
    step = values[2] if len(values) > 2 else 1.0
    if step == 0:
        return math.inf
    span = (end - start) / step
    exclusive = bool(node.args.get("is_end_exclusive")) or (isinstance(node, exp.Anonymous) and _name(node) == "range")
    return max(0.0, math.ceil(span) if exclusive else math.floor(span) + 1)


def _times(value: exp.Expression | None, times: float | None) -> float | None:
    inner = _size(value)
    if times is None or inner is None:
        return None
    return max(inner, 1.0) * max(times, 0.0)


def _at_least(length: float | None, value: exp.Expression | None) -> float | None:
    inner = _size(value)
    if length is None or inner is None:
        return None
    return max(length, inner)


def _format_size(args: list[exp.Expression]) -> float | None:
    """printf/format: the template must be written in the query; its widths and precisions count."""
    if not args or not isinstance(args[0], exp.Literal) or not args[0].is_string:
        return None
    widths = [float(w) for w in re.findall(r"\d+", str(args[0].this))]
    rest = [_size(a) for a in args[1:]]
    if any(r is None for r in rest):
        return None
    return float(len(str(args[0].this))) + sum(widths) + sum(rest)
