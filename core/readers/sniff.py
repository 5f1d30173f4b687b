"""Sniffing: a file's format from its content, and the dialect of delimited text.

The format comes from the content (magic bytes, text shape), the file name only breaks ties, so a
CSV named `.xlsx` is still read. Nothing here reads a whole file: only its first bytes.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from core.errors import IngestError, UnsupportedFormat

Format = Literal["csv", "excel", "xls", "json", "parquet", "feather", "gzip", "zip"]
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1")
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


def sniff_format(path: Path, filename: str | None = None) -> str:
    """The file's format from its first bytes (extension only as a tie-break for text)."""
    head = read_head(path, 8192)
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
    return _text_kind(head, Path(name).name)


def _text_kind(head: bytes, name: str) -> str:
    text = _decode_sample(head)
    if text is None:
        raise UnsupportedFormat(
            f"{name} is not a data file the workbench can read: its content looks binary.",
            hint="Import CSV/TSV/TXT, Excel, JSON, Parquet or Feather (optionally .gz or .zip).")
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise IngestError(f"{name} contains only blank space.", hint="Choose a file that contains data.")
    lowered = stripped[:300].lower()
    if lowered.startswith(("<!doctype html", "<html", "<?xml", "<head", "<body")):
        raise UnsupportedFormat(f"{name} is a web page (HTML/XML), not a table.",
                                hint="Download the data file itself (CSV, Excel, JSON...) rather than the page.")
    if stripped[0] in "[{":
        return "json"
    return "csv"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as exc:
        raise IngestError(f"{path.name} is a damaged zip archive.", hint="Download or export it again.") from exc
    if "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names):
        return "excel"
    return "zip"


def read_head(path: Path, size: int) -> bytes:
    """The first `size` bytes of a file."""
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
    head = read_head(path, SAMPLE_BYTES)
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
