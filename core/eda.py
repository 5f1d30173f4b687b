"""Profiling: per-column statistics computed in DuckDB over the stored Parquet file."""

from __future__ import annotations

import uuid
from typing import Any

import duckdb
from pydantic import BaseModel

from core.datasets import dataset_path, get_dataset
from core.progress import Progress, no_progress

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT",
           "USMALLINT", "UINTEGER", "UBIGINT")


class ColumnProfile(BaseModel):
    name: str
    dtype: str
    kind: str
    missing: int
    missing_pct: float
    distinct: int
    min: Any = None
    max: Any = None
    mean: float | None = None


class Profile(BaseModel):
    dataset_id: str
    dataset_name: str
    version: int
    rows: int
    columns: list[ColumnProfile]


def _kind(dtype: str) -> str:
    upper = dtype.upper()
    if upper.startswith(NUMERIC):
        return "numeric"
    if upper == "BOOLEAN":
        return "boolean"
    if upper.startswith(("DATE", "TIMESTAMP", "TIME")):
        return "datetime"
    return "text"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column(con: duckdb.DuckDBPyConnection, name: str, dtype: str, rows: int) -> ColumnProfile:
    kind = _kind(dtype)
    c = _q(name)
    mean = f"avg({c})::DOUBLE" if kind == "numeric" else "NULL"
    ranged = kind in ("numeric", "datetime")
    lo, hi = (f"min({c})", f"max({c})") if ranged else ("NULL", "NULL")
    missing, distinct, vmin, vmax, vmean = con.execute(
        f"SELECT count(*) - count({c}), approx_count_distinct({c}), {lo}, {hi}, {mean} FROM data"
    ).fetchone()
    return ColumnProfile(
        name=name, dtype=dtype, kind=kind, missing=missing, missing_pct=round(100 * missing / rows, 2) if rows else 0,
        distinct=distinct, min=_plain(vmin), max=_plain(vmax), mean=vmean,
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def profile(dataset_id: uuid.UUID | str, *, progress: Progress = no_progress) -> Profile:
    """Profile a dataset: per column its type, missing count, distinct count, min, max and mean."""
    ds = get_dataset(dataset_id)
    with duckdb.connect() as con:
        con.read_parquet(str(dataset_path(ds.id))).create_view("data")
        schema = con.execute("DESCRIBE data").fetchall()
        rows = con.execute("SELECT count(*) FROM data").fetchone()[0]
        columns = []
        for i, (name, dtype, *_rest) in enumerate(schema):
            progress(i / max(len(schema), 1), f"Profiling column {name!r} ({i + 1}/{len(schema)})")
            columns.append(_column(con, name, dtype, rows))
    progress(1.0, "Profile complete")
    return Profile(dataset_id=str(ds.id), dataset_name=ds.name, version=ds.version, rows=rows, columns=columns)
