"""Static bounds on what one SQL function call may build, checked before anything runs.

DuckDB's memory limit does not cover a list from `range()` or a string from `repeat()`: each is
allocated whole, so `SELECT list_sum(range(2000000000))` once grew to 22 GB. `oversized` reads the
parsed statement (SQL queries, external queries, filters and derived columns) and refuses a
generating function whose size argument is not a number written in the query, or whose estimated
result is over SQL_MAX_GENERATED (over a thousandth of it when computed for every row).
"""

from __future__ import annotations

import math
import re

from sqlglot import exp

from core.config import get_settings
from core.errors import InvalidSql

COLUMN_SIZE = 100  # characters or values assumed for a column or other non-constant value
PER_ROW_SHARE = 1000  # a call that reads a column may build SQL_MAX_GENERATED / this per row
# printf-style '%*d', '%.*s', '%1$*2$s' and fmt-style nested fields '{:>{}}': the width comes from an argument
_FORMAT_ARGUMENT_WIDTH = re.compile(r"%[^a-zA-Z%]*\*|\{[^{}]*\{")
LIMIT_HINT = ("Filter or aggregate first, or raise DUCKDB_MEMORY_LIMIT / SQL_TIMEOUT_S / SQL_MAX_GENERATED "
              "in the settings.")


def result_too_large() -> InvalidSql:
    """The clear error for a query result over SQL_MAX_RESULT_MB (raised while it is fetched)."""
    mb = get_settings().sql_max_result_mb
    return InvalidSql(f"The result is larger than {mb} MB; select fewer rows or columns.",
                      hint="Add a LIMIT, aggregate, or select shorter values; or raise SQL_MAX_RESULT_MB in the settings.")


class ResultBudget:
    """Counts the bytes of a result as its batches arrive; raises InvalidSql past SQL_MAX_RESULT_MB."""

    def __init__(self) -> None:
        self.limit = get_settings().sql_max_result_mb << 20
        self.used = 0

    def add(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise result_too_large()


def row_bytes(rows: list[tuple]) -> int:
    """About how many bytes a batch of driver rows holds (text and binary by length, other values 8)."""
    return sum(len(v) if isinstance(v, (str, bytes, bytearray, memoryview)) else 8 for row in rows for v in row)


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
    if _FORMAT_ARGUMENT_WIDTH.search(str(args[0].this).replace("{{", "").replace("}}", "")):
        return None  # a width or precision taken from an argument ('%*d', '{:>{}}') could be any size
    widths = [float(w) for w in re.findall(r"\d+", str(args[0].this))]
    rest = [_size(a) for a in args[1:]]
    if any(r is None for r in rest):
        return None
    return float(len(str(args[0].this))) + sum(widths) + sum(rest)
