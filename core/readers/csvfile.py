"""Delimited text (CSV, TSV, TXT): read with pyarrow using the sniffed or the analyst's dialect.

Rows with the wrong number of fields stop the import with their row number, or are skipped and
counted when the analyst asks for it; a file that is not valid UTF-8 is re-read as Latin-1.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from core.errors import IngestError, InvalidInput
from core.readers.sniff import CsvOptions, sniff_csv
from core.readers.tables import MAX_COLUMNS

FIRST_LINE_BYTES = 16 * 1024 * 1024  # enough for MAX_COLUMNS long names; a longer first line is cut here
BadRow = tuple[int | None, int, int, str]  # (row number, fields found, fields expected, text)


def csv_options(path: Path, options: dict[str, Any]) -> CsvOptions:
    """The analyst's options over the sniffed ones (an empty value keeps the sniffed one)."""
    known = {k: v for k, v in options.items() if k in CsvOptions.model_fields and v is not None and v != ""}
    if {"delimiter", "encoding", "header", "decimal", "quotechar"} <= known.keys():
        return CsvOptions(**known)
    return sniff_csv(path).model_copy(update=known)


def read_csv(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    """Read delimited text into a Table; options as in `CsvOptions`."""
    opts = csv_options(path, options)
    _check_csv_options(opts)
    if opts.encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig") and not _valid_utf8(path):
        # pyarrow decodes a bad row's text as UTF-8 before the skip handler runs, so a Latin-1 byte in a
        # ragged row made 'skip bad rows' fail; such files are read as Latin-1 from the start
        notes.append(f"{filename} is not valid UTF-8; it was read as Latin-1.")
        opts = opts.model_copy(update={"encoding": "latin-1"})
    _check_width(path, opts, filename)
    bad: list[BadRow] = []

    def on_bad_row(row: Any) -> str:
        bad.append((row.number, row.actual_columns, row.expected_columns, (row.text or "")[:80]))
        return "skip" if opts.skip_bad_rows else "error"

    try:
        table = _pyarrow_csv(path, opts, on_bad_row)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        return _retry_or_explain(path, filename, notes, opts, bad, exc)
    if bad and not opts.multiline:  # the "bad" rows may be one value with a line break in it
        return read_csv(path, filename, notes, **{**opts.model_dump(), "multiline": True})
    if bad:
        notes.append(f"{len(bad)} row(s) with the wrong number of fields were skipped "
                     f"(first: row {_row_number(path, opts, bad[0])}).")
    if table.num_rows == 0:
        raise IngestError(f"{filename} has a header but no data rows.", hint="Choose a file with at least one row.")
    return table


def _retry_or_explain(path: Path, filename: str, notes: list[str], opts: CsvOptions, bad: list[BadRow],
                      exc: Exception) -> pa.Table:
    text = str(exc)
    if not opts.multiline and isinstance(exc, pa.ArrowInvalid):  # a quoted line break beyond the sample
        return read_csv(path, filename, notes, **{**opts.model_dump(), "multiline": True})
    if bad and not opts.skip_bad_rows:
        number, actual, expected, snippet = bad[0]
        number = _row_number(path, opts, bad[0])
        where = f"Row {number}" if number else f"The row {snippet!r}"
        raise IngestError(f"{filename}: {where} has {actual} fields but the header has {expected} (ragged rows).",
                          hint="Check the delimiter and quoting, or tick 'skip bad rows' to leave such rows out."
                          ) from exc
    if ("invalid UTF8" in text or isinstance(exc, UnicodeDecodeError)) and opts.encoding.startswith("utf-8"):
        notes.append(f"{filename} is not valid UTF-8; it was read as Latin-1.")
        return read_csv(path, filename, notes, **{**opts.model_dump(), "encoding": "latin-1"})
    if "Empty CSV file" in text:
        raise IngestError(f"{filename} has no content.", hint="Choose a file that contains data.") from exc
    raise IngestError(f"{filename} could not be read as delimited text: {text.splitlines()[0][:300]}",
                      hint="Check the delimiter, quote character and encoding in the import options.") from exc


def _row_number(path: Path, opts: CsvOptions, bad: BadRow) -> int | None:
    """The line of the first bad row: pyarrow's number when it has one, else found by re-reading the file."""
    number, _actual, expected, _text = bad
    if number is not None and number > 0:
        return number
    try:
        with path.open("r", encoding=_python_encoding(opts.encoding), errors="replace", newline="") as fh:
            reader = csv.reader(fh, delimiter=opts.delimiter, quotechar=opts.quotechar or '"')
            for fields in reader:
                if fields and len(fields) != expected:
                    return reader.line_num
    except (csv.Error, OSError):
        return None
    return None


def _valid_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8 (streamed in 1 MB blocks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _python_encoding(encoding: str) -> str:
    return "utf-8-sig" if encoding in ("utf-8", "utf8") else encoding


def _check_width(path: Path, opts: CsvOptions, filename: str) -> None:
    """Refuse a first line with more than MAX_COLUMNS fields before pyarrow builds a column per field."""
    with path.open("rb") as fh:
        head = fh.readline(FIRST_LINE_BYTES)
    first = codecs.getincrementaldecoder(_python_encoding(opts.encoding))(errors="replace").decode(head)
    try:
        fields = next(csv.reader(io.StringIO(first), delimiter=opts.delimiter, quotechar=opts.quotechar or '"'), [])
    except csv.Error:
        return
    if len(fields) > MAX_COLUMNS:
        raise IngestError(f"{filename} has more than {MAX_COLUMNS:,} columns in its first line.",
                          hint="Check the delimiter, or select fewer columns before importing.")


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
