"""Reading files into pyarrow Tables: format and CSV dialect detection, every supported format, archives.

The format comes from the content (magic bytes, text shape), the file name only breaks ties, so a
CSV named `.xlsx` is still read. `detect()` tells the analyst what was found; `read()` takes the same
options back, overridden or not, and returns the table with notes on what was fixed on the way.

Modules, lowest first: `sniff` (format and dialect), `tables` (clean names, limits), `archives`,
then one per format: `csvfile`, `excel`, `jsonfile`, `columnar`. This package imports nothing above it.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field

from core import storage
from core.errors import UnsupportedFormat
from core.readers.archives import EXPANSION_FACTOR, expanded_limit, extract, zip_members
from core.readers.columnar import read_feather, read_parquet
from core.readers.csvfile import csv_to_parquet, preview_csv, read_csv
from core.readers.dialect import sniff_csv
from core.readers.excel import is_encrypted, read_excel, sheet_names
from core.readers.jsonfile import read_json
from core.readers.sniff import (
    DELIMITERS,
    ENCODINGS,
    EXTENSIONS,
    SAMPLE_BYTES,
    CsvOptions,
    Detected,
    Format,
    detect_encoding,
    sniff_format,
)
from core.readers.tables import MAX_COLUMNS, flatten, frame_to_table, normalise, unique_names

__all__ = ["DELIMITERS", "ENCODINGS", "EXPANSION_FACTOR", "EXTENSIONS", "MAX_COLUMNS", "SAMPLE_BYTES", "CsvOptions",
           "Detected", "Format", "ReadResult", "csv_to_parquet", "detect", "detect_encoding", "expanded_limit", "flatten",
           "frame_to_table", "normalise", "read", "sheet_names", "sniff_csv", "sniff_format", "unique_names"]

Reader = Callable[..., pa.Table]
READERS: dict[str, Reader] = {"csv": read_csv, "excel": read_excel, "xls": read_excel, "json": read_json,
                              "parquet": read_parquet, "feather": read_feather}


class ReadResult(BaseModel, arbitrary_types_allowed=True):
    table: pa.Table
    format: str
    notes: list[str] = Field(default_factory=list)


def detect(path: Path, filename: str | None = None, **options: Any) -> Detected:
    """Detect format and options of a file so the analyst can check and override them.

    For delimited text, `options` (as `read`) are applied to a preview of the first rows and its notes.
    """
    fmt = sniff_format(path, filename)
    out = Detected(format=fmt)
    ext = EXTENSIONS.get(Path(filename or path.name).suffix.lower())
    if ext and ext != fmt and not (ext == "csv" and fmt == "csv") and not (ext == "excel" and fmt == "xls"):
        out.notes.append(f"The name says '{ext}' but the content is {fmt}; it is read as {fmt}.")
    if fmt == "csv":
        out.csv, table = preview_csv(path, filename or path.name, out.notes, **options)
        if table is not None:
            out.preview = normalise(table, [], filename or path.name).to_pylist()
    elif fmt in ("excel", "xls"):
        out.encrypted = is_encrypted(path)
        if not out.encrypted:
            out.sheets = sheet_names(path, fmt)
    elif fmt == "zip":
        out.members = zip_members(path)
    return out


def read(path: Path, *, filename: str | None = None, depth: int = 0, **options: Any) -> ReadResult:
    """Read any supported file into a Table with clean column names.

    Options: delimiter, encoding, header, quotechar, decimal, skip_bad_rows (text); sheet, password (Excel);
    member (zip). Raises IngestError, UnsupportedFormat, TooLarge with a message and a hint.
    """
    filename = filename or path.name
    fmt = sniff_format(path, filename)
    notes: list[str] = []
    if fmt in ("gzip", "zip"):
        return _read_archive(path, fmt, filename=filename, depth=depth, **options)
    table = READERS[fmt](path, filename, notes, fmt=fmt, **options)
    table = normalise(table, notes, filename)
    return ReadResult(table=table, format=fmt, notes=notes)


def _read_archive(path: Path, fmt: str, *, filename: str, depth: int, **options: Any) -> ReadResult:
    if depth > 0:
        raise UnsupportedFormat(f"{filename} is an archive inside an archive.", hint="Extract it once and import that.")
    tmp_dir = storage.area("tmp") / f"x-{uuid.uuid4().hex}"
    tmp_dir.mkdir()
    try:
        inner_name, inner = extract(path, fmt, filename, tmp_dir, options.get("member"))
        result = read(inner, filename=inner_name, depth=depth + 1, **options)
        result.notes.insert(0, f"Read {inner_name} from the archive {filename}.")
        return result
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
