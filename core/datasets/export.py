"""Export a dataset version, or a filtered view of it, as CSV, Excel, JSON or Parquet.

Text cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage
return) are neutralised: in CSV they get a leading apostrophe, in Excel they are written as typed
text cells. Numbers, and text that is just a number such as '-12.5', are left alone.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from core import duck, storage
from core.datasets import versions
from core.datasets.store import get_dataset
from core.datasets.views import view_sql
from core.duck import quote
from core.errors import InvalidInput
from core.expressions import literal

__all__ = ["EXCEL_MAX_COLUMNS", "EXCEL_MAX_ROWS", "FORMATS", "ExportFormat", "Exported", "export", "neutralised",
           "view_sql", "write_excel"]

ExportFormat = Literal["csv", "xlsx", "json", "parquet"]
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("csv", "text/csv"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "json": ("json", "application/json"),
    "parquet": ("parquet", "application/vnd.apache.parquet"),
}
EXCEL_MAX_ROWS = 1_048_575
EXCEL_MAX_COLUMNS = 16_384
_FORMULA_START = "^[=+\\-@\t\r]"


@dataclass(frozen=True)
class Exported:
    data: bytes
    filename: str
    mime: str
    rows: int


def export(ref: uuid.UUID | str, fmt: str, *, version: int | None = None, where: str | None = None,
           columns: list[str] | None = None, sort_by: str | None = None, descending: bool = False,
           limit: int | None = None) -> Exported:
    """The bytes of a version (current by default), optionally filtered, in `fmt` (csv, xlsx, json, parquet)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown export format {fmt!r}.", hint=f"Choose one of {', '.join(FORMATS)}.")
    ds = get_dataset(ref)
    row = versions.get_version(ds.id, version)
    names = [c["name"] for c in row.schema_]
    sql = view_sql(storage.absolute(row.path), names, where=where, select=columns, sort_by=sort_by,
                   descending=descending, limit=limit)
    tmp = storage.area("tmp") / f"export-{uuid.uuid4().hex}.{FORMATS[fmt][0]}"
    try:
        with duck.cursor() as con, duck.explained("The export"):
            rows = _write(con, sql, fmt, tmp)
        data = tmp.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    suffix = f"-v{row.version}" + ("-filtered" if where or columns or limit else "")
    return Exported(data=data, filename=f"{ds.name}{suffix}.{FORMATS[fmt][0]}", mime=FORMATS[fmt][1], rows=rows)


def _write(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, target: Path) -> int:
    rows = con.execute(f"SELECT count(*) FROM ({sql}) AS t").fetchall()[0][0]
    dest = literal(str(target))
    if fmt == "csv":
        con.execute(f"COPY ({neutralised(con, sql)}) TO {dest} (FORMAT csv, HEADER true)")
    elif fmt == "json":
        con.execute(f"COPY ({sql}) TO {dest} (FORMAT json, ARRAY true)")
    elif fmt == "parquet":
        con.execute(f"COPY ({sql}) TO {dest} (FORMAT parquet, COMPRESSION zstd)")
    else:
        write_excel(con.sql(sql).to_arrow_table(), target, rows)
    return rows


def neutralised(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Wrap `sql` so text columns starting like a formula get a leading apostrophe (numbers untouched)."""
    described = con.execute(f"DESCRIBE {sql}").fetchall()
    parts = []
    for name, dtype, *_ in described:
        q = quote(name)
        if dtype.upper() == "VARCHAR":
            parts.append(f"CASE WHEN regexp_matches({q}, '{_FORMULA_START}') AND TRY_CAST({q} AS DOUBLE) IS NULL "
                         f"THEN '''' || {q} ELSE {q} END AS {q}")
        else:
            parts.append(q)
    return f"SELECT {', '.join(parts)} FROM ({sql}) AS t"


def write_excel(table: pa.Table, target: Path, rows: int) -> None:
    """Write an .xlsx with openpyxl's streaming writer; every text cell is typed as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if rows > EXCEL_MAX_ROWS or table.num_columns > EXCEL_MAX_COLUMNS:
        raise InvalidInput(f"Excel holds at most {EXCEL_MAX_ROWS:,} rows and {EXCEL_MAX_COLUMNS:,} columns; this "
                           f"export has {rows:,} rows and {table.num_columns:,} columns.",
                           hint="Filter the rows, or export as CSV or Parquet.")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([_text_cell(sheet, WriteOnlyCell, name) for name in table.column_names])
    for batch in table.to_batches(max_chunksize=10_000):
        columns = [col.to_pylist() for col in batch.columns]
        for values in zip(*columns, strict=True):
            sheet.append([_cell(sheet, WriteOnlyCell, v) for v in values])
    buffer = io.BytesIO()
    book.save(buffer)
    target.write_bytes(buffer.getvalue())


def _cell(sheet: object, cell_type: type, value: object) -> object:
    if isinstance(value, str):
        return _text_cell(sheet, cell_type, value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    if isinstance(value, (dict, list)):
        return _text_cell(sheet, cell_type, str(value))
    return value


def _text_cell(sheet: object, cell_type: type, value: str) -> object:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = cell_type(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"  # a string, even when it starts with '=' (openpyxl would otherwise write a formula)
    return cell
