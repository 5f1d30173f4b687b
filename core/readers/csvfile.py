"""Delimited text (CSV, TSV, TXT): read by DuckDB in the sniffed or the analyst's dialect, never losing a row silently.

DuckDB reads the file (in parallel, typed from a sample), either into a Table or streamed straight into
Parquet (`csv_to_parquet`, bounded memory whatever the file's size). Rows it cannot read are kept
aside with their line numbers (`store_rejects`), so that errors and notes cite lines, never row text:
ragged rows stop the import unless the analyst skips them, lines at the end that do not fit the table
are left out as a footer with a note. When quoting changes the row count (a stray quote merging lines),
the file is compared with a quote-free reading: a rectangular quote-free reading is used instead, else
a note says which line to look at. A file that is not UTF-8 is transcoded once into a UTF-8 copy.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core import duck, storage
from core.errors import IngestError, InvalidInput
from core.readers import charsets
from core.readers.dialect import MAX_LINE_BYTES, reader, sniff_csv
from core.readers.sniff import SAMPLE_BYTES, CsvOptions, read_head
from core.readers.tables import MAX_COLUMNS, unique_names

log = logging.getLogger(__name__)
FIRST_LINE_BYTES = 16 * 1024 * 1024  # enough for MAX_COLUMNS long names; a longer first line is cut here
FOOTER_LINES = 3  # at most this many unfitting lines at the very end are a footer, not ragged rows
NONE = "none"  # the analyst's value for "no quote / escape / comment character"
PARQUET_COMPRESSION = "snappy"
_BLOCK = 1 << 20  # bytes read at a time when counting lines (small: a worker may run under a memory cap)
_DIALECT_KEYS = {"delimiter", "header", "quotechar", "decimal", "escape", "comment", "skip_rows"}
_COUNT_RE = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")


def csv_options(path: Path, options: dict[str, Any], utf8_path: Path | None = None) -> CsvOptions:
    """The analyst's options over the sniffed ones (an empty value keeps the sniffed one, 'none' turns it off)."""
    known = {k: v for k, v in options.items() if k in CsvOptions.model_fields and v is not None and v != ""}
    for key in ("quotechar", "escape", "comment"):
        if str(known.get(key, "")).lower() == NONE:
            known[key] = ""
    if _DIALECT_KEYS <= known.keys():
        return CsvOptions(**known)
    sniffed = sniff_csv(path, utf8_path)
    if known.get("delimiter") == sniffed.decimal and "decimal" not in known:
        known["decimal"] = "."  # the decimal comma was sniffed for another delimiter
    return sniffed.model_copy(update=known)


@dataclass
class _Plan:
    """One reading of a file: the UTF-8 file DuckDB reads, the dialect, the final column names, notes."""

    source: Path
    opts: CsvOptions
    filename: str
    notes: list[str]
    temporary: list[Path]
    names: list[str] = field(default_factory=list)
    sample_size: int = 20_480
    varchar: set[str] = field(default_factory=set)
    null_padding: bool = False  # rows with fewer fields than the header get empty values (noted)
    strict: bool = True  # off only when DuckDB's strict sniffer gives up on a valid file (quoted line breaks)
    attempt: list[str] = field(default_factory=list)  # notes of the current reading, kept only if it stands
    newlines: _LineCount | None = None  # the line breaks of `source`, counted beside DuckDB's reading
    columns: list[tuple[str, str]] = field(default_factory=list)  # DuckDB's columns and types, when fixed
    seen: list[tuple[str, str]] = field(default_factory=list)  # the columns of the last sniffed reading
    lenient: bool = False  # DuckDB's lenient reading, when its strict one rejects lines that are valid CSV
    parallel: bool = True  # off only when DuckDB's parallel reader cannot pad rows beside quoted line breaks
    extra: int = 0  # columns added after the header's for rows with more fields than it (noted)


def read_csv(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    """Read delimited text into a Table; options as in `CsvOptions`."""
    with _plan(path, filename, notes, options) as plan:
        table = _read(plan, lambda con, sql, params: con.sql(sql, params=params).to_arrow_table())
    return _null_columns(table)


def csv_to_parquet(path: Path, target: Path, filename: str, notes: list[str], **options: Any) -> None:
    """Stream delimited text into a Parquet file at `target` without holding it in memory; options as `read_csv`."""
    def copy(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pq.FileMetaData:
        # dictionary encoding made DuckDB's writer twice as slow as reading the CSV (bench/bench_csv_ingest.py)
        con.execute(f"COPY ({sql}) TO {_literal(target)} (FORMAT parquet, COMPRESSION {PARQUET_COMPRESSION}, "
                    "DICTIONARY_COMPRESSION_RATIO_THRESHOLD -1)", params)
        return pq.read_metadata(target)

    with _plan(path, filename, notes, options) as plan:
        meta = _read(plan, copy)
    empty = _empty_columns(meta)
    if empty:
        notes.append(f"Column(s) empty in every row: {', '.join(empty[:10])}{'...' if len(empty) > 10 else ''}.")


@contextlib.contextmanager
def _plan(path: Path, filename: str, notes: list[str], options: dict[str, Any]) -> Iterator[_Plan]:
    """Detect or take the encoding and dialect; yield a plan over a UTF-8 file (a temporary copy when needed)."""
    given = options.get("encoding") or None
    if given:
        _check_encoding(given)
    encoding = charsets.normal(given) if given else charsets.detect(read_head(path, SAMPLE_BYTES))
    temporary: list[Path] = []
    try:
        source = _utf8_source(path, encoding, filename, notes, temporary)
        opts = csv_options(path, {**options, "encoding": encoding}, source)
        _check_options(opts)
        yield _Plan(source=source, opts=opts, filename=filename, notes=notes, temporary=temporary)
    finally:
        for tmp in temporary:
            tmp.unlink(missing_ok=True)


def _utf8_source(path: Path, encoding: str, filename: str, notes: list[str], temporary: list[Path]) -> Path:
    """The file itself when UTF-8 (under a name DuckDB takes literally), else a UTF-8 copy in DATA_DIR/tmp."""
    if charsets.is_utf8(encoding):
        if not re.search(r"[*?\[\]{}]", str(path)) and not str(path).startswith(("http:", "https:", "s3:")):
            return path
        target = storage.area("tmp") / f"csv-{uuid.uuid4().hex}.csv"
        os.symlink(path.resolve(), target)  # DuckDB would expand * ? [ ] { } in a path as a glob
        temporary.append(target)
        return target
    target = storage.area("tmp") / f"csv-{uuid.uuid4().hex}.csv"
    temporary.append(target)
    replaced = charsets.transcode(path, target, encoding)
    if not encoding.startswith("utf-16"):
        notes.append(f"{filename} is not UTF-8; it was read as {charsets.label(encoding)}.")
    if replaced:
        notes.append(f"{replaced:,} byte(s) are not valid {charsets.label(encoding)} and were replaced by '\ufffd'.")
    return target


def _read(plan: _Plan, sink: Any) -> Any:
    """Run the reading into `sink`, check what DuckDB rejected, and fix or explain a row count that quoting changed."""
    _check_width(plan)
    for _attempt in range(6):
        plan.attempt = []
        with _connection() as (con, rejects_table):
            sql, params = _query(con, plan, rejects_table)
            if plan.opts.quotechar and (plan.newlines is None or plan.newlines.path != plan.source):
                plan.newlines = _LineCount(plan.source)
            try:
                out = sink(con, sql, params)
            except duckdb.Error as exc:
                if plan.parallel and "parallel=false" in str(exc):  # padded rows beside quoted line breaks
                    plan.parallel = False
                    continue
                raise _unreadable(plan, exc) from exc
            rejects = con.execute("SELECT line, error_type, error_message, column_name, line_byte_position "
                                  f"FROM {rejects_table} ORDER BY line LIMIT 100000").fetchall()
        rejects = _physical_lines(plan.source, rejects)
        if _retry_for(plan, rejects):
            continue
        if rejects and not plan.strict and not plan.extra and _false_alarms(plan, rejects):
            plan.lenient, plan.columns, plan.names = True, [], []  # read as before, DuckDB's lenient way
            continue
        bad = _bad_lines(rejects)
        if bad and _explain_bad(plan, bad, out.num_rows):
            continue
        rows = out.num_rows
        if plan.opts.quotechar and _lines_missing(plan, rows, len(bad)) and _quote_free_better(plan, rows):
            continue
        if rows == 0 and not plan.strict and plan.columns and not plan.lenient and not plan.extra:
            plan.lenient, plan.columns, plan.names = True, [], []  # the strict reading found nothing: read as before
            continue
        if rows == 0:
            raise IngestError(f"{plan.filename} has a header but no data rows." if plan.opts.header else
                              f"{plan.filename} has no data rows.", hint="Choose a file with at least one row of data.")
        plan.notes.extend(plan.attempt + _dialect_notes(plan.opts))
        return out
    raise IngestError(f"{plan.filename} could not be read as delimited text.",
                      hint="Check the delimiter, quote character and encoding in the import options.")


def _dialect_notes(opts: CsvOptions) -> list[str]:
    """What the reading left out by design, so that no line goes unmentioned."""
    notes = []
    if opts.skip_rows:
        notes.append(f"The first {opts.skip_rows} line(s) were skipped as a preamble before the header "
                     "(change 'Skip rows' if they hold data).")
    if opts.comment:
        notes.append(f"Lines starting with {opts.comment!r} were left out as comments.")
    return notes


@contextlib.contextmanager
def _connection() -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A cursor on the process's shared DuckDB database and a rejects table of its own (dropped after).

    One database per process, not one per reading: each opens threads, and a worker reading many files
    under a memory cap ran out of address space for them.
    """
    name = f"csv_rejects_{uuid.uuid4().hex}"
    con = duck.cursor(timeout_s=IMPORT_TIMEOUT_S)
    try:
        yield con, name
    finally:
        try:
            con.execute(f"DROP TABLE IF EXISTS {name}; DROP TABLE IF EXISTS {name}_scan")
        finally:
            con.close()


IMPORT_TIMEOUT_S = 6 * 3600.0  # an import is bounded by MAX_UPLOAD_MB, not by the SQL timeout


def _query(con: duckdb.DuckDBPyConnection, plan: _Plan, rejects: str) -> tuple[str, list[Any]]:
    """The SELECT that reads the file, with its parameters, columns renamed to the final names."""
    o = plan.opts
    fixed = bool(plan.columns)  # the columns are known: DuckDB reads them strictly, sniffing nothing
    skip, header = (_header_line(plan), False) if plan.extra else (o.skip_rows, o.header)
    args = ["delim=?", "quote=?", "escape=?", "comment=?", "skip=?", "header=?", "decimal_separator=?",
            "compression='none'", "max_line_size=?", "store_rejects=true", f"rejects_table='{rejects}'",
            f"rejects_scan='{rejects}_scan'", f"strict_mode={'true' if plan.strict or fixed else 'false'}",
            "null_padding=?", "sample_size=?", f"auto_detect={'false' if fixed else 'true'}",
            f"parallel={'true' if plan.parallel else 'false'}"]
    params: list[Any] = [str(plan.source), o.delimiter, o.quotechar, (o.escape or o.quotechar) if o.quotechar else "",
                         o.comment, skip, header, o.decimal, MAX_LINE_BYTES, plan.null_padding or bool(plan.extra),
                         plan.sample_size]
    if fixed:
        args.append("columns=?")
        params.append({name: "VARCHAR" if name in plan.varchar else kind for name, kind in _widened(plan)})
    elif plan.varchar:
        args.append("types=?")
        params.append({name: "VARCHAR" for name in plan.varchar})
    source = f"read_csv(?, {', '.join(args)})"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}", params).fetchall()
    except duckdb.Error as exc:
        if plan.strict and "sniffing" in str(exc):  # e.g. a tiny file whose quoted cells hold line breaks
            plan.strict = False
            return _query(con, plan, rejects)
        raise _unreadable(plan, exc) from exc
    if not plan.strict and not fixed and not plan.lenient:
        # the lenient sniffer found the types; the reading itself stays strict, so that a line with too many
        # fields or a stray quote is rejected with its number rather than cut short without a word
        plan.columns = [(row[0], row[1]) for row in described]
        return _query(con, plan, rejects)
    if not fixed:
        plan.seen = [(row[0], row[1]) for row in described]
    worded = _worded_booleans(con, source, params, [row[0] for row in described if row[1] == "BOOLEAN"])
    if worded:  # yes/no, y/n, t/f stay the text the file holds; only true/false become booleans
        plan.varchar |= worded
        return _query(con, plan, rejects)
    columns = [row[0] for row in described]
    if not plan.names or len(plan.names) != len(columns):
        names = _names(plan, columns[: len(columns) - plan.extra])
        plan.names = unique_names([*names, *(f"column_{i + 1}" for i in range(len(names), len(columns)))], [])
    select = ", ".join(f"{duck.quote(c)} AS {duck.quote(n)}" for c, n in zip(columns, plan.names, strict=True))
    return f"SELECT {select} FROM {source}", params


def _widened(plan: _Plan) -> list[tuple[str, str]]:
    """The fixed columns, with text columns added for the values of rows longer than the header."""
    taken = {name for name, _kind in plan.columns}
    extra = [f"extra_{i}" for i in range(1, plan.extra + len(taken) + 1) if f"extra_{i}" not in taken][: plan.extra]
    return [*plan.columns, *((name, "VARCHAR") for name in extra)]


def _header_line(plan: _Plan) -> int:
    """The physical number of the header line (0 without a header): the lines to skip to reach the first row."""
    if not plan.opts.header:
        return plan.opts.skip_rows
    with plan.source.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        for number, line in enumerate(fh):
            if number < plan.opts.skip_rows:
                continue
            if not line.strip() or (plan.opts.comment and line.lstrip().startswith(plan.opts.comment)):
                continue
            return number + 1
    return plan.opts.skip_rows + 1


BOOLEAN_WORDS = ("true", "false")
BOOLEAN_SAMPLE_ROWS = 100_000


def _worded_booleans(con: duckdb.DuckDBPyConnection, source: str, params: list[Any], columns: list[str]) -> set[str]:
    """Columns DuckDB typed BOOLEAN whose text is not true/false (DuckDB also reads yes/no, y/n, t/f and 1/0
    as booleans, which would show an analyst's "yes" as True), judged on the first rows."""
    if not columns:
        return set()
    as_text = source.replace("auto_detect=true", "auto_detect=true, all_varchar=true")
    checks = ", ".join(f"bool_and(lower(trim({duck.quote(c)})) IN ('true', 'false') OR {duck.quote(c)} IS NULL "
                       f"OR trim({duck.quote(c)}) = '')" for c in columns)
    try:
        rows = con.execute(f"SELECT {checks} FROM (SELECT * FROM {as_text} LIMIT {BOOLEAN_SAMPLE_ROWS})",
                           params).fetchall()
    except duckdb.Error:
        return set()  # the full read reports what is wrong with the file
    return {c for c, plain in zip(columns, rows[0] if rows else (), strict=False) if plain is False}


def _names(plan: _Plan, columns: list[str]) -> list[str]:
    """The header's names as written (made unique, each repair noted), or column_1... with a note when no header."""
    if not plan.opts.header:
        plan.attempt.append(f"No header row was found: the {len(columns)} columns are named column_1, column_2... "
                          "Choose 'Header row: yes' if the first line holds the names.")
        return [f"column_{i + 1}" for i in range(len(columns))]
    raw = _header_fields(plan)
    if raw is None or len(raw) != len(columns):
        raw = columns
    return unique_names(raw, plan.attempt)


def _header_fields(plan: _Plan) -> list[str] | None:
    """The header line's fields, parsed in the file's dialect (after skipped and comment lines)."""
    with plan.source.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        for number, line in enumerate(fh):
            if number < plan.opts.skip_rows:
                continue  # DuckDB's skip counts every physical line, blank ones too
            if not line.strip() or (plan.opts.comment and line.lstrip().startswith(plan.opts.comment)):
                continue
            try:
                return next(reader(io.StringIO(line), plan.opts), None)
            except Exception:  # csv.Error and friends: DuckDB's names are used instead
                return None
    return None


def _retry_for(plan: _Plan, rejects: list[tuple]) -> bool:
    """Change the plan for another reading when DuckDB rejected lines for a cause we can fix; raise when not."""
    if not rejects:
        return False
    kinds = {r[1] for r in rejects}
    if "LINE SIZE OVER MAXIMUM" in kinds:
        line = min(r[0] for r in rejects if r[1] == "LINE SIZE OVER MAXIMUM")
        raise IngestError(f"{plan.filename} could not be read: line {line} is longer than "
                          f"{MAX_LINE_BYTES // (1024 * 1024)} MB.", hint="Check the delimiter and the line endings.")
    encoding_errors = [r[0] for r in rejects if r[1] in ("INVALID ENCODING", "INVALID UNICODE")]
    if encoding_errors:
        _reencode(plan, min(encoding_errors))
        return True
    if "CAST" in kinds:
        if plan.sample_size != -1:
            plan.sample_size = -1  # types were guessed from a sample that did not show these values
        else:
            plan.varchar |= {r[3] for r in rejects if r[1] == "CAST" and r[3]}
        return True
    return False


def _reencode(plan: _Plan, line: int) -> None:
    """A file that is not valid UTF-8 after its sample: transcode it (legacy code page, or UTF-8 with '\ufffd')."""
    offset = charsets.first_invalid_utf8(plan.source)
    with plan.source.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
        fh.seek(max(0, (offset or 0) - 1024))
        window = fh.read(64 * 1024)
    encoding = "utf-8" if any(b >= 0x80 for b in head[: offset or len(head)]) else charsets.legacy(window)
    target = storage.area("tmp") / f"csv-{uuid.uuid4().hex}.csv"
    replaced = charsets.transcode(plan.source, target, encoding)
    plan.source = target
    plan.temporary.append(target)
    if encoding == "utf-8":
        plan.notes.append(f"{plan.filename} is not valid UTF-8 from line {line}: {replaced:,} byte(s) were replaced "
                          "by '\ufffd'.")
    else:
        plan.notes.append(f"{plan.filename} is not valid UTF-8 (line {line}); it was read as "
                          f"{charsets.label(encoding)}.")
    plan.opts = plan.opts.model_copy(update={"encoding": encoding})


def _physical_lines(path: Path, rejects: list[tuple]) -> list[tuple]:
    """DuckDB's rejects with the physical line of each (DuckDB counts rows, which differ after quoted line breaks)."""
    positions = sorted({int(r[4]) for r in rejects[:1000] if r[4] is not None})
    if not positions:
        return [r[:4] for r in rejects]
    lines: dict[int, int] = {}
    newlines, offset, i = 0, 0, 0
    with path.open("rb") as fh:
        while i < len(positions) and (block := fh.read(_BLOCK)):
            while i < len(positions) and positions[i] < offset + len(block):
                lines[positions[i]] = newlines + block.count(b"\n", 0, positions[i] - offset) + 1
                i += 1
            newlines += block.count(b"\n")
            offset += len(block)
    return [(lines.get(int(r[4]) if r[4] is not None else -1, r[0]), *r[1:4]) for r in rejects]


def _false_alarms(plan: _Plan, rejects: list[tuple]) -> bool:
    """Whether every line DuckDB's strict reading rejected as an unquoted value is valid CSV with the table's fields
    (Python's strict csv reader takes it, blanks after a closing quote allowed: DuckDB's strict mode refuses
    '"{""a"":1}"' after a value such as '"x"  ,')."""
    if any(r[1] != "UNQUOTED VALUE" for r in rejects) or len(rejects) > 1000:
        return False
    wanted = {int(r[0]) for r in rejects}
    width = len(plan.columns)
    opts = plan.opts
    quote, delimiter = re.escape(opts.quotechar or '"'), re.escape(opts.delimiter)
    blanks = re.compile(f"(?<={quote})[ \t]+(?={delimiter}|\r?\n?$)")  # blanks after a closing quote
    with plan.source.open("r", encoding="utf-8-sig", errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if number not in wanted:
                continue
            line = blanks.sub("", line)
            try:
                fields = next(csv.reader([line], delimiter=opts.delimiter, quotechar=opts.quotechar or '"',
                                         escapechar=opts.escape or None, doublequote=not opts.escape, strict=True))
            except csv.Error:
                return False
            if len(fields) != width:
                return False
            wanted.discard(number)
            if not wanted:
                return True
    return not wanted


def _bad_lines(rejects: list[tuple]) -> dict[int, tuple[int, int]]:
    """Line -> (fields expected, fields found) for lines with the wrong number of fields."""
    out: dict[int, tuple[int, int]] = {}
    for line, kind, message, _column in rejects:
        found = _COUNT_RE.search(message or "")
        if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS") or found:
            out[int(line)] = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
        else:
            out[int(line)] = (0, 0)
    return out


def _explain_bad(plan: _Plan, bad: dict[int, tuple[int, int]], rows: int) -> bool:
    """A footer is left out with a note; bad lines are skipped when asked; short rows are padded (True: read
    again with padding); a row with too many fields stops the import."""
    lines = sorted(bad)
    short = [n for n in lines if 0 < bad[n][1] < bad[n][0] or bad[n] == (0, 0)]
    last = _last_lines(plan.source, FOOTER_LINES)
    if len(short) == len(lines) <= FOOTER_LINES and lines == last[-len(lines):] and rows > len(lines):
        # the last lines, fewer fields, below a table longer than them
        where = f"line {lines[0]}" if len(lines) == 1 else f"lines {', '.join(map(str, lines))}"
        plan.attempt.append(f"{len(lines)} line(s) at the end of the file do not fit the table ({where}) and were "
                            "left out as a footer.")
        return False
    if plan.opts.skip_bad_rows:
        plan.attempt.append(f"{len(lines)} row(s) with the wrong number of fields were skipped (first: line {lines[0]}).")
        return False
    long = [n for n in lines if n not in short]
    widest = max((bad[n][1] for n in long), default=0)
    if long and all(bad[n][1] > bad[n][0] for n in long) and (plan.seen or plan.columns):
        # keep every value: the rows' extra fields go into columns added after the header's (noted with lines)
        plan.columns = plan.columns or plan.seen
        width = len(plan.columns)
        if widest > MAX_COLUMNS:
            raise IngestError(f"{plan.filename}: line {long[0]} has {widest:,} fields, over the {MAX_COLUMNS:,} "
                              "column limit.", hint="Check the delimiter and quote character.")
        if widest > width + plan.extra:
            if not plan.extra:
                first, expected = long[0], bad[long[0]][0]
                plan.notes.append(
                    f"{len(long)} row(s) have more fields than the header (line {first} has {bad[first][1]} fields "
                    f"but the header has {expected}{'; the first of them' if len(long) > 1 else ''}): their extra "
                    f"values were kept in added columns, column_{expected + 1} on. Tick 'skip bad rows' to leave "
                    "such rows out instead, or check the delimiter and quote character.")
                if short:
                    plan.notes.append(f"{len(short)} row(s) have fewer fields than the header; their missing values "
                                      f"were left empty (first: line {short[0]}).")
            plan.extra = widest - width
            plan.names = []
            return True
    if not long and not plan.null_padding:
        plan.null_padding = True
        plan.notes.append(f"{len(short)} row(s) have fewer fields than the header; their missing values were left "
                          f"empty (first: line {short[0]}). Tick 'skip bad rows' to leave them out instead.")
        return True
    first = long[0] if long else lines[0]
    expected, found = bad[first]
    detail = (f" has {found} fields but the header has {expected} (ragged rows" if expected else
              " could not be read (a quote is not closed, or text follows a closing quote")
    raise IngestError(f"{plan.filename}: line {first}{detail}; {len(lines)} such line(s)).",
                      hint="Check the delimiter, quote character and rows to skip, or tick 'skip bad rows' to leave "
                           "such rows out.")


def _last_lines(path: Path, count: int) -> list[int]:
    """The numbers of the last `count` non-blank lines of a file."""
    total, non_blank = 0, []
    with path.open("rb") as fh:
        for line in fh:
            total += 1
            if line.strip():
                non_blank.append(total)
                if len(non_blank) > count:
                    non_blank.pop(0)
    return non_blank


def _lines_missing(plan: _Plan, rows: int, bad: int) -> bool:
    """Whether the file has more lines than rows read (cheap: a count of line breaks, no parsing)."""
    newlines = plan.newlines.result() if plan.newlines is not None else _newlines(plan.source)
    return newlines > rows + bad + plan.opts.skip_rows + int(plan.opts.header) + 1


def _newlines(path: Path) -> int:
    count = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            count += block.count(b"\n")
    return count


class _LineCount:
    """The line breaks of a file, counted in a thread of their own while DuckDB reads the file: DuckDB holds no
    Python lock while it works, so the recount that catches rows lost to quoting costs little beside the import
    (alone it was a sixth of a 10-million-row import)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._count = 0
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._run, name="csv-line-count", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._count = _newlines(self.path)
        except OSError as exc:  # raised where the count is needed
            self._error = exc

    def result(self) -> int:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._count


def _quote_free_better(plan: _Plan, rows: int) -> bool:
    """Compare with a quote-free reading; switch to it when it is rectangular and has more rows, else explain."""
    free = plan.opts.model_copy(update={"quotechar": "", "escape": ""})
    with _connection() as (con, rejects):
        try:
            count = con.execute(
                "SELECT count(*) FROM read_csv(?, delim=?, quote='', escape='', comment=?, skip=?, header=?, "
                f"all_varchar=true, compression='none', max_line_size=?, store_rejects=true, rejects_table='{rejects}', "
                f"rejects_scan='{rejects}_scan', strict_mode=true, "
                "null_padding=false, auto_detect=true)",
                [str(plan.source), free.delimiter, free.comment, free.skip_rows, free.header, MAX_LINE_BYTES],
            ).fetchall()[0][0]  # fetchall: the rejects table exists once the scan has finished
            bad = con.execute(f"SELECT count(DISTINCT line) FROM {rejects}").fetchall()[0][0]
        except duckdb.Error as exc:
            log.info("quote-free reading of %s failed: %s", plan.filename, str(exc).splitlines()[0][:200])
            return False
    if count <= rows:
        return False
    line = _first_odd_quote_line(plan)
    where = f" (the first unbalanced quote is on line {line})" if line else ""
    if bad == 0:
        plan.notes.append(f"Quoting with {plan.opts.quotechar} would have merged lines into values: the file reads as "
                          f"{count:,} rows of {len(plan.names)} fields without quoting and {rows:,} rows with it"
                          f"{where}; it was read without quoting.")
        plan.opts, plan.names = free, []
        return True
    if _merged_rows_suspected(plan, count + bad, rows):
        plan.attempt.append(f"Check the quoting: {count + bad - rows:,} more line(s) than rows were read, as quoted values "
                          f"hold line breaks{where}. If rows were merged, choose quote character 'none'.")
    return False


def _merged_rows_suspected(plan: _Plan, count: int, rows: int) -> bool:
    """Quoted line breaks are normal in a few values; many more lines than rows hint at merged rows."""
    return count - rows >= max(3, rows // 100)


def _first_odd_quote_line(plan: _Plan) -> int | None:
    """The first line with an odd number of quote characters (streamed; stops at the first)."""
    quote = plan.opts.quotechar.encode()
    with plan.source.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if line.count(quote) % 2:
                return number
            if number > 10_000_000:
                return None
    return None


def _check_width(plan: _Plan) -> None:
    """Refuse a first line with more than MAX_COLUMNS fields before DuckDB builds a column per field."""
    with plan.source.open("rb") as fh:
        head = fh.readline(FIRST_LINE_BYTES)
    first = codecs.getincrementaldecoder("utf-8-sig")(errors="replace").decode(head)
    count = first.count(plan.opts.delimiter) + 1
    if count <= MAX_COLUMNS:
        return
    try:
        fields = next(reader(io.StringIO(first), plan.opts), [])
    except Exception:  # an unparsable line counts by its delimiters
        fields = [""] * count
    if len(fields) > MAX_COLUMNS:
        raise IngestError(f"{plan.filename} has more than {MAX_COLUMNS:,} columns in its first line.",
                          hint="Check the delimiter, or select fewer columns before importing.")


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InvalidInput(f"Unknown encoding {encoding!r}.",
                           hint="Use utf-8, utf-16, cp1252, latin-1, shift_jis or gb18030.") from exc


def _check_options(opts: CsvOptions) -> None:
    if len(opts.delimiter) != 1 or opts.delimiter in "\r\n":
        raise InvalidInput(f"The delimiter {opts.delimiter!r} must be one character.", hint="Use ',', ';', '|' or a tab.")
    for what, value in (("quote", opts.quotechar), ("escape", opts.escape), ("comment", opts.comment)):
        if len(value) > 1 or (value in ("\r", "\n") and value):
            raise InvalidInput(f"The {what} character {value!r} must be one character (or none).")
        if value and value == opts.delimiter:
            raise InvalidInput(f"The {what} character cannot be the delimiter {value!r}.")
    if opts.decimal not in (".", ","):
        raise InvalidInput("The decimal separator must be '.' or ','.")
    if opts.decimal == opts.delimiter:
        raise InvalidInput("The decimal separator cannot be the delimiter.", hint="Choose ';' as the delimiter.")


def _unreadable(plan: _Plan, exc: Exception) -> IngestError:
    """DuckDB's error as an analyst's message: the line it names, never the row's text."""
    text = str(exc)
    line = re.search(r"[Ll]ine[: ]+(\d+)", text)
    where = f" (line {line.group(1)})" if line else ""
    head = text.splitlines()[0].lower() if text else ""  # DuckDB's first line; the rest lists possible fixes
    if "line size" in head:
        return IngestError(f"{plan.filename} could not be read: a line{where} is longer than "
                           f"{MAX_LINE_BYTES // (1024 * 1024)} MB.", hint="Check the delimiter and the line endings.")
    if "empty" in head or "no columns" in head:
        return IngestError(f"{plan.filename} has no content.", hint="Choose a file that contains data.")
    first = text.splitlines()[0][:200] if text else type(exc).__name__
    first = re.sub(r"\"[^\"]*\"", "the file", first)  # DuckDB quotes the path; the analyst knows the file
    return IngestError(f"{plan.filename} could not be read as delimited text{where}: {first}",
                       hint="Check the delimiter, quote character and encoding in the import options.")


def _null_columns(table: pa.Table) -> pa.Table:
    """Columns with no value in any row typed as null, so `normalise` stores them as text with a note."""
    for i, column in enumerate(table.columns):
        if table.num_rows and column.null_count == table.num_rows and not pa.types.is_null(column.type):
            table = table.set_column(i, table.schema.field(i).name, pa.nulls(table.num_rows))
    return table


def _empty_columns(meta: pq.FileMetaData) -> list[str]:
    """Columns whose every value is null, from the Parquet statistics (no data read)."""
    if meta.num_rows == 0 or meta.num_row_groups == 0:
        return []
    out = []
    for j in range(meta.num_columns):
        nulls = 0
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(j).statistics
            if stats is None or not stats.has_null_count:
                nulls = -1
                break
            nulls += stats.null_count
        if nulls == meta.num_rows:
            out.append(meta.schema.column(j).name)
    return out


def _literal(path: Path) -> str:
    """A path as an SQL string literal (single quotes doubled)."""
    return "'" + str(path).replace("'", "''") + "'"


PREVIEW_BYTES = 1 << 20
PREVIEW_ROWS = 20


def preview_csv(path: Path, filename: str, notes: list[str], **options: Any) -> tuple[CsvOptions, pa.Table | None]:
    """The dialect of a file and its first rows read with it, from its first 1 MB (for the import preview).

    The notes are those the import would give on that part (encoding, header, quoting, ragged lines); an error
    that the import would raise becomes a note here, so the analyst can change an option and look again.
    """
    size = path.stat().st_size
    head = read_head(path, PREVIEW_BYTES)
    if size > len(head):
        head = head[: head.rfind(b"\n") + 1] or head
    sample = storage.area("tmp") / f"preview-{uuid.uuid4().hex}.csv"
    try:
        sample.write_bytes(head)
        found: list[str] = []
        try:
            table = read_csv(sample, filename, found, **options)
        except (IngestError, InvalidInput) as exc:
            found.append(f"{exc.message} {exc.hint or ''}".strip())
            table = None
        with _plan(sample, filename, [], options) as plan:
            opts = plan.opts
    finally:
        sample.unlink(missing_ok=True)
    notes.extend(n for n in found if not (size > len(head) and "at the end of the file" in n))
    return opts, None if table is None else table.slice(0, PREVIEW_ROWS)
