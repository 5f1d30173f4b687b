"""Pages of a large dataset without a scan: a persisted sort index, and rows read by position.

A sorted page deep into 10 million rows costs DuckDB a sort of everything before it (300 ms at 1 million
rows). Here the first deep sorted page of a column writes the version's rows once, ordered by that column
(ties by file position, so pages never repeat or skip rows), as Parquet with small row groups; any later
page, ascending or descending, the first included, reads only the row groups it covers.

The first pages by a column come from the version's heads instead: the first HEAD_ROWS rows of every
column's order, both ways, written once in the background when a large version is first paged (about 3 s at
10 million rows), so sorting by any column shows its first pages at once. Until the heads are written (and
for files wider than HEAD_COLUMNS), pages near the top come from DuckDB's top-k: the row numbers of the page
by the sort column alone, then those rows. Unsorted pages are read by row number, which DuckDB finds without
a scan. Filtered pages are left to DuckDB (`frames.preview`).

The index lives under DATA_DIR/sortindex (per machine, never in the shared bucket: it can be rebuilt),
named by the version file and column, and is written atomically; deleting a dataset deletes it. The heads
live beside it.
"""

from __future__ import annotations

import atexit
import bisect
import functools
import hashlib
import itertools
import json
import logging
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from core import duck, storage
from core.duck import quote
from core.expressions import literal

LARGE = 200_000  # rows from which pages avoid DuckDB's sort (below it a sort takes a few milliseconds)
TOP_K = 5_000  # sorted pages ending within the first TOP_K rows come from DuckDB's top-k, no index needed
GROUP_ROWS = 16_384  # rows per row group of a sort index: a page reads one or two of them
HEAD_ROWS = 1_000  # the heads hold this many rows of each column's order, each way (two pages of 500)
HEAD_COLUMNS = 32  # files wider than this get no heads (they would hold 2 x columns x HEAD_ROWS rows)
HEADS_IN_BACKGROUND = True  # False: the heads are written by the page that finds them missing (tests)
HEADS_TIMEOUT_S = 900.0  # the background writing of the heads may take this long (100 million rows: ~30 s)
AREA = "sortindex"

log = logging.getLogger(__name__)


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
    heads = _heads_of(path, len(meta.schema.names))
    if sort_by is None:
        return _rows(path, offset, limit, columns)
    if heads is not None and offset + limit <= HEAD_ROWS:
        return _heads_page(heads, sort_by, descending, offset, limit, columns)
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


def _order(column: str, descending: bool) -> str:
    """The ORDER BY of a sorted page: NULLS LAST, ties in file order (a descending page is the ascending
    order read backwards, so its ties run in reverse file order)."""
    way = "DESC" if descending else "ASC"
    return f"ORDER BY {quote(column)} {way} NULLS LAST, file_row_number {way}"


def _top_k(path: Path, column: str, descending: bool, offset: int, limit: int, columns: list[str]) -> pa.Table:
    """A page near the top by DuckDB's top-k over the sort column alone, then its rows by row number (half the
    time of a top-k that carries every column through the sort)."""
    src = f"read_parquet({literal(str(path))}, file_row_number = true)"
    cols = ", ".join(f"s.{quote(c)}" for c in columns)
    sql = (f"WITH k AS (SELECT file_row_number FROM {src} {_order(column, descending)} "
           f"LIMIT {int(limit)} OFFSET {int(offset)}) "
           f"SELECT {cols} FROM {src} AS s SEMI JOIN k USING (file_row_number) {_order(column, descending)}")
    with duck.cursor() as con, duck.explained("Reading this page of the dataset"):
        return con.sql(sql).to_arrow_table()


def heads_path(path: Path) -> Path:
    """Where the heads of the version file `path` live."""
    digest = hashlib.sha256(f"{path.name}\0heads".encode()).hexdigest()[:20]
    return index_folder(path.parent.name) / f"{path.stem}-heads-{digest}.parquet"


_writing: set[Path] = set()  # heads being written in this process (or that failed: not tried again)
_writing_lock = threading.Lock()
_writers: dict[threading.Thread, object] = {}  # background writers and the DuckDB cursor each is using


@atexit.register
def _stop_writers() -> None:
    """At exit, interrupt the background writers' queries and wait for them: a thread still inside DuckDB when
    the interpreter finalises aborts the whole process."""
    with _writing_lock:
        running = list(_writers.items())
    for _thread, con in running:
        if con is not None:
            con.interrupt()
    for thread, _con in running:
        thread.join(timeout=10)


def _heads_of(path: Path, width: int) -> Path | None:
    """The heads of `path` when written; otherwise they are started (in the background) and None is returned."""
    if width > HEAD_COLUMNS or HEAD_ROWS <= 0:
        return None
    target = heads_path(path)
    if target.is_file():
        return target
    with _writing_lock:
        if target in _writing:
            return None
        _writing.add(target)
    if not HEADS_IN_BACKGROUND:
        return write_heads(path)
    thread = threading.Thread(target=write_heads, args=(path,), name="dataset-heads", daemon=True)
    with _writing_lock:
        _writers[thread] = None
    thread.start()
    return None


def write_heads(path: Path) -> Path | None:
    """Write the heads of `path`: for each column and each way, its first HEAD_ROWS rows in page order, as one
    row group (column by column in file order, ascending before descending). None when it could not be written
    (logged; pages then come from DuckDB's top-k)."""
    target = heads_path(path)
    try:
        names = pq.read_schema(path).names
        src = f"read_parquet({literal(str(path))}, file_row_number = true)"
        with duck.cursor(timeout_s=HEADS_TIMEOUT_S) as con:
            _using(con)
            orders = [con.sql(f"SELECT file_row_number FROM {src} {_order(c, desc)} LIMIT {HEAD_ROWS}")
                      .fetchnumpy()["file_row_number"] for c in names for desc in (False, True)]
            numbers = np.unique(np.concatenate(orders))
            rows = _rows_at(con, path, numbers)
        blocks = [rows.take(pa.array(np.searchsorted(numbers, order))) for order in orders]
        table = pa.concat_tables(blocks).replace_schema_metadata(
            {b"heads": json.dumps({"columns": names, "rows": [len(b) for b in blocks]}).encode()})
        if not path.is_file():  # deleted meanwhile: leave no heads (nor their folder) behind
            return None
        with storage.atomic_path(target) as tmp:
            pq.write_table(table, tmp, row_group_size=max(1, max(len(b) for b in blocks)), compression="snappy")
        with _writing_lock:
            _writing.discard(target)
        return target
    except Exception:
        log.warning("The heads of %s could not be written; sorted pages use DuckDB's top-k.", path.name,
                    exc_info=True)
        return None
    finally:
        with _writing_lock:
            _writers.pop(threading.current_thread(), None)


def _using(con: object) -> None:
    """Note the cursor a background writer queries with, so that exit can interrupt it."""
    with _writing_lock:
        if threading.current_thread() in _writers:
            _writers[threading.current_thread()] = con


def _rows_at(con: object, path: Path, wanted: np.ndarray) -> pa.Table:
    """The rows of `path` at the sorted row numbers `wanted`, in that order: one streaming scan joined with
    the wanted numbers (memory: DuckDB's buffers within its limit, and the rows found)."""
    src = f"read_parquet({literal(str(path))}, file_row_number = true)"
    con.register("heads_wanted", pa.table({"file_row_number": wanted}))  # the cursor's own connection
    try:
        return (con.sql(f"SELECT * FROM {src} SEMI JOIN heads_wanted USING (file_row_number) "
                        "ORDER BY file_row_number").to_arrow_table().drop_columns(["file_row_number"]))
    finally:
        con.unregister("heads_wanted")


def _heads_page(heads: Path, column: str, descending: bool, offset: int, limit: int, columns: list[str]) -> pa.Table:
    """Rows [offset, offset+limit) of `column`'s order from the heads: one row group, read alone."""
    file = pq.ParquetFile(heads)
    layout = json.loads(file.schema_arrow.metadata[b"heads"])
    group = 2 * layout["columns"].index(column) + int(descending)
    block = file.read_row_group(group, columns=columns)
    return block.slice(min(offset, block.num_rows), limit)


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
