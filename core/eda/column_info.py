"""Column info: quick facts about every column (storage and semantic type, missing, exact distinct count,
examples) without a full profile, in time that grows with the number of columns.

The facts come from pyarrow over chunks of columns (null counts are free, distinct counts one hash
pass per column, examples from the first rows); DuckDB only names the types, once per chunk.
"""

from __future__ import annotations

import uuid

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from core import duck, storage
from core.datasets import get_dataset
from core.eda.kinds import refine_text_kind, semantic_kind, storage_kind
from core.eda.source import Source, arrow_duck_types
from core.eda.values import distinct_count, examples

INFO_CHUNK = 5000  # most columns per chunk: the work per column is small (CELL_BUDGET still bounds it)


class ColumnInfo(BaseModel):
    """Quick facts about one column, without a full profile."""

    name: str
    storage_type: str
    kind: str
    missing: int
    missing_pct: float
    distinct: int
    examples: list[str]


def column_info(dataset_id: uuid.UUID | str) -> list[ColumnInfo]:
    """Storage type, semantic type, missing, exact distinct count and examples of every column."""
    ds = get_dataset(dataset_id)
    source = Source(storage.absolute(ds.path))
    out: list[ColumnInfo] = []
    with duck.cursor() as con, duck.explained("Reading the column statistics"):
        for names in source.chunks(INFO_CHUNK):
            out += _chunk_info(con, source.read(names), source.rows)
    return out


def _chunk_info(con: duckdb.DuckDBPyConnection, table: pa.Table, rows: int) -> list[ColumnInfo]:
    types = arrow_duck_types(con, table.schema)
    return [_info(name, dtype, table.column(i), rows) for i, (name, dtype) in enumerate(zip(table.column_names, types,
                                                                                             strict=True))]


def _info(name: str, dtype: str, values: pa.ChunkedArray, rows: int) -> ColumnInfo:
    non_null = len(values) - values.null_count
    distinct = distinct_count(values) if non_null else 0
    store = storage_kind(dtype)
    kind = refine_text_kind(semantic_kind(store, dtype, distinct, non_null, name), store, non_null, _spaces(values))
    missing = rows - non_null
    return ColumnInfo(name=name, storage_type=dtype, kind=kind, missing=missing,
                      missing_pct=round(100 * missing / rows, 2) if rows else 0.0, distinct=distinct,
                      examples=examples(values))


def _spaces(values: pa.ChunkedArray) -> int:
    """How many values contain a space (text columns only)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return 0
    return int(pc.sum(pc.match_substring(values, " ")).as_py() or 0)
