"""Frames: a dataset, or one page of it, as a pandas DataFrame; row counts.

Pages are cut by DuckDB, so only the rows asked for ever leave it. Sits above `store`, `versions`
and `views`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from core import duck
from core.datasets import pages
from core.datasets.store import dataset_path
from core.datasets.versions import version_path
from core.datasets.views import view_sql
from core.errors import InvalidInput


def load_frame(ref: uuid.UUID | str, *, columns: list[str] | None = None, limit: int | None = None) -> pd.DataFrame:
    """A dataset as a pandas DataFrame (optionally some columns, the first `limit` rows)."""
    path = dataset_path(ref)
    if columns:
        known = set(pq.read_schema(path).names)
        missing = [c for c in columns if c not in known]
        if missing:
            raise InvalidInput(f"Unknown column(s): {', '.join(missing)}.", hint=f"Columns: {', '.join(sorted(known))}")
    if limit is None:
        return pq.read_table(path, columns=columns).to_pandas()
    return preview(ref, limit=limit, columns=columns)


def preview(
    ref: uuid.UUID | str, *, offset: int = 0, limit: int = 100, sort_by: str | None = None,
    descending: bool = False, columns: list[str] | None = None, where: str | None = None, version: int | None = None,
) -> pd.DataFrame:
    """One page of a dataset (or of a version, or of the rows matching `where`), sorted server-side by DuckDB.

    Only `limit` rows ever leave DuckDB, so a 10-million-row dataset is never loaded whole.
    """
    path, names = _version_file(ref, version)
    sql = view_sql(path, names, where=where, select=columns, sort_by=sort_by, descending=descending)
    if not (where and where.strip()):  # large data: a sort index or the row groups, never a scan
        found = pages.page(path, offset=max(offset, 0), limit=int(limit), sort_by=sort_by, descending=descending,
                           columns=columns or names)
        if found is not None:
            with duck.cursor() as con:
                return con.from_arrow(found).df()  # the same pandas types as a page cut by DuckDB
    with duck.cursor() as con, duck.explained("Reading this page of the dataset"):
        return con.execute(f"{sql} LIMIT ? OFFSET ?", [int(limit), int(max(offset, 0))]).df()


def count_rows(ref: uuid.UUID | str, *, where: str | None = None, version: int | None = None) -> int:
    """How many rows a dataset (or a version, or the rows matching `where`) has."""
    path, names = _version_file(ref, version)
    if not where or not where.strip():
        return pq.read_metadata(path).num_rows
    with duck.cursor() as con, duck.explained("Counting the matching rows"):
        return con.execute(f"SELECT count(*) FROM ({view_sql(path, names, where=where)}) AS t").fetchone()[0]


def _version_file(ref: uuid.UUID | str, version: int | None) -> tuple[Path, list[str]]:
    path = dataset_path(ref) if version is None else version_path(ref, version)
    return path, pq.read_schema(path).names
