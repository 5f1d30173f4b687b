"""JSON: an array of records, an object of equal-length arrays, an object wrapping one array, or JSON Lines.

Nesting deeper than IMPORT_MAX_JSON_DEPTH and records whose keys would spread into more cells than
the cell budget are refused with a message (deep nesting used to end in a RecursionError, and one
new key per record made a square of mostly empty cells).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.json as pajson

from core.config import get_settings
from core.errors import IngestError, TooLarge
from core.readers.sniff import SAMPLE_BYTES, detect_encoding, read_head
from core.readers.tables import MAX_COLUMNS, check_cells, flatten, frame_to_table

log = logging.getLogger(__name__)

SPARSE_FACTOR = 4  # a table with 4 x more cells than values is mostly empty
_HINT = "Use an array of records [{...}, ...], an object of equal-length arrays, or JSON Lines."


def read_json(path: Path, filename: str, notes: list[str], **options: Any) -> pa.Table:
    """Read a JSON or JSON Lines file into a Table with nested objects flattened."""
    head = read_head(path, SAMPLE_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{") and _looks_like_lines(head):
        records = _lines(path, filename)
        _check_spread(records, filename)
        try:
            table = pajson.read_json(path)
            table.schema.names  # noqa: B018 - names with invalid UTF-8 raise here, not later
            return flatten(table, notes)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            log.info("pyarrow could not read %s as JSON Lines (%s); using the parsed records", filename, exc)
            return _table(records, filename, notes)
    try:
        data = _loads(path.read_text(encoding=detect_encoding(head.encode()).replace("-sig", "") or "utf-8",
                                     errors="replace"), filename)
    except json.JSONDecodeError as exc:
        return _json_lines_fallback(path, filename, notes, exc)
    return _table(_records(data, filename, notes), filename, notes)


def _loads(text: str, filename: str) -> Any:
    """json.loads, then the nesting limit (the parser recurses, so far too deep is a RecursionError).

    An integer of more digits than Python converts (4,300, a guard against quadratic parsing) is refused
    with a clear message; syntax errors stay JSONDecodeError for the JSON Lines fallback.
    """
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise _too_deep(filename) from exc
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise IngestError(f"{filename} has a number with more digits than can be read ({exc}).",
                          hint="Store such values as strings (in quotes), or round them.") from exc
    if _deeper_than(data, max_depth()):
        raise _too_deep(filename)
    return data


def _too_deep(filename: str) -> IngestError:
    return IngestError(f"{filename} nests objects or arrays more than {max_depth()} levels deep.",
                       hint="Flatten the JSON first, or raise IMPORT_MAX_JSON_DEPTH.")


def max_depth() -> int:
    """IMPORT_MAX_JSON_DEPTH, kept well under Python's recursion limit."""
    return max(1, min(int(get_settings().import_max_json_depth), 500))


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether objects/arrays nest more than `limit` levels (an iterative walk, no recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        obj, depth = stack.pop()
        if isinstance(obj, dict | list):
            if depth > limit:
                return True
            children = obj.values() if isinstance(obj, dict) else obj
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _looks_like_lines(head: str) -> bool:
    lines = [ln for ln in head.splitlines() if ln.strip()]
    return len(lines) > 1 and lines[0].rstrip().endswith("}") and lines[1].lstrip().startswith("{")


def _lines(path: Path, filename: str) -> list[dict[str, Any]]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        try:
            records = [_loads(line, filename) for line in fh if line.strip()]
        except json.JSONDecodeError as err:
            raise IngestError(f"{filename} is not valid JSON: {err}", hint="Check the file in a JSON validator.") from err
    if not all(isinstance(r, dict) for r in records):
        raise IngestError(f"{filename} has JSON lines that are not objects.", hint="Each line must be one {...} record.")
    return records


def _json_lines_fallback(path: Path, filename: str, notes: list[str], exc: Exception) -> pa.Table:
    try:
        records = _lines(path, filename)
    except IngestError as err:
        raise err from exc
    return _table(records, filename, notes)


def _table(records: list[dict[str, Any]], filename: str, notes: list[str]) -> pa.Table:
    """Records as a flattened Table, after checking how many cells their keys would spread over."""
    _check_spread(records, filename)
    return flatten(frame_to_table(pd.json_normalize(records, sep=".")), notes)


def _check_spread(records: list[dict[str, Any]], filename: str) -> None:
    """Refuse records whose keys spread into a table over the cell budget that is mostly empty.

    A dense table costs memory in proportion to the file (already capped); a sparse one, where each
    record brings new keys, grows with rows x keys, so only that is held to IMPORT_MAX_CELLS.
    """
    width, values = _width(records, filename)
    if len(records) * width > SPARSE_FACTOR * values:
        check_cells(len(records), width, filename, what="would make")


def _width(records: list[dict[str, Any]], filename: str) -> tuple[int, int]:
    """How many 'parent.child' columns the records flatten into (stops past MAX_COLUMNS), and how many values."""
    keys: set[str] = set()
    values = 0
    for record in records:
        stack: list[tuple[str, Any]] = [("", record)]
        while stack:
            prefix, obj = stack.pop()
            for key, value in obj.items():
                name = f"{prefix}{key}"
                if isinstance(value, dict) and value:
                    stack.append((f"{name}.", value))
                else:
                    keys.add(name)
                    values += 1
            if len(keys) > MAX_COLUMNS:
                raise TooLarge(f"{filename} has records with more than {MAX_COLUMNS:,} different fields.",
                               hint="Give the records the same fields, or import fewer of them.")
    return len(keys), values


def _records(data: Any, filename: str, notes: list[str]) -> list[dict[str, Any]]:
    """Array of records, object of equal-length arrays, or an object wrapping one array of records."""
    if isinstance(data, list):
        if data and all(isinstance(r, dict) for r in data):
            return data
        raise IngestError(f"{filename} is a JSON array of plain values, not of records, so it is not a table.",
                          hint=_HINT)
    if isinstance(data, dict) and data:
        values = list(data.values())
        if all(isinstance(v, list) for v in values) and len({len(v) for v in values}) == 1 and values[0]:
            return pd.DataFrame(data).to_dict("records")
        lists = [k for k, v in data.items() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
        if len(lists) == 1:
            notes.append(f"Read the records under the key {lists[0]!r}.")
            return data[lists[0]]
    raise IngestError(f"{filename} holds JSON that is not tabular (a single value or object).", hint=_HINT)
