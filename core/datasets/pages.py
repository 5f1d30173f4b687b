"""Pages of a large dataset without a scan: a persisted sort index, and rows read by position.

A sorted page deep into 10 million rows costs DuckDB a sort of everything before it (300 ms at 1 million
rows). Here the first deep sorted page of a column writes the version's rows once, ordered by that column
(ties by file position, so pages never repeat or skip rows), as Parquet with small row groups; any later
page, ascending or descending, the first included, reads only the row groups it covers. Until then, pages
near the top come from DuckDB's top-k directly, so a first sorted page never waits for an index build.
Unsorted pages are read by row number, which DuckDB finds without a scan. Filtered pages are left to
DuckDB (`frames.preview`).

The index lives under DATA_DIR/sortindex (per machine, never in the shared bucket: it can be rebuilt),
named by the version file and column, and is written atomically; deleting a dataset deletes it.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from core import duck, storage
from core.duck import quote
from core.expressions import literal

LARGE = 200_000  # rows from which pages avoid DuckDB's sort (below it a sort takes a few milliseconds)
TOP_K = 5_000  # sorted pages ending within the first TOP_K rows come from DuckDB's top-k, no index needed
GROUP_ROWS = 16_384  # rows per row group of a sort index: a page reads one or two of them
AREA = "sortindex"


def index_folder(dataset_id: str) -> Path:
    """The folder of one dataset's sort indexes."""
    return storage.area(AREA) / storage.check_name(dataset_id, what="dataset id")


def index_path(path: Path, column: str) -> Path:
    """Where the sort index of the version file `path` by `column` lives."""
    digest = hashlib.sha256(f"{path.name}\0{column}".encode()).hexdigest()[:20]
    return index_folder(path.parent.name) / f"{path.stem}-{digest}.parquet"


def page(path: Path, *, offset: int, limit: int, sort_by: str | None, descending: bool,
         columns: list[str]) -> pa.Table | None:
    """Rows [offset, offset+limit) of the version file in file order or sorted by `sort_by` (NULLS LAST),
    or None when the file is small enough for DuckDB to cut the page itself."""
    meta = pq.read_metadata(path)
    if meta.num_rows < LARGE or limit <= 0:
        return None
    if sort_by is None:
        return _rows(path, offset, limit, columns)
    if offset + limit <= TOP_K and not index_path(path, sort_by).is_file():
        return _top_k(path, sort_by, descending, offset, limit, columns)
    index = ensure_index(path, sort_by)
    return _sorted_slice(_IndexFile.open(index, sort_by), sort_by, descending, offset, limit, columns)


class _IndexFile:
    """A sort index opened for one page: its footer, the first row of each row group and the missing values
    of its column are read once per file and kept (a 10-million-row index has 600 row groups, and parsing
    their footer took a third of a page); the file itself is opened afresh for each page."""

    def __init__(self, path: Path, layout: tuple[pq.FileMetaData, tuple[int, ...], int]) -> None:
        self.metadata, self.starts, self.nulls = layout
        self.file = pq.ParquetFile(path, metadata=self.metadata)

    @classmethod
    def open(cls, path: Path, column: str) -> _IndexFile:
        st = path.stat()  # a rewritten index (same name) has another size or time, so it is read again
        return cls(path, _layout(str(path), st.st_size, st.st_mtime_ns, column))


@functools.lru_cache(maxsize=64)
def _layout(path: str, _size: int, _mtime_ns: int, column: str) -> tuple[pq.FileMetaData, tuple[int, ...], int]:
    with pq.ParquetFile(path) as file:
        meta = file.metadata
        starts = tuple(itertools.accumulate((meta.row_group(g).num_rows for g in range(meta.num_row_groups)),
                                            initial=0))
        return meta, starts, _nulls(file, column)


def ensure_index(path: Path, column: str) -> Path:
    """The sort index of `path` by `column`, written once (ascending, NULLS LAST, ties in file order)."""
    target = index_path(path, column)
    if target.is_file():
        return target
    src = f"read_parquet({literal(str(path))}, file_row_number = true)"
    sql = (f"SELECT * EXCLUDE (file_row_number) FROM {src} "
           f"ORDER BY {quote(column)} ASC NULLS LAST, file_row_number")
    with storage.atomic_path(target) as tmp, duck.cursor() as con, duck.explained("Sorting the dataset"):
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"COPY ({sql}) TO {literal(str(tmp))} (FORMAT parquet, COMPRESSION snappy, "
                    f"ROW_GROUP_SIZE {GROUP_ROWS})")
    return target


def _top_k(path: Path, column: str, descending: bool, offset: int, limit: int, columns: list[str]) -> pa.Table:
    order = "DESC" if descending else "ASC"
    tie = "DESC" if descending else "ASC"  # a descending page is the ascending order read backwards
    cols = ", ".join(quote(c) for c in columns)
    sql = (f"SELECT {cols} FROM read_parquet({literal(str(path))}, file_row_number = true) "
           f"ORDER BY {quote(column)} {order} NULLS LAST, file_row_number {tie} LIMIT {int(limit)} OFFSET {int(offset)}")
    with duck.cursor() as con, duck.explained("Reading this page of the dataset"):
        return con.sql(sql).to_arrow_table()


def _rows(path: Path, start: int, count: int, columns: list[str]) -> pa.Table:
    """Rows [start, start+count) of the version file in file order: DuckDB skips the row groups before them
    by their row numbers and streams the one that holds them (pyarrow would decode all of it at once)."""
    cols = ", ".join(quote(c) for c in columns)
    sql = (f"SELECT {cols} FROM read_parquet({literal(str(path))}, file_row_number = true) "
           f"WHERE file_row_number >= {int(start)} AND file_row_number < {int(start) + int(count)} "
           "ORDER BY file_row_number")
    with duck.cursor() as con, duck.explained("Reading this page of the dataset"):
        return con.sql(sql).to_arrow_table()


def _slice(index: _IndexFile, start: int, count: int, columns: list[str]) -> pa.Table:
    """Rows [start, start+count) of an index, reading only the row groups that hold them."""
    starts = index.starts
    total = starts[-1]
    start, stop = max(0, min(start, total)), max(0, min(start + count, total))
    if start >= stop:
        return index.file.schema_arrow.empty_table().select(columns)
    first = bisect.bisect_right(starts, start) - 1
    last = bisect.bisect_left(starts, stop) - 1
    table = index.file.read_row_groups(list(range(first, last + 1)), columns=columns)
    return table.slice(start - starts[first], stop - start)


def _sorted_slice(index: _IndexFile, column: str, descending: bool, offset: int, limit: int,
                  columns: list[str]) -> pa.Table:
    """A page of the ascending index, or of its descending order: the non-null rows read backwards, then the
    nulls (which stay last either way), also read backwards, so ties run in reverse file order throughout."""
    if not descending:
        return _slice(index, offset, limit, columns)
    total = index.starts[-1]
    valued = total - index.nulls
    stop = min(offset + limit, total)
    parts = [_backwards(index, lo, hi, offset, stop, columns) for lo, hi in ((0, valued), (valued, total))]
    parts = [p for p in parts if p is not None]
    return pa.concat_tables(parts) if parts else index.file.schema_arrow.empty_table().select(columns)


def _backwards(index: _IndexFile, lo: int, hi: int, start: int, stop: int, columns: list[str]) -> pa.Table | None:
    """Descending positions [start, stop) that fall in the block [lo, hi) of the ascending file, which the
    descending order reads backwards: descending position p is ascending position lo + hi - 1 - p."""
    start, stop = max(start, lo), min(stop, hi)
    if start >= stop:
        return None
    part = _slice(index, lo + hi - stop, stop - start, columns)
    return part.take(pa.array(range(part.num_rows - 1, -1, -1)))


def _nulls(file: pq.ParquetFile, column: str) -> int:
    """Missing values of `column`, from the row-group statistics (read from the column when they are absent)."""
    meta = file.metadata
    leaf = next((i for i in range(meta.num_columns) if meta.schema.column(i).path == column), None)
    stats = [meta.row_group(g).column(leaf).statistics for g in range(meta.num_row_groups)] if leaf is not None else []
    if leaf is None or any(s is None or not s.has_null_count for s in stats):
        return file.read(columns=[column]).column(0).null_count
    return sum(s.null_count for s in stats)
