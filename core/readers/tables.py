"""Tables: what every reader hands back, cleaned (unique names, text for all-empty columns) and bounded.

The limits live here too: the most columns a dataset may have, and the cell budget
(IMPORT_MAX_CELLS) that spreadsheets and sparse JSON records, whose size on disk says nothing about
their size in memory, are checked against before they are materialised (columnar files have their
own memory limit, see `columnar`).
"""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.config import get_settings
from core.errors import IngestError, TooLarge

MAX_COLUMNS = 20_000


def max_cells() -> int:
    """The cell budget (IMPORT_MAX_CELLS)."""
    return max(1, int(get_settings().import_max_cells))


def check_cells(rows: int, columns: int, filename: str, *, what: str = "holds") -> None:
    """Raise TooLarge when `rows` x `columns` is over the cell budget or `columns` over MAX_COLUMNS."""
    budget = max_cells()
    if columns > MAX_COLUMNS:
        raise IngestError(f"{filename} {what} {columns:,} columns, over the {MAX_COLUMNS:,} limit.",
                          hint="Select fewer columns before importing.")
    if rows * columns > budget:
        raise TooLarge(f"{filename} {what} {rows:,} rows x {columns:,} columns ({rows * columns:,} cells), over "
                       f"the limit of {budget:,} cells.",
                       hint="Remove empty rows and columns or split the file, or raise IMPORT_MAX_CELLS.")


def frame_to_table(frame: pd.DataFrame) -> pa.Table:
    """A DataFrame as a Table; object columns with mixed Python types become text."""
    frame = frame.copy()
    frame.columns = [str(c) if not str(c).startswith("Unnamed: ") else "" for c in frame.columns]
    arrays = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        try:
            arrays.append(pa.array(col, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            arrays.append(pa.array(col.map(lambda v: None if pd.isna(v) else str(v)), type=pa.string()))
    return pa.Table.from_arrays(arrays, names=list(frame.columns))


def flatten(table: pa.Table, notes: list[str]) -> pa.Table:
    """Nested objects become 'parent.child' columns; lists become JSON text."""
    nested = False
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table, nested = table.flatten(), True
        if table.num_columns > MAX_COLUMNS:
            raise IngestError(f"Nested objects expand to {table.num_columns:,} columns, over the "
                              f"{MAX_COLUMNS:,} limit.", hint="Flatten fewer fields before importing.")
    if nested:
        notes.append("Nested objects were flattened into 'parent.child' columns.")
    for i, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type) or pa.types.is_map(field.type):
            values = [None if v is None else json.dumps(v, default=str) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(values, type=pa.string()))
    return table


def normalise(table: pa.Table, notes: list[str], filename: str = "the file") -> pa.Table:
    """Unique, non-empty column names; all-empty (null-typed) columns stored as text; limits checked."""
    if table.num_columns == 0:
        raise IngestError(f"{filename} has no columns.", hint="Choose a file with a header and data.")
    if table.num_columns > MAX_COLUMNS:
        raise IngestError(f"{filename} has {table.num_columns:,} columns, over the {MAX_COLUMNS:,} limit.",
                          hint="Select fewer columns before importing.")
    if table.num_rows == 0:
        raise IngestError(f"{filename} has no data rows.", hint="Choose a file with at least one row of data.")
    try:
        raw = [str(n) for n in table.column_names]
    except UnicodeDecodeError as exc:
        raise IngestError(f"{filename} has column names that are not valid text.",
                          hint="Export it again with UTF-8 column names.") from exc
    names = unique_names(raw, notes)
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
