"""Column kinds: the storage kind of a DuckDB type and the semantic kind an analyst sees, plus value cleaning.

The bottom of the profiling package: it imports nothing from the rest of `core.eda`.
"""

from __future__ import annotations

import math
from typing import Any

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT",
           "USMALLINT", "UINTEGER", "UBIGINT", "REAL")
INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
CATEGORICAL_MAX = 50
KINDS = ("numeric", "categorical", "boolean", "datetime", "text", "identifier")


def storage_kind(dtype: str) -> str:
    """numeric, boolean, datetime or text, from a DuckDB type name."""
    upper = dtype.upper()
    if upper.startswith(NUMERIC):
        return "numeric"
    if upper == "BOOLEAN":
        return "boolean"
    if upper.startswith(("DATE", "TIMESTAMP")):
        return "datetime"
    return "text"


def semantic_kind(storage: str, dtype: str, distinct: int, non_null: int, name: str = "") -> str:
    """numeric, categorical, boolean, datetime, text or identifier, from storage type and cardinality."""
    if storage in ("boolean", "datetime"):
        return storage
    unique = non_null > 20 and distinct >= non_null * 0.99
    lowered = name.lower()
    id_name = lowered == "id" or lowered.endswith(("_id", " id", "id_", "uuid", "key", "code"))
    if storage == "numeric":
        integer = dtype.upper().startswith(INTEGER)
        if integer and unique and (id_name or distinct == non_null):
            return "identifier"
        if integer and distinct <= 2 and non_null > 20:
            return "categorical"
        return "numeric"
    if unique:
        return "identifier"
    if distinct <= CATEGORICAL_MAX or (non_null and distinct / non_null <= 0.05):
        return "categorical"
    return "text"


def refine_text_kind(kind: str, store: str, non_null: int, spaces: int) -> str:
    """Unique sentences are free text, not keys."""
    if kind == "identifier" and store == "text" and non_null and spaces > 0.1 * non_null:
        return "text"
    return kind


def plain(value: Any) -> Any:
    """A JSON-friendly scalar: NaN and infinities become None, other objects their text."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    return str(value)


def num(value: Any) -> float | None:
    """A finite float or None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def text_of(value: Any) -> str:
    """A value as DuckDB writes it as VARCHAR (booleans lower case, bytes as text; numbers, dates and text as
    Python does)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)
