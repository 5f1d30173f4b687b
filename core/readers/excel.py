"""Excel workbooks (.xlsx/.xlsm through openpyxl, .xls through xlrd), password-protected ones included.

A workbook's size on disk says nothing of its size in memory (one cell at XFD1048576 declares 17
billion cells in 1.6 KB), so sheets are streamed with openpyxl's read-only reader under the cell
budget: the declared dimension, the uncompressed size of the parts and the cells really read are
all checked before a frame is built.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa

from core.errors import IngestError, InvalidInput, TooLarge
from core.readers.archives import expanded_limit
from core.readers.tables import check_cells, frame_to_table, max_cells

log = logging.getLogger(__name__)

Source = BinaryIO


def is_encrypted(path: Path) -> bool:
    """Whether a workbook is protected with a password (an OLE container msoffcrypto can open)."""
    import msoffcrypto

    with path.open("rb") as fh:
        try:
            return bool(msoffcrypto.OfficeFile(fh).is_encrypted())
        except Exception:  # not an OLE/OOXML container msoffcrypto understands: treat as plain
            return False


def _decrypt(path: Path, password: str | None, filename: str) -> io.BytesIO:
    import msoffcrypto

    if not password:
        raise IngestError(f"{filename} is protected with a password.",
                          hint="Enter the workbook password in the import options, or remove the protection in Excel.")
    out = io.BytesIO()
    with path.open("rb") as fh:
        office = msoffcrypto.OfficeFile(fh)
        try:
            office.load_key(password=password)
            office.decrypt(out)
        except Exception as exc:  # msoffcrypto raises its own InvalidKeyError and friends
            raise IngestError(f"The password for {filename} is wrong.", hint="Check it and try again.") from exc
    out.seek(0)
    return out


def sheet_names(path: Path, fmt: str = "excel") -> list[str]:
    """Sheet names of a workbook (empty when it cannot be opened without a password)."""
    try:
        if fmt == "xls":
            with pd.ExcelFile(path, engine="xlrd") as book:
                return [str(s) for s in book.sheet_names]
        with path.open("rb") as fh:
            _check_parts(fh, path.name)
            book = _open_xlsx(fh)
            try:
                return [str(s) for s in book.sheetnames]
            finally:
                book.close()
    except Exception as exc:  # damaged workbooks are reported when read
        log.info("could not list sheets of %s: %s", path.name, exc)
        return []


def read_excel(path: Path, filename: str, notes: list[str], *, fmt: str, **options: Any) -> pa.Table:
    """Read one sheet (the first, or `sheet`) into a Table; `header=False` names columns column_N."""
    encrypted = is_encrypted(path)
    header = options.get("header", True) is not False
    try:
        # a file object, not a path: openpyxl refuses paths without an Excel extension (a .gz member's copy)
        with _decrypt(path, options.get("password"), filename) if encrypted else path.open("rb") as source:
            reader = _read_xlsx if encrypted or fmt != "xls" else _read_xls
            sheets, sheet, frame = reader(source, filename, options.get("sheet"), header)
    except (InvalidInput, IngestError):
        raise
    except Exception as exc:  # openpyxl/xlrd raise many unrelated types for damaged files
        raise IngestError(f"{filename} could not be read as an Excel workbook: {exc}",
                          hint="Open it in Excel and save it again as .xlsx, or export it as CSV.") from exc
    if len(sheets) > 1:
        notes.append(f"Read sheet {sheet!r} of {len(sheets)} ({', '.join(sheets[:10])}).")
    frame = frame.dropna(how="all").dropna(axis=1, how="all") if not frame.empty else frame
    if frame.empty:
        raise IngestError(f"Sheet {sheet!r} of {filename} has no data rows.", hint="Choose another sheet.")
    if not header:
        frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
    return frame_to_table(frame)


def _pick(sheets: list[str], wanted: str | None, filename: str) -> str:
    sheet = wanted or sheets[0]
    if sheet not in sheets:
        raise InvalidInput(f"{filename} has no sheet {sheet!r}.", hint=f"Sheets: {', '.join(sheets)}")
    return sheet


def _read_xls(source: Source, filename: str, wanted: str | None, header: bool) -> tuple[list[str], str, pd.DataFrame]:
    import xlrd

    book = xlrd.open_workbook(file_contents=source.read(), on_demand=True)
    try:
        sheets = [str(s) for s in book.sheet_names()]
        sheet = _pick(sheets, wanted, filename)
        found = book.sheet_by_name(sheet)
        check_cells(found.nrows, found.ncols, f"Sheet {sheet!r} of {filename}")
        frame = pd.read_excel(book, sheet_name=sheet, header=0 if header else None, engine="xlrd")
    finally:
        book.release_resources()
    return sheets, sheet, frame


def _open_xlsx(source: Source) -> Any:
    from openpyxl import load_workbook

    return load_workbook(source, read_only=True, data_only=True, keep_links=False)


def _read_xlsx(source: Source, filename: str, wanted: str | None,
               header: bool) -> tuple[list[str], str, pd.DataFrame]:
    _check_parts(source, filename)
    book = _open_xlsx(source)
    try:
        sheets = [str(s) for s in book.sheetnames]
        sheet = _pick(sheets, wanted, filename)
        ws = book[sheet]
        _check_declared(ws, f"Sheet {sheet!r} of {filename}")
        ws.reset_dimensions()  # stream the cells really there, not the declared rectangle
        rows = _bounded_rows(ws.iter_rows(values_only=True), f"Sheet {sheet!r} of {filename}")
    finally:
        book.close()
    return sheets, sheet, _frame(rows, header, f"Sheet {sheet!r} of {filename}")


def _check_parts(source: Source, filename: str) -> None:
    """Refuse a workbook whose parts expand past the archive limit (shared strings are held in memory)."""
    try:
        with zipfile.ZipFile(source) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{filename} is a damaged Excel workbook.", hint="Open it in Excel and save it again.") from exc
    finally:
        source.seek(0)
    if total > expanded_limit():
        raise TooLarge(f"{filename} expands to {total / 2**20:,.0f} MB of XML, over the "
                       f"{expanded_limit() // 2**20} MB limit.", hint="Export the sheet as CSV, or raise MAX_UPLOAD_MB.")


def _check_declared(ws: Any, what: str) -> None:
    """The dimension the sheet declares (e.g. A1:XFD1048576) must fit the cell budget."""
    rows, cols = ws.max_row, ws.max_column
    if rows and cols:
        check_cells(rows - (ws.min_row or 1) + 1, cols - (ws.min_column or 1) + 1, what, what="declares")


def _bounded_rows(rows: Iterable[tuple[Any, ...]], what: str) -> list[tuple[Any, ...]]:
    """Rows with at least one value, stopping as soon as the cells read pass the budget."""
    budget, cells, kept = max_cells(), 0, []
    for row in rows:
        cells += max(len(row), 1)
        if cells > budget:
            raise TooLarge(f"{what} holds more than {budget:,} cells.",
                           hint="Remove empty rows and columns or split the sheet, or raise IMPORT_MAX_CELLS.")
        if any(v is not None for v in row):
            kept.append(row)
    return kept


def _frame(rows: list[tuple[Any, ...]], header: bool, what: str) -> pd.DataFrame:
    """A frame over the columns that hold a value somewhere (so sparse cells never make a dense grid)."""
    used = sorted({i for row in rows for i, v in enumerate(row) if v is not None})
    check_cells(len(rows), len(used), what)
    grid = [[row[i] if i < len(row) else None for i in used] for row in rows]
    if not header or not grid:
        return pd.DataFrame(grid, columns=range(len(used)) if grid else None)
    names = ["" if v is None else str(v) for v in grid[0]]
    return pd.DataFrame(grid[1:], columns=_unique_labels(names))


def _unique_labels(names: list[str]) -> list[str]:
    """Header labels as pandas gives them: a blank one is 'Unnamed: N', a repeat 'name.1'."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        label = name or f"Unnamed: {i}"
        if label in seen:
            seen[label] += 1
            label = f"{label}.{seen[label]}"
        seen.setdefault(label, 0)
        out.append(label)
    return out
