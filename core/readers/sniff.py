"""Sniffing: a file's format from its content, and the dialect of delimited text.

The format comes from the content (magic bytes, text shape), the file name only breaks ties, so a
CSV named `.xlsx` is still read. Nothing here reads a whole file: only its first bytes.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zipfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from core.errors import IngestError, UnsupportedFormat
from core.readers import charsets

Format = Literal["csv", "excel", "xls", "json", "parquet", "feather", "gzip", "zip"]
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "shift_jis", "gb18030")
SAMPLE_BYTES = 64 * 1024
EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "xls",
              ".json": "json", ".jsonl": "json", ".ndjson": "json", ".parquet": "parquet", ".pq": "parquet",
              ".feather": "feather", ".arrow": "feather", ".gz": "gzip", ".zip": "zip"}
_NUMBER_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA_RE = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")


class CsvOptions(BaseModel):
    """How a delimited text file is read; every field can be overridden by the analyst.

    An empty `quotechar` turns quoting off; an empty `escape` means quotes are escaped by doubling them;
    `skip_rows` lines are dropped before the header; lines starting with `comment` are ignored.
    """

    delimiter: str = ","
    encoding: str = "utf-8"
    header: bool = True
    quotechar: str = '"'
    escape: str = ""
    comment: str = ""
    skip_rows: int = Field(0, ge=0, le=1_000_000)
    decimal: str = "."
    skip_bad_rows: bool = False
    multiline: bool = False  # kept for callers of the old reader: DuckDB handles quoted line breaks itself


class Detected(BaseModel):
    """What `detect` found: the format, CSV options when text, sheets when a workbook."""

    format: str
    csv: CsvOptions | None = None
    sheets: list[str] = Field(default_factory=list)
    members: list[str] = Field(default_factory=list)
    encrypted: bool = False
    notes: list[str] = Field(default_factory=list)
    preview: list[dict[str, Any]] = Field(default_factory=list)  # the first rows of delimited text, as read


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
    if stripped[0] in "[{" and _looks_like_json(stripped):
        return "json"
    return "csv"


def _looks_like_json(text: str) -> bool:
    """JSON unless the text is invalid before its end: `[248.128.0.120],host` is a CSV row, `[{"a": ` a cut JSON."""
    try:
        _value, end = json.JSONDecoder().raw_decode(text)
    except RecursionError:
        return True  # nested deeper than Python's stack: the JSON reader refuses it with a clear message
    except json.JSONDecodeError as exc:
        return exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()) - 1
    except ValueError:
        return True  # a number too long to convert: JSON, which the JSON reader refuses with a clear message
    rest = text[end:].lstrip(" \t")
    return not rest or rest[0] in "\r\n{[" or (rest.startswith(",") and text[0] == "{")


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
    """UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), else Shift-JIS, GB18030, Windows-1252, Latin-1."""
    return charsets.detect(head)


def sample_lines(head: bytes, encoding: str) -> list[str]:
    """The non-blank lines of a file's first bytes (the last one dropped when it may be cut)."""
    text = codecs.getincrementaldecoder(charsets.normal(encoding))(errors="replace").decode(head, final=False)
    lines = [ln for ln in text.lstrip("\ufeff").splitlines()[:200] if ln.strip()]
    if len(head) == SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut in half
    return lines


def home_sniff(lines: list[str], *, suffix: str) -> CsvOptions:
    """Our own guess of delimiter, quote, decimal and header from sample lines (DuckDB's sniffer comes first)."""
    text = "\n".join(lines)
    quotechar = "'" if text.count("'") > 2 * text.count('"') and text.count("'") > len(lines) else '"'
    if quotechar == "'" and len(re.findall(r"\w'\w", text)) * 2 >= text.count("'"):
        quotechar = '"'  # apostrophes inside words (it's, O'Brien) are not quotes
    delimiter = _best_delimiter(lines, quotechar, suffix=suffix)
    rows = list(csv.reader(lines[:50], delimiter=delimiter, quotechar=quotechar))
    return CsvOptions(delimiter=delimiter, header=_has_header(rows), quotechar=quotechar,
                      decimal=decimal_of(rows[1:], delimiter))


def decimal_of(rows: list[list[str]], delimiter: str) -> str:
    """',' when the values use a decimal comma (only possible when the delimiter is not a comma)."""
    return "," if delimiter != "," and _uses_decimal_comma(rows) else "."


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


def numeric_header(rows: list[list[str]]) -> bool:
    """A first row of names that are numbers (years, codes) above data that differs from them in kind.

    DuckDB takes such a row for data when its values fit the column types (a year over integers), so the
    columns would silently become column0, column1...: distinct year-like integers in order, or integers
    over columns of decimals or text, are names.
    """
    if len(rows) < 2 or len(rows[0]) < 2:
        return False
    first = [c.strip() for c in rows[0]]
    if any(not c for c in first) or len(set(first)) != len(first):
        return False
    numeric = [c for c in first if _NUMBER_RE.match(c)]
    if not numeric:
        return False
    years = [int(c) for c in numeric if c.isdigit() and 1000 <= int(c) <= 2999]
    if len(years) == len(numeric) and len(years) >= 2 and (years == sorted(years) or years == sorted(years)[::-1]):
        later_years = all(c.strip().isdigit() and 1000 <= int(c.strip()) <= 2999 for r in rows[1:] for c in r if c.strip())
        return not later_years
    later = [r for r in rows[1:] if len(r) == len(first)]
    kinds_differ = 0
    for i, cell in enumerate(first):
        column = [r[i].strip() for r in later if r[i].strip()]
        if cell.isdigit() and column and all(not v.isdigit() for v in column):
            kinds_differ += 1
    return kinds_differ >= max(1, len(numeric) // 2)


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
