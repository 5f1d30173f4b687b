"""Columnar files: Parquet and Feather/Arrow IPC, read batch by batch under the memory limit.

Compressed columns can expand a thousandfold, so the size on disk says little: the memory a file
declares (Parquet metadata) is checked first, then the batches really read are added up and the read
stops at IMPORT_MAX_MEMORY_MB. Damaged files of any kind end in an IngestError, never a raw Arrow error.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core.config import get_settings
from core.errors import IngestError, TooLarge

BATCH_ROWS = 65_536
_WIDTHS = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 12, "FLOAT": 4, "DOUBLE": 8, "BYTE_ARRAY": 4}
# what reading a damaged file can raise from inside pyarrow (ArrowInvalid, ArrowIOError are among them)
ARROW_ERRORS = (pa.ArrowException, OSError, ValueError, IndexError, KeyError, TypeError, OverflowError,
                UnicodeDecodeError, struct.error)


def memory_limit() -> int:
    """IMPORT_MAX_MEMORY_MB in bytes."""
    return max(1, int(get_settings().import_max_memory_mb)) * 1024 * 1024


def read_parquet(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    """Read a Parquet file after checking what its metadata declares."""
    try:
        with pq.ParquetFile(path) as first:
            _check_declared(_parquet_estimate(first.metadata), filename)
            schema = first.schema_arrow
        text = [f.name for f in schema if _is_text(f.type)]
        with pq.ParquetFile(path, read_dictionary=text) as pf:
            return _collect(_decoded(pf.iter_batches(batch_size=BATCH_ROWS), schema), schema, filename)
    except IngestError:
        raise
    except (MemoryError, *ARROW_ERRORS) as exc:  # MemoryError: a damaged header asking for an impossible buffer
        raise _damaged(filename, "Parquet", exc) from exc


def read_feather(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    """Read a Feather v2 / Arrow IPC file (or stream) batch by batch."""
    try:
        _check_declared(ipc_declared_bytes(path), filename)
        with pa.memory_map(str(path)) as source:
            reader = _ipc_reader(source)
            return _collect(_ipc_batches(reader), reader.schema, filename)
    except IngestError:
        raise
    except (MemoryError, *ARROW_ERRORS) as exc:  # MemoryError: a damaged header asking for an impossible buffer
        raise _damaged(filename, "Feather/Arrow", exc) from exc


def ipc_declared_bytes(path: Path) -> int:
    """The bytes an Arrow IPC file's batches take once decompressed, read from the message headers alone.

    A compressed buffer starts with its uncompressed length (8 bytes), so a batch of zeros that
    zstd shrank a thousandfold is caught before pyarrow allocates it.
    """
    total = 0
    with pa.memory_map(str(path)) as source:
        if source.read(6) != b"ARROW1":
            source.seek(0)  # an IPC stream rather than a file
        else:
            source.seek(8)
        for message in pa.ipc.MessageReader.open_stream(source):
            if message.type in ("record batch", "dictionary batch") and message.body is not None:
                total += _batch_bytes(message.metadata.to_pybytes(), message.body, message.type)
    return total


def _batch_bytes(meta: bytes, body: pa.Buffer, kind: str) -> int:
    """Decompressed size of one batch's buffers (a minimal reader of the flatbuffer Message header)."""
    header = _child(meta, _root(meta), 2)
    batch = _child(meta, header, 1) if kind == "dictionary batch" else header
    buffers, compressed = _vector(meta, batch, 2), _slot(meta, batch, 3) is not None
    view = memoryview(body)
    total = 0
    for i in range(_u32(meta, buffers) if buffers else 0):
        offset, length = struct.unpack_from("<qq", meta, buffers + 4 + 16 * i)
        if compressed and length >= 8 and offset + 8 <= len(view):
            declared = struct.unpack_from("<q", view, offset)[0]
            total += length - 8 if declared < 0 else declared
        else:
            total += max(length, 0)
    return total


def _u32(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<I", buf, pos)[0]


def _root(buf: bytes) -> int:
    return _u32(buf, 0)


def _slot(buf: bytes, table: int, index: int) -> int | None:
    """Absolute position of field `index` of the flatbuffer table at `table`, or None when absent."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    size = struct.unpack_from("<H", buf, vtable)[0]
    entry = 4 + 2 * index
    if entry + 2 > size:
        return None
    offset = struct.unpack_from("<H", buf, vtable + entry)[0]
    return table + offset if offset else None


def _child(buf: bytes, table: int, index: int) -> int:
    pos = _slot(buf, table, index)
    if pos is None:
        raise ValueError("an Arrow message header lacks a required field")
    return pos + _u32(buf, pos)


def _vector(buf: bytes, table: int, index: int) -> int | None:
    pos = _slot(buf, table, index)
    return None if pos is None else pos + _u32(buf, pos)


def _ipc_reader(source: Any) -> Any:
    try:
        return pa.ipc.open_file(source)
    except pa.ArrowInvalid:
        source.seek(0)
        return pa.ipc.open_stream(source)


def _ipc_batches(reader: Any) -> Iterator[pa.RecordBatch]:
    if isinstance(reader, pa.ipc.RecordBatchFileReader):
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
    else:
        yield from reader


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) or \
        pa.types.is_large_binary(kind)


def _decoded(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Text columns arrive dictionary-encoded (small whatever they repeat); each batch is decoded only after
    the bytes it will take are added to the running total, so one long value repeated cannot blow up."""
    used, limit = 0, memory_limit()
    for batch in batches:
        columns = []
        for i, field in enumerate(schema):
            column = batch.column(i)
            if pa.types.is_dictionary(column.type) and not pa.types.is_dictionary(field.type):
                used += _decoded_bytes(column)
                if used > limit:
                    raise MemoryBudget(used)
                column = column.cast(field.type)
            columns.append(column)
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def _decoded_bytes(column: pa.DictionaryArray) -> int:
    """How many bytes of values a dictionary column becomes once decoded."""
    import pyarrow.compute as pc

    lengths = pc.binary_length(column.dictionary).take(column.indices.fill_null(0))
    return int(pc.sum(lengths).as_py() or 0)


class MemoryBudget(Exception):
    """Raised inside the batch stream when decoding would pass the memory limit."""

    def __init__(self, used: int) -> None:
        super().__init__(used)
        self.used = used


def _collect(batches: Iterator[pa.RecordBatch], schema: pa.Schema, filename: str) -> pa.Table:
    """The batches as one validated Table, stopping once they pass the memory limit."""
    limit, used, kept = memory_limit(), 0, []
    try:
        for batch in batches:
            used += batch.get_total_buffer_size()
            if used > limit:
                raise _too_large(filename, used, partial=True)
            kept.append(batch)
    except MemoryBudget as exc:
        raise _too_large(filename, exc.used, partial=True) from exc
    table = pa.Table.from_batches(kept, schema=schema)
    table.validate(full=True)
    return table


def _parquet_estimate(meta: pq.FileMetaData) -> int:
    """Bytes the decoded columns need at least: per chunk, values x width or the uncompressed size."""
    total = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            width = _WIDTHS.get(chunk.physical_type, 8) + _string_width(chunk)
            total += max(chunk.total_uncompressed_size, chunk.num_values * width)
    return total


def _string_width(chunk: Any) -> int:
    """For text columns, the longest of the min/max statistics (a repeated long value decodes to copies)."""
    stats = chunk.statistics if chunk.is_stats_set else None
    if chunk.physical_type != "BYTE_ARRAY" or stats is None or not stats.has_min_max:
        return 0
    return max(len(str(stats.min)), len(str(stats.max)))


def _check_declared(size: int, filename: str) -> None:
    if size > memory_limit():
        raise _too_large(filename, size)


def _too_large(filename: str, size: int, *, partial: bool = False) -> TooLarge:
    more = "more than " if partial else ""
    return TooLarge(f"{filename} needs {more}{size / 2**20:,.0f} MB of memory once read, over the "
                    f"{memory_limit() // 2**20:,} MB limit.",
                    hint="Import fewer rows or columns, or raise IMPORT_MAX_MEMORY_MB.")


def _damaged(filename: str, kind: str, exc: BaseException) -> IngestError:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return IngestError(f"{filename} is a damaged {kind} file: {detail}", hint="Export it again.")
