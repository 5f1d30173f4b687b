"""Validated DuckDB row expressions, for derived columns, row filters and filtered exports.

An expression is parsed with sqlglot and every node must be on an allow-list: columns, literals,
arithmetic, comparisons, boolean logic, CASE, casts and a list of scalar functions. No subqueries,
no table functions (read_csv ...), no aggregates or windows, no settings: what runs is the
re-rendered, validated tree, never the analyst's text.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from core.bounds import LIMIT_HINT, oversized
from core.errors import InvalidInput

MAX_LENGTH = 2000

_SAFE_NODES = {
    "Column", "Identifier", "Literal", "Boolean", "Null", "Paren", "Neg", "Not", "And", "Or", "Xor",
    "Add", "Sub", "Mul", "Div", "IntDiv", "Mod", "Pow", "DPipe", "BitwiseAnd", "BitwiseOr",
    "EQ", "NEQ", "GT", "GTE", "LT", "LTE", "Is", "In", "Between", "Like", "ILike", "NullSafeEQ", "NullSafeNEQ",
    "Case", "If", "Cast", "TryCast", "DataType", "DataTypeParam", "Interval", "Var", "Tuple", "Array",
}
_SAFE_FUNCS = {
    "Abs", "Round", "Floor", "Ceil", "Sqrt", "Ln", "Log", "Exp", "Pow", "Sign", "Greatest", "Least",
    "Coalesce", "Nullif", "Lower", "Upper", "Length", "Trim", "Substring", "Concat", "ConcatWs", "Left", "Right",
    "StrPosition", "Replace", "RegexpLike", "RegexpReplace", "RegexpExtract", "StartsWith", "EndsWith", "Contains",
    "Year", "Month", "Day", "Hour", "Minute", "Second", "Quarter", "Week", "DayOfWeek", "DayOfMonth", "DayOfYear",
    "TimeToStr", "StrToTime", "StrToDate", "TimestampTrunc", "DateTrunc", "DateDiff", "DateAdd", "DateSub",
    "Extract", "ToDate", "TsOrDsToDate", "Date", "Pad", "SplitPart", "Reverse", "Initcap", "Levenshtein",
    "Md5", "Hash", "Unicode", "Chr", "Repeat", "ArraySize", "Cbrt", "Degrees", "Radians", "Sin", "Cos", "Tan",
    "Atan", "Atan2", "Asin", "Acos", "Log2", "Log10", "IsNan", "IsInf", "SafeDivide", "Trunc", "Epoch",
}
_SAFE_ANONYMOUS = {
    "date_part", "datepart", "log10", "log2", "ltrim", "rtrim", "lpad", "rpad", "strpos", "contains",
    "starts_with", "ends_with", "ifnull", "nullif", "epoch", "dayname", "monthname", "isodow", "yearweek",
    "split_part", "regexp_full_match", "ceiling", "trunc", "even", "signbit", "isfinite", "gamma", "factorial",
    "make_date", "last_day", "age", "date_diff", "datediff", "to_days", "to_hours", "to_minutes", "to_seconds",
    "strip_accents", "length_grapheme", "bit_length", "ascii", "format", "printf", "array_length", "least",
    "greatest", "iif",
}


def validate(expression: str, columns: list[str], *, what: str = "expression") -> str:
    """Return the expression re-rendered for DuckDB, or raise InvalidInput naming what is not allowed."""
    text = (expression or "").strip()
    if not text:
        raise InvalidInput(f"The {what} is empty.", hint="Write something like price * quantity or age > 30.")
    if len(text) > MAX_LENGTH or ";" in text:
        raise InvalidInput(f"The {what} is too long or contains ';'.", hint="Write a single expression.")
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except (ParseError, ValueError) as exc:
        raise InvalidInput(f"The {what} {text!r} is not valid: {str(exc).splitlines()[0][:200]}",
                           hint="Quote column names with spaces in double quotes and text in single quotes.") from exc
    known = {c.lower(): c for c in columns}
    for node in tree.walk():
        _check_node(node, known, what)
    problem = oversized(tree)
    if problem:
        raise InvalidInput(f"The {what} is refused: {problem}.", hint=LIMIT_HINT)
    return tree.sql(dialect="duckdb")


def _check_node(node: exp.Expression, known: dict[str, str], what: str) -> None:
    name = type(node).__name__
    if isinstance(node, exp.Column):
        col = node.name
        if node.table or col.lower() not in known:
            hint = "Columns: " + ", ".join(list(known.values())[:30])
            raise InvalidInput(f"The {what} uses an unknown column {node.sql('duckdb')!r}.", hint=hint)
        return
    if isinstance(node, exp.Anonymous):
        if node.name.lower() not in _SAFE_ANONYMOUS:
            raise InvalidInput(f"The function {node.name}() is not allowed in {_a(what)}.",
                               hint="Use arithmetic, comparisons, CASE, CAST and scalar functions such as "
                                    "round, lower, coalesce, date_part.")
        return
    if isinstance(node, exp.Func) and name not in _SAFE_NODES:
        if name not in _SAFE_FUNCS:
            raise InvalidInput(f"{node.sql('duckdb')[:60]!r} is not allowed in {_a(what)} ({name}).",
                               hint="Only scalar functions on the row's own values are allowed: no aggregates, "
                                    "windows, subqueries or file access.")
        return
    if name not in _SAFE_NODES:
        raise InvalidInput(f"{node.sql('duckdb')[:60]!r} is not allowed in {_a(what)} ({name}).",
                           hint="Only scalar functions on the row's own values are allowed: no aggregates, windows, "
                                "subqueries or file access.")


def _a(noun: str) -> str:
    """The noun with its indefinite article: 'a filter', 'an expression'."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def literal(value: object) -> str:
    """A SQL literal for a plain Python value (text is single-quoted and escaped)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"
