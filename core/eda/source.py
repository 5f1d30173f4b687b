"""A version's Parquet file read a bounded chunk of columns at a time, so work grows with the columns.

A DuckDB view over a 10,000-column file costs time for every column on every query; a chunk of a
few hundred columns read once through pyarrow (the file footer parsed once) and registered as the
table `data` costs only what the chunk holds. Chunks are narrow enough that one never holds more
than CELL_BUDGET values, so tall data is still read a few columns at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK = 150  # most columns per chunk (keeps each aggregate query's SQL text reasonable)
CELL_BUDGET = 1_000_000  # most values per chunk held in memory at once (a million-row column alone)


class Source:
    """The columns, row count and chunked reading of one Parquet file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = pq.ParquetFile(path)
        self.rows: int = self.file.metadata.num_rows
        self.names: list[str] = list(self.file.schema_arrow.names)

    def width(self, limit: int = CHUNK) -> int:
        """How many columns one chunk holds."""
        return max(1, min(limit, CELL_BUDGET // max(self.rows, 1)))

    def chunks(self, limit: int = CHUNK) -> Iterator[list[str]]:
        """The column names, `width()` at a time, in file order."""
        step = self.width(limit)
        for start in range(0, len(self.names), step):
            yield self.names[start:start + step]

    def read(self, names: list[str]) -> pa.Table:
        """Those columns, all rows (`select` drops any column a dotted name also matched as a prefix). One column
        is decoded on this thread: a thread of its own added a heap of its own to the memory it took."""
        return self.file.read(columns=names, use_threads=len(names) > 1).select(names)

    @contextmanager
    def registered(self, con: duckdb.DuckDBPyConnection, names: list[str]) -> Iterator[pa.Table]:
        """Read the chunk, register it as `data` on `con` and yield it."""
        table = self.read(names)
        con.register("data", table)
        try:
            yield table
        finally:
            con.unregister("data")


def duck_types(con: duckdb.DuckDBPyConnection, relation: str = "data") -> list[tuple[str, str]]:
    """(name, DuckDB type) of every column of a registered table or view."""
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {relation}").fetchall()]


def arrow_duck_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> list[str]:
    """The DuckDB type name of every field of an Arrow schema, asking DuckDB once per distinct type (a wide
    table usually holds a handful of types, so this costs the same for 10 or 10,000 columns)."""
    distinct = list(dict.fromkeys(field.type for field in schema))
    sample = pa.schema([pa.field(f"t{i}", t) for i, t in enumerate(distinct)]).empty_table()
    con.register("arrow_types", sample)
    try:
        names = dict(zip(distinct, (t for _, t in duck_types(con, "arrow_types")), strict=True))
    finally:
        con.unregister("arrow_types")
    return [names[field.type] for field in schema]
