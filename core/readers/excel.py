"""Excel workbooks (.xlsx/.xlsm through openpyxl, .xls through xlrd), password-protected ones included.

A workbook's size on disk says nothing of its size in memory (one cell at XFD1048576 declares 17
billion cells in 1.6 KB), so sheets are streamed with openpyxl's read-only reader under the cell
budget: the declared dimension, the uncompressed size of the parts and the cells really read are
all checked before a frame is built. The parts openpyxl loads whole before any cell (shared strings,
styles, the sheet list) are stream-counted first: shared strings against the cell budget and the memory
limit, style records and sheets against fixed bounds far above what Excel itself allows. The text of
the cells read is counted against IMPORT_MAX_MEMORY_MB too (one long shared string can fill many cells).
"""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa

from core.config import get_settings
from core.errors import IngestError, InvalidInput, TooLarge
from core.readers.archives import expanded_limit
from core.readers.tables import check_cells, frame_to_table, max_cells

log = logging.getLogger(__name__)

Source = BinaryIO
MAX_STYLE_RECORDS = 200_000  # elements of styles.xml; Excel itself allows 64,000 cell formats
MAX_SHEETS = 10_000  # sheets declared in workbook.xml
_STRING_COST = 64  # bytes a shared string costs in memory besides its text (the str object, its list slot)
_HINT = "Export the sheet as CSV, or raise IMPORT_MAX_CELLS / IMPORT_MAX_MEMORY_MB."


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
    """Refuse a workbook whose parts expand past the archive limit, or whose shared strings, styles or
    sheet list would fill the memory once openpyxl loads them (it reads those parts whole)."""
    try:
        with zipfile.ZipFile(source) as zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > expanded_limit():
                raise TooLarge(f"{filename} expands to {total / 2**20:,.0f} MB of XML, over the "
                               f"{expanded_limit() // 2**20} MB limit.",
                               hint="Export the sheet as CSV, or raise MAX_UPLOAD_MB.")
            _check_xml_parts(zf, filename)
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{filename} is a damaged Excel workbook.", hint="Open it in Excel and save it again.") from exc
    except (ET.ParseError, EOFError, zlib.error) as exc:
        raise IngestError(f"{filename} has a damaged part: {exc}", hint="Open it in Excel and save it again.") from exc
    finally:
        source.seek(0)


def _check_xml_parts(zf: zipfile.ZipFile, filename: str) -> None:
    names = {name.lower(): name for name in zf.namelist()}
    if "xl/sharedstrings.xml" in names:
        _check_shared_strings(zf, names["xl/sharedstrings.xml"], filename)
    if "xl/styles.xml" in names:
        count = _count_elements(zf, names["xl/styles.xml"], None, MAX_STYLE_RECORDS)
        if count > MAX_STYLE_RECORDS:
            raise TooLarge(f"{filename} declares more than {MAX_STYLE_RECORDS:,} style records.",
                           hint="Open it in Excel, clear unused cell styles and save it again, or export it as CSV.")
    if "xl/workbook.xml" in names:
        count = _count_elements(zf, names["xl/workbook.xml"], "sheet", MAX_SHEETS)
        if count > MAX_SHEETS:
            raise TooLarge(f"{filename} declares more than {MAX_SHEETS:,} sheets.",
                           hint="Split the workbook, or export the sheet you need as CSV.")


def _count_elements(zf: zipfile.ZipFile, member: str, local: str | None, stop_after: int) -> int:
    """Elements named `local` (any name when None) in a part, streamed; counting stops past `stop_after`."""
    count = 0
    for element in _ends(zf, member):
        if local is None or element.tag.rsplit("}", 1)[-1] == local:
            count += 1
            if count > stop_after:
                break
    return count


def _ends(zf: zipfile.ZipFile, member: str) -> Iterator[ET.Element]:
    """Each closed element of a part; the tree is emptied as it goes, so memory stays flat.

    Only counting happens here (nothing is resolved or kept); expat's own amplification limit stops
    entity expansion bombs, and openpyxl parses the parts again afterwards with its own safeguards.
    """
    with zf.open(member) as fh:
        events = ET.iterparse(fh, events=("start", "end"))  # noqa: S314 - counting only, see above
        root, ended = None, 0
        for event, element in events:
            if root is None:
                root = element
            if event == "end":
                yield element
                ended += 1
                if ended % 4096 == 0 and element is not root:
                    root.clear()


def _check_shared_strings(zf: zipfile.ZipFile, member: str, filename: str) -> None:
    """At most one shared string per cell of the budget, and their text (plus the cost of each string
    object, _STRING_COST bytes) within the memory limit."""
    budget, limit = max_cells(), _memory_limit()
    count = chars = 0
    for element in _ends(zf, member):
        if element.tag.rsplit("}", 1)[-1] != "si":
            continue
        count += 1
        chars += _STRING_COST + sum(len(text) for text in element.itertext())
        if count > budget:
            raise TooLarge(f"{filename} holds more than {budget:,} shared strings.", hint=_HINT)
        if chars > limit:
            raise TooLarge(f"{filename} has shared strings taking more than {limit // 2**20:,} MB of memory.",
                           hint=_HINT)


def _memory_limit() -> int:
    return get_settings().import_max_memory_mb * 1024 * 1024


def _check_declared(ws: Any, what: str) -> None:
    """The dimension the sheet declares (e.g. A1:XFD1048576) must fit the cell budget."""
    rows, cols = ws.max_row, ws.max_column
    if rows and cols:
        check_cells(rows - (ws.min_row or 1) + 1, cols - (ws.min_column or 1) + 1, what, what="declares")


def _bounded_rows(rows: Iterable[tuple[Any, ...]], what: str) -> list[tuple[Any, ...]]:
    """Rows with at least one value, stopping as soon as the cells read pass the cell budget or their
    text passes the memory limit (cells sharing one long string each count it)."""
    budget, limit, cells, size, kept = max_cells(), _memory_limit(), 0, 0, []
    for row in rows:
        cells += max(len(row), 1)
        if cells > budget:
            raise TooLarge(f"{what} holds more than {budget:,} cells.",
                           hint="Remove empty rows and columns or split the sheet, or raise IMPORT_MAX_CELLS.")
        size += sum(len(v) for v in row if isinstance(v, str))
        if size > limit:
            raise TooLarge(f"{what} holds more than {limit // 2**20:,} MB of text.",
                           hint="Split the sheet or export it as CSV, or raise IMPORT_MAX_MEMORY_MB.")
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
