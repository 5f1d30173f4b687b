"""The dialect of delimited text: DuckDB's `sniff_csv` first, our own checks where it is known to go wrong.

DuckDB's sniffer reads more real files than ours did (it finds preamble lines to skip, comment lines,
backslash escapes and files without quoting), so it decides first. Ours then corrects what it gets
wrong on real files: a footer line that makes it pick a delimiter giving one column, a header of
numbers or years taken for data, apostrophes taken for quotes, and the decimal comma it never looks for.
Only a sample is read: DuckDB's 20,480-row sample, and our first 64 KB.
"""

from __future__ import annotations

import codecs
import csv
import logging
import uuid
from pathlib import Path

import duckdb

from core import duck, storage
from core.readers import charsets
from core.readers.sniff import SAMPLE_BYTES, CsvOptions, decimal_of, home_sniff, numeric_header, read_head, sample_lines

log = logging.getLogger(__name__)
EMPTY = "(empty)"


def sniff_csv(path: Path, utf8_path: Path | None = None) -> CsvOptions:
    """Guess encoding, delimiter, quote, escape, comment, rows to skip, header and decimal separator.

    `utf8_path` is a UTF-8 copy of the file's beginning when it is in another encoding (DuckDB reads UTF-8 only).
    """
    head = read_head(path, SAMPLE_BYTES)
    encoding = charsets.detect(head)
    lines = sample_lines(head, encoding)
    ours = home_sniff(lines, suffix=path.suffix.lower())
    wide = bool(lines) and max(lines[0].count(d) for d in (",", ";", "\t", "|")) > WIDE_FIELDS
    found = None if wide else _sniff_head(utf8_path or path)  # DuckDB's sniffer takes seconds on wide files
    if found is None:
        return ours.model_copy(update={"encoding": encoding})
    opts = found.model_copy(update={"encoding": encoding})
    physical = codecs.getincrementaldecoder(charsets.normal(encoding))(errors="replace").decode(
        head[: 256 * 1024]).lstrip("\ufeff").splitlines()[:1000]
    return correct(opts, ours, lines, [*physical, ""])


def _sniff_head(path: Path) -> CsvOptions | None:
    """DuckDB's sniffer over the file's first MB (sniffing a large file whole took seconds)."""
    size = path.stat().st_size
    if size <= SNIFF_BYTES:
        return duckdb_sniff(path)
    head = read_head(path, SNIFF_BYTES)
    head = head[: head.rfind(b"\n") + 1] or head
    sample = storage.area("tmp") / f"sniff-{uuid.uuid4().hex}.csv"
    try:
        sample.write_bytes(head)
        return duckdb_sniff(sample)
    finally:
        sample.unlink(missing_ok=True)


SNIFF_BYTES = 1 << 20
WIDE_FIELDS = 1000


def duckdb_sniff(path: Path) -> CsvOptions | None:
    """DuckDB's dialect of the file, or None when its sniffer gives up."""
    try:
        with duck.cursor() as con:
            row = con.execute("SELECT Delimiter, Quote, Escape, Comment, SkipRows, HasHeader FROM sniff_csv(?, "
                              "compression='none', max_line_size=?)", [str(path), MAX_LINE_BYTES]).fetchone()
    except duckdb.Error as exc:
        log.info("DuckDB could not sniff %s: %s", path.name, str(exc).splitlines()[0][:200])
        return None
    if row is None:
        return None
    delimiter, quote, escape, comment, skip, header = row
    quote = "" if quote == EMPTY else quote
    escape = "" if escape in (EMPTY, quote) else escape
    return CsvOptions(delimiter=delimiter if len(delimiter) == 1 else ",", quotechar=quote, escape=escape,
                      comment="" if comment == EMPTY else comment, skip_rows=int(skip), header=bool(header))


MAX_LINE_BYTES = 8 * 1024 * 1024  # DuckDB's default is 2 MB; longer lines are refused with their line number


def correct(opts: CsvOptions, ours: CsvOptions, lines: list[str], physical: list[str]) -> CsvOptions:
    """DuckDB's dialect with our corrections for what it gets wrong on real files (`physical`: the first lines
    as they are, blank ones included)."""
    leading = _comment_preamble(physical)
    if leading > opts.skip_rows and not opts.comment:
        # '#' lines above the table: a preamble of comments, which DuckDB took for the header (one column)
        kept = [ln for ln in physical[leading:] if ln.strip()]
        mine = home_sniff(kept, suffix="")
        last = max(i for i in range(leading) if physical[i].strip())
        candidate = physical[last].lstrip()[1:]
        # the last comment line is the header when '#' is glued to its first name and it has the table's fields
        # ('#id,name' above '1,ann', as GeoNames or VCF files write it); '# a note, with a comma' is a comment
        named = bool(candidate) and not candidate[0].isspace() and _fields(candidate, mine) >= 2 and (
            _fields(candidate, mine) == _fields(kept[0], mine))
        opts = opts.model_copy(update={"skip_rows": last if named else leading, "header": named or mine.header,
                                       "delimiter": mine.delimiter, "quotechar": mine.quotechar, "escape": ""})
        ours = mine
    elif opts.skip_rows and not _is_preamble(physical[: opts.skip_rows], opts.delimiter):
        # DuckDB skips lines to make the rest fit; lines of several fields not set apart are the table's own
        opts = opts.model_copy(update={"skip_rows": 0, "header": ours.header, "delimiter": ours.delimiter,
                                       "quotechar": ours.quotechar, "escape": ""})
    data = _data_lines(lines, opts)
    if _width(data, opts.delimiter, opts.quotechar) < 2 <= _width(data, ours.delimiter, ours.quotechar):
        # a footer, a title or a ragged line made it pick one column: its quote was chosen for that delimiter too
        opts = opts.model_copy(update={"delimiter": ours.delimiter, "quotechar": ours.quotechar, "escape": ""})
    text = "\n".join(data)
    if not opts.quotechar and '"' not in text and "'" not in text:
        opts = opts.model_copy(update={"quotechar": '"'})  # no quotes in the sample: standard quoting for the rest
    if opts.quotechar == "'" and ours.quotechar == '"':
        opts = opts.model_copy(update={"quotechar": '"' if '"' in text else ""})  # apostrophes in words
    rows = _rows(data, opts)
    if not opts.header and numeric_header(rows):
        opts = opts.model_copy(update={"header": True})
    return opts.model_copy(update={"decimal": decimal_of(rows[1:], opts.delimiter)})


COMMENT_MARKS = ("#",)


def _comment_preamble(physical: list[str]) -> int:
    """The number of first lines that are comments ('#') or blank, when a line of the table follows them."""
    count = 0
    for line in physical:
        if line.strip() and not line.lstrip().startswith(COMMENT_MARKS):
            break
        count += 1
    else:
        return 0  # comments only: nothing to read after them
    return count if any(ln.strip() for ln in physical[:count]) else 0


def _is_preamble(skipped: list[str], delimiter: str) -> bool:
    """Title or note lines (one field each), or any lines set apart from the table by a blank line."""
    if any(not ln.strip() for ln in skipped[1:]):
        return True
    if all(not ln.strip() or ln.lstrip().startswith(COMMENT_MARKS) for ln in skipped):
        return True
    return all(ln.count(delimiter) == 0 for ln in skipped)


def _data_lines(lines: list[str], opts: CsvOptions) -> list[str]:
    """The sample lines after the skipped preamble and without comment lines."""
    kept = lines[opts.skip_rows:] if opts.skip_rows < len(lines) else lines
    return [ln for ln in kept if not (opts.comment and ln.lstrip().startswith(opts.comment))]


def _rows(lines: list[str], opts: CsvOptions) -> list[list[str]]:
    try:
        return list(reader(lines[:50], opts))
    except csv.Error:
        return []


def reader(lines: object, opts: CsvOptions) -> csv.Reader:  # type: ignore[name-defined]
    """Python's csv reader in the same dialect (for the header line and the sample)."""
    if not opts.quotechar:
        return csv.reader(lines, delimiter=opts.delimiter, quoting=csv.QUOTE_NONE, escapechar=opts.escape or None)
    return csv.reader(lines, delimiter=opts.delimiter, quotechar=opts.quotechar, escapechar=opts.escape or None,
                      doublequote=not opts.escape)


def _fields(line: str, opts: CsvOptions) -> int:
    try:
        return len(next(reader([line], opts), []))
    except csv.Error:
        return 0


def _width(lines: list[str], delimiter: str, quotechar: str) -> int:
    """The most common number of fields per line."""
    try:
        counts = [len(r) for r in reader(lines[:100], CsvOptions(delimiter=delimiter, quotechar=quotechar))]
    except csv.Error:
        return 0
    return max(set(counts), key=counts.count) if counts else 0
