"""Reading files into pyarrow Tables: format and CSV dialect detection, every supported format, archives.

The format comes from the content (magic bytes, text shape), the file name only breaks ties, so a
CSV named `.xlsx` is still read. `detect()` tells the analyst what was found; `read()` takes the same
options back, overridden or not, and returns the table with notes on what was fixed on the way.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import logging
import re
import shutil
import uuid
import zipfile
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.json as pajson
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from core import storage
from core.config import get_settings
from core.errors import IngestError, InvalidInput, TooLarge, UnsupportedFormat

log = logging.getLogger(__name__)

Format = Literal["csv", "excel", "xls", "json", "parquet", "feather", "gzip", "zip"]
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1")
EXPANSION_FACTOR = 5  # archives may hold at most 5 x MAX_UPLOAD_MB of uncompressed data
MAX_COLUMNS = 20_000
SAMPLE_BYTES = 64 * 1024
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "xls",
              ".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet", ".pq": "parquet",
              ".feather": "feather", ".arrow": "feather", ".gz": "gzip", ".zip": "zip"}
_NUMBER_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")


class CsvOptions(BaseModel):
    """How a delimited text file is read; every field can be overridden by the analyst."""

    delimiter: str = ","
    encoding: str = "utf-8"
    header: bool = True
    quotechar: str = '"'
    decimal: str = "."
    skip_bad_rows: bool = False
    multiline: bool = False  # quoted values span lines (slower to parse, so only when seen or needed)


class Detected(BaseModel):
    """What `detect` found: the format, CSV options when text, sheets when a workbook."""

    format: str
    csv: CsvOptions | None = None
    sheets: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    encrypted: bool = False
    notes: list[str] = Field(default_factory=list)


class ReadResult(BaseModel, arbitrary_types_allowed=True):
    table: pa.Table
    format: str
    notes: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- detection

def sniff_format(path: Path, filename: str | None = None) -> str:
    """The file's format from its first bytes (extension only as a tie-break for text)."""
    head = _head(path, 8192)
    name = (filename or path.name).lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"FEA1")):
        return "feather"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"  # an old workbook, or an encrypted xlsx (both live in an OLE container)
    text = _decode_sample(head)
    if text is None:
        raise UnsupportedFormat(
            f"{Path(name).name} is not a data file the workbench can read: its content looks binary.",
            hint="Import CSV/TSV/TXT, Excel, JSON, Parquet or Feather (optionally .gz or .zip).")
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise IngestError(f"{Path(name).name} contains only blank space.", hint="Choose a file that contains data.")
    lowered = stripped[:300].lower()
    if lowered.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        raise UnsupportedFormat(f"{Path(name).name} is a web page (HTML/XML), not a table.",
                                hint="Download the data file itself (CSV, Excel, JSON...) rather than the page.")
    if stripped[0] in "[{":
        return "json"
    return "csv"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise IngestError(f"{path.name} is a damaged zip archive.", hint="Download or export it again.") from exc
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return "excel"
    return "zip"


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as fh:
        return fh.read(size)


def _decode_sample(head: bytes) -> str | None:
    """Text of the first bytes, or None when they look binary."""
    encoding = detect_encoding(head)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if not text:
        return ""
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\x0c")
    if "\x00" in text or controls / len(text) > 0.01 or text.count("\ufffd") / len(text) > 0.01:
        return None
    return text


def detect_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), else Latin-1."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 4 and head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) == 0:
        return "utf-16-le"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


def sniff_csv(path: Path) -> CsvOptions:
    """Guess encoding, delimiter, quote character, decimal separator and header from the first 64 KB."""
    head = _head(path, SAMPLE_BYTES)
    encoding = detect_encoding(head)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False).lstrip("\ufeff")
    lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
    if len(head) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in half
    quotechar = "'" if text.count("'") > 2 * text.count('"') and text.count("'") > len(lines) else '"'
    delimiter = _best_delimiter(lines, quotechar, suffix=path.suffix.lower())
    rows = list(csv.reader(lines[:50], delimiter=delimiter, quotechar=quotechar))
    decimal = "," if delimiter != "," and _uses_decimal_comma(rows[1:]) else "."
    multiline = any(ln.count(quotechar) % 2 for ln in lines)
    return CsvOptions(delimiter=delimiter, encoding=encoding, header=_has_header(rows), quotechar=quotechar,
                      decimal=decimal, multiline=multiline)


def _best_delimiter(lines: list[str], quotechar: str, *, suffix: str) -> str:
    best, best_score = ("\t" if suffix == ".tsv" else ","), (0.0, 0)
    for cand in DELIMITERS:
        counts = [len(r) for r in csv.reader(lines[:100], delimiter=cand, quotechar=quotechar)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = (counts.count(mode) / len(counts), mode)
        if score > best_score:
            best, best_score = cand, score
    return best


def _uses_decimal_comma(rows: list[list[str]]) -> bool:
    cells = [c.strip() for r in rows for c in r if c.strip()]
    commas = sum(1 for c in cells if _DECIMAL_COMMA_RE.match(c))
    dots = sum(1 for c in cells if re.match(r"^-?\d+\.\d+$", c))
    return commas > 0 and commas >= dots


def _is_value(cell: str) -> bool:
    cell = cell.strip()
    return bool(_NUMBER_RE.match(cell)) or bool(re.match(r"^\d{4}-\d{2}-\d{2}", cell)) or cell.lower() in (
        "true", "false")


def _has_header(rows: list[list[str]]) -> bool:
    """A first row of labels: no numbers or dates, while a later row has some; or all-text unique labels."""
    if len(rows) < 2:
        return True
    first = rows[0]
    if any(_is_value(c) for c in first if c.strip()):
        return False
    later_values = any(_is_value(c) for r in rows[1:] for c in r)
    if later_values:
        return True
    return len(set(first)) == len(first)


def detect(path: Path, filename: str | None = None) -> Detected:
    """Detect format and options of a file so the analyst can check and override them."""
    fmt = sniff_format(path, filename)
    out = Detected(format=fmt)
    ext = EXTENSIONS.get(Path(filename or path.name).suffix.lower())
    if ext and ext != fmt and not (ext == "csv" and fmt == "csv") and not (ext == "excel" and fmt == "xls"):
        out.notes.append(f"The name says '{ext}' but the content is {fmt}; it is read as {fmt}.")
    if fmt == "csv":
        out.csv = sniff_csv(path)
    elif fmt in ("excel", "xls"):
        out.encrypted = _is_encrypted(path)
        if not out.encrypted:
            out.sheets = sheet_names(path, fmt)
    elif fmt == "zip":
        out.members = _zip_members(path)
    return out


# ---------------------------------------------------------------- reading

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
    reader = {"csv": _read_csv, "excel": _read_excel, "xls": _read_excel, "json": _read_json,
              "parquet": _read_parquet, "feather": _read_feather}[fmt]
    table = reader(path, filename, notes, fmt=fmt, **options)
    table = normalise(table, notes, filename)
    return ReadResult(table=table, format=fmt, notes=notes)


def _csv_options(path: Path, options: dict[str, Any]) -> CsvOptions:
    known = {k: v for k, v in options.items() if k in CsvOptions.model_fields and v not in (None, "")}
    if {"delimiter", "encoding", "header", "decimal", "quotechar"} <= known.keys():
        return CsvOptions(**known)
    return sniff_csv(path).model_copy(update=known)


def _read_csv(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    opts = _csv_options(path, options)
    _check_csv_options(opts)
    bad: list[tuple[int | None, int, int, str]] = []

    def on_bad_row(row: Any) -> str:
        bad.append((row.number, row.actual_columns, row.expected_columns, (row.text or "")[:80]))
        return "skip" if opts.skip_bad_rows else "error"

    try:
        table = _pyarrow_csv(path, opts, on_bad_row)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if not opts.multiline and isinstance(exc, pa.ArrowInvalid):  # a quoted line break beyond the sample
            return _read_csv(path, filename, notes, **{**options, **opts.model_dump(), "multiline": True})
        text = str(exc)
        if bad and not opts.skip_bad_rows:
            number, actual, expected, snippet = bad[0]
            where = f"Row {number}" if number else f"The row {snippet!r}"
            raise IngestError(f"{filename}: {where} has {actual} fields but the header has {expected} (ragged rows).",
                              hint="Check the delimiter and quoting, or tick 'skip bad rows' to leave such rows out."
                              ) from exc
        if "invalid UTF8" in text or isinstance(exc, UnicodeDecodeError):
            if opts.encoding.startswith("utf-8"):
                notes.append(f"{filename} is not valid UTF-8; it was read as Latin-1.")
                return _read_csv(path, filename, notes, **{**options, **opts.model_dump(), "encoding": "latin-1"})
        if "Empty CSV file" in text:
            raise IngestError(f"{filename} has no content.", hint="Choose a file that contains data.") from exc
        raise IngestError(f"{filename} could not be read as delimited text: {text.splitlines()[0][:300]}",
                          hint="Check the delimiter, quote character and encoding in the import options.") from exc
    if bad and not opts.multiline:  # the "bad" rows may be one value with a line break in it
        return _read_csv(path, filename, notes, **{**options, **opts.model_dump(), "multiline": True})
    if bad:
        notes.append(f"{len(bad)} row(s) with the wrong number of fields were skipped (first: row {bad[0][0]}).")
    if table.num_rows == 0:
        raise IngestError(f"{filename} has a header but no data rows.", hint="Choose a file with at least one row.")
    return table


def _check_csv_options(opts: CsvOptions) -> None:
    if len(opts.delimiter) != 1:
        raise InvalidInput(f"The delimiter {opts.delimiter!r} must be one character.", hint="Use ',', ';', '|' or a tab.")
    try:
        codecs.lookup(opts.encoding)
    except LookupError as exc:
        raise InvalidInput(f"Unknown encoding {opts.encoding!r}.", hint="Use utf-8, utf-16 or latin-1.") from exc
    if opts.decimal not in (".", ","):
        raise InvalidInput("The decimal separator must be '.' or ','.")


def _pyarrow_csv(path: Path, opts: CsvOptions, on_bad_row: Any) -> pa.Table:
    encoding = "utf8" if opts.encoding in ("utf-8", "utf8") else opts.encoding
    read_opts = pacsv.ReadOptions(encoding=encoding, autogenerate_column_names=not opts.header)
    parse_opts = pacsv.ParseOptions(delimiter=opts.delimiter, quote_char=opts.quotechar or False,
                                    newlines_in_values=opts.multiline, invalid_row_handler=on_bad_row)
    convert_opts = pacsv.ConvertOptions(decimal_point=opts.decimal, strings_can_be_null=True)
    if encoding.startswith("utf-8-sig"):
        read_opts.encoding = "utf8"  # pyarrow skips the BOM itself
    return pacsv.read_csv(path, read_options=read_opts, parse_options=parse_opts, convert_options=convert_opts)


def _is_encrypted(path: Path) -> bool:
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
        with pd.ExcelFile(path, engine="xlrd" if fmt == "xls" else "openpyxl") as book:
            return [str(s) for s in book.sheet_names]
    except Exception as exc:  # damaged workbooks are reported when read
        log.info("could not list sheets of %s: %s", path.name, exc)
        return []


def _read_excel(path: Path, filename: str, notes: list[str], *, fmt: str, **options: Any) -> pa.Table:
    source: Path | io.BytesIO = path
    if _is_encrypted(path):
        source = _decrypt(path, options.get("password"), filename)
        fmt = "excel"
    engine = "xlrd" if fmt == "xls" else "openpyxl"
    header = 0 if options.get("header", True) is not False else None
    try:
        with pd.ExcelFile(source, engine=engine) as book:
            sheets = [str(s) for s in book.sheet_names]
            sheet = options.get("sheet") or sheets[0]
            if sheet not in sheets:
                raise InvalidInput(f"{filename} has no sheet {sheet!r}.", hint=f"Sheets: {', '.join(sheets)}")
            frame = book.parse(sheet, header=header)
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
    if header is None:
        frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
    return frame_to_table(frame)


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as a Table; object columns with mixed Python types become text."""
    frame = frame.copy()
    frame.columns = [str(c) if not str(c).startswith("Unnamed: ") else "" for c in frame.columns]
    arrays = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        try:
            arrays.append(pa.array(col, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array(col.map(lambda v: None if pd.isna(v) else str(v)), type=pa.string()))
    return pa.Table.from_arrays(arrays, names=list(frame.columns))


def _read_json(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    head = _head(path, SAMPLE_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{") and _looks_like_lines(head):
        try:
            return flatten(pajson.read_json(path), notes)
        except pa.ArrowInvalid as exc:
            log.info("pyarrow could not read %s as JSON Lines (%s); trying plain JSON", filename, exc)
    try:
        data = json.loads(path.read_text(encoding=detect_encoding(head.encode()).replace("-sig", "") or "utf-8"))
    except json.JSONDecodeError as exc:
        return _json_lines_fallback(path, filename, notes, exc)
    records = _records(data, filename, notes)
    frame = pd.json_normalize(records, sep=".")
    return flatten(frame_to_table(frame), notes)


def _looks_like_lines(head: str) -> bool:
    lines = [ln for ln in head.splitlines() if ln.strip()]
    return len(lines) > 1 and lines[0].rstrip().endswith("}") and lines[1].lstrip().startswith("{")


def _json_lines_fallback(path: Path, filename: str, notes: list[str], exc: Exception) -> pa.Table:
    try:
        records = [json.loads(line) for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except json.JSONDecodeError as err:
        raise IngestError(f"{filename} is not valid JSON: {err}", hint="Check the file in a JSON validator.") from exc
    if not all(isinstance(r, dict) for r in records):
        raise IngestError(f"{filename} has JSON lines that are not objects.", hint="Each line must be one {...} record.")
    return flatten(frame_to_table(pd.json_normalize(records, sep=".")), notes)


def _records(data: Any, filename: str, notes: list[str]) -> list[dict[str, Any]]:
    """Array of records, object of equal-length arrays, or an object wrapping one array of records."""
    hint = "Use an array of records [{...}, ...], an object of equal-length arrays, or JSON Lines."
    if isinstance(data, list):
        if data and all(isinstance(r, dict) for r in data):
            return data
        raise IngestError(f"{filename} is a JSON array of plain values, not of records, so it is not a table.",
                          hint=hint)
    if isinstance(data, dict) and data:
        values = list(data.values())
        if all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1 and values[0]:
            return pd.DataFrame(data).to_dict("records")
        lists = [k for k, v in data.items() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        if len(lists) == 1:
            notes.append(f"Read the records under the key {lists[0]!r}.")
            return data[lists[0]]
    raise IngestError(f"{filename} holds JSON that is not tabular (a single value or object).", hint=hint)


def flatten(table: pa.Table, notes: list[str]) -> pa.Table:
    """Nested objects become 'parent.child' columns; lists become JSON text."""
    nested = False
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table, nested = table.flatten(), True
    if nested:
        notes.append("Nested objects were flattened into 'parent.child' columns.")
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type) or pa.types.is_map(field.type):
            values = [None if v is None else json.dumps(v, default=str) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(values, type=pa.string()))
    return table


def _read_parquet(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{filename} is a damaged Parquet file: {exc}", hint="Export it again.") from exc


def _read_feather(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    try:
        return feather.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{filename} is a damaged Feather/Arrow file: {exc}", hint="Export it again.") from exc


# ---------------------------------------------------------------- archives

def expanded_limit() -> int:
    """Most bytes an archive may expand to."""
    return EXPANSION_FACTOR * get_settings().max_upload_mb * 1024 * 1024


def _copy_capped(src: io.BufferedIOBase | Any, dst: Path, filename: str) -> None:
    limit, written = expanded_limit(), 0
    with dst.open("wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise TooLarge(f"{filename} expands to more than {limit // (1 << 20)} MB (a zip bomb or a very "
                               "large file).", hint="Import the uncompressed file or raise MAX_UPLOAD_MB.")
            out.write(chunk)


def _zip_members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return [i.filename for i in zf.infolist()
                if not i.is_dir() and not i.filename.startswith("__MACOSX/") and not Path(i.filename).name.startswith(".")]


def _read_archive(path: Path, fmt: str, *, filename: str, depth: int, **options: Any) -> ReadResult:
    if depth > 0:
        raise UnsupportedFormat(f"{filename} is an archive inside an archive.", hint="Extract it once and import that.")
    tmp_dir = storage.area("tmp") / f"x-{uuid.uuid4().hex}"
    tmp_dir.mkdir()
    try:
        inner_name, inner = _extract(path, fmt, filename, tmp_dir, options.get("member"))
        result = read(inner, filename=inner_name, depth=depth + 1, **options)
        result.notes.insert(0, f"Read {inner_name} from the archive {filename}.")
        return result
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _extract(path: Path, fmt: str, filename: str, tmp_dir: Path, member: str | None) -> tuple[str, Path]:
    if fmt == "gzip":
        inner_name = Path(filename).stem if filename.lower().endswith(".gz") else f"{filename}.data"
        target = tmp_dir / "inner"
        try:
            with gzip.open(path, "rb") as src:
                _copy_capped(src, target, filename)
        except (OSError, EOFError) as exc:
            raise IngestError(f"{filename} is a damaged gzip file: {exc}", hint="Download it again.") from exc
        return inner_name, target
    members = _zip_members(path)
    if not members:
        raise IngestError(f"The archive {filename} contains no files.", hint="Choose an archive with one data file.")
    if member is None and len(members) > 1:
        raise IngestError(f"The archive {filename} contains {len(members)} files: {', '.join(members[:10])}.",
                          hint="Choose which file to import, or upload that file alone.")
    chosen = member or members[0]
    if chosen not in members:
        raise InvalidInput(f"The archive {filename} has no file {chosen!r}.", hint=f"Files: {', '.join(members[:20])}")
    target = tmp_dir / "inner"
    try:
        with zipfile.ZipFile(path) as zf, zf.open(chosen) as src:
            _copy_capped(src, target, filename)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise IngestError(f"{filename} could not be extracted: {exc}", hint="Zip it again without encryption.") from exc
    return Path(chosen).name, target


# ---------------------------------------------------------------- column names and types

def normalise(table: pa.Table, notes: list[str], filename: str = "the file") -> pa.Table:
    """Unique, non-empty column names; all-empty (null-typed) columns stored as text; limits checked."""
    if table.num_columns == 0:
        raise IngestError(f"{filename} has no columns.", hint="Choose a file with a header and data.")
    if table.num_columns > MAX_COLUMNS:
        raise IngestError(f"{filename} has {table.num_columns:,} columns, over the {MAX_COLUMNS:,} limit.",
                          hint="Select fewer columns before importing.")
    if table.num_rows == 0:
        raise IngestError(f"{filename} has no data rows.", hint="Choose a file with at least one row of data.")
    names = unique_names([str(n) for n in table.column_names], notes)
    table = table.rename_columns(names)
    empty = [f.name for f in table.schema if pa.types.is_null(f.type)]
    for name in empty:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pc.cast(table.column(i), pa.string()))
    if empty:
        notes.append(f"Column(s) empty in every row: {', '.join(empty[:10])}{'...' if len(empty) > 10 else ''}.")
    return table


def unique_names(names: list[str], notes: list[str]) -> list[str]:
    """Blank names become column_N; repeated names get _2, _3 ...; each fix is noted."""
    out: list[str] = []
    seen: set[str] = set()
    blanks, dupes = [], []
    for i, raw in enumerate(names):
        name = raw.strip() or f"column_{i + 1}"
        if not raw.strip():
            blanks.append(name)
        base, n = name, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        if name != (raw.strip() or name):
            dupes.append(f"{base}->{name}")
        seen.add(name)
        out.append(name)
    if blanks:
        notes.append(f"{len(blanks)} column(s) had no name and were called {', '.join(blanks[:5])}.")
    if dupes:
        notes.append(f"Repeated column names were made unique: {', '.join(dupes[:5])}.")
    return out
