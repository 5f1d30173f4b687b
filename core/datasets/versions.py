"""Dataset versions: each cleaning step writes a new Parquet file and a DatasetVersion row.

Version 1 is the import. The Dataset row mirrors the current version (its `path` is the current
file), so every reader of `datasets.dataset_path` sees the current state. Rolling back makes an older
version current again without deleting anything; the next step then branches from it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from core import duck, storage
from core.datasets.store import get_dataset, schema_of
from core.db import session
from core.duck import quote
from core.errors import Conflict, NotFound
from core.models.dataset import Dataset, DatasetVersion


def history(ref: uuid.UUID | str) -> list[DatasetVersion]:
    """Every version of a dataset, oldest first (version 1 is the import)."""
    ds = get_dataset(ref)
    with session() as s:
        rows = list(s.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id)
                           .order_by(DatasetVersion.version)).all())
    if not rows:  # a dataset stored before versions existed
        rows = [DatasetVersion(dataset_id=ds.id, version=ds.version, step={"op": "import"}, summary="Imported",
                               path=ds.path, rows=ds.rows, columns=ds.columns, schema_=ds.schema_,
                               size_bytes=ds.size_bytes, created=ds.created)]
    return rows


def get_version(ref: uuid.UUID | str, version: int | None = None) -> DatasetVersion:
    """One version (the current one when `version` is None); raises NotFound."""
    ds = get_dataset(ref)
    wanted = ds.version if version is None else int(version)
    for row in history(ds.id):
        if row.version == wanted:
            return row
    raise NotFound(f"Dataset {ds.name!r} has no version {wanted}.", hint="See its history for the versions it has.")


def version_path(ref: uuid.UUID | str, version: int | None = None) -> Path:
    """The Parquet file of a version (the current one when `version` is None)."""
    return storage.absolute(get_version(ref, version).path)


def add_version(ref: uuid.UUID | str, write: Callable[[Path], None], *, step: dict[str, Any],
                summary: str) -> Dataset:
    """Write a new version with `write(tmp_path)` and make it current; nothing is left on failure."""
    ds = get_dataset(ref)
    with session() as s:
        latest = s.exec(select(func.max(DatasetVersion.version)).where(DatasetVersion.dataset_id == ds.id)).one()
    number = max(latest or 0, ds.version) + 1
    target = storage.dataset_file(ds.id, number)
    tmp = target.with_name(f".tmp-{uuid.uuid4().hex}.parquet")
    try:
        write(tmp)
        os.link(tmp, target)  # unlike a rename, never replaces a version another session just wrote
        storage.publish_new(target)  # and none another machine stored in the shared bucket
    except FileExistsError as exc:
        raise Conflict("Another change to this dataset was saved at the same time.",
                       hint="Reload the page and apply the step again.") from exc
    finally:
        tmp.unlink(missing_ok=True)
    try:
        return _record(ds, number, target, step=step, summary=summary)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _record(ds: Dataset, number: int, target: Path, *, step: dict[str, Any], summary: str) -> Dataset:
    meta = pq.read_metadata(target)
    schema = schema_of(meta.schema.to_arrow_schema())
    version = DatasetVersion(dataset_id=ds.id, version=number, parent=ds.version, step=step, summary=summary[:2000],
                             path=storage.relative(target), rows=meta.num_rows, columns=len(schema), schema_=schema,
                             size_bytes=target.stat().st_size)
    try:
        with session() as s:
            if number == 2 and not s.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id)).first():
                s.add(DatasetVersion(dataset_id=ds.id, version=1, step={"op": "import"}, summary="Imported",
                                     path=ds.path, rows=ds.rows, columns=ds.columns, schema_=ds.schema_,
                                     size_bytes=ds.size_bytes))
            s.add(version)
            return _make_current(s, ds.id, version)
    except IntegrityError as exc:
        raise Conflict("Another change to this dataset was saved at the same time.",
                       hint="Reload the page and apply the step again.") from exc


def _make_current(s: Any, dataset_id: uuid.UUID, version: DatasetVersion) -> Dataset:
    row = s.get(Dataset, dataset_id)
    row.version, row.path, row.rows, row.columns = version.version, version.path, version.rows, version.columns
    row.schema_, row.size_bytes = version.schema_, version.size_bytes
    s.add(row)
    s.flush()
    return row


def rollback(ref: uuid.UUID | str, version: int) -> Dataset:
    """Make an earlier (or later) version current again; history is kept."""
    target = get_version(ref, version)
    with session() as s:
        return _make_current(s, target.dataset_id, target)


class ColumnChange(BaseModel):
    column: str
    stat: str
    before: Any = None
    after: Any = None


class VersionDiff(BaseModel):
    """What changed between two versions: columns, types, row count and column statistics."""

    dataset_id: str
    a: int
    b: int
    rows_a: int
    rows_b: int
    added: list[str]
    removed: list[str]
    retyped: list[dict[str, str]]
    changes: list[ColumnChange]
    step_b: dict[str, Any] = {}


def diff(ref: uuid.UUID | str, a: int, b: int) -> VersionDiff:
    """Compare versions `a` and `b` of a dataset (schema, rows, per-column missing/distinct/min/max/mean)."""
    va, vb = get_version(ref, a), get_version(ref, b)
    types_a = {c["name"]: c["dtype"] for c in va.schema_}
    types_b = {c["name"]: c["dtype"] for c in vb.schema_}
    common = [c for c in types_a if c in types_b]
    stats_a, stats_b = _stats(storage.absolute(va.path), common), _stats(storage.absolute(vb.path), common)
    changes = [ColumnChange(column=col, stat=stat, before=stats_a[col][stat], after=stats_b[col][stat])
               for col in common for stat in stats_a[col] if stats_a[col][stat] != stats_b[col][stat]]
    return VersionDiff(
        dataset_id=str(va.dataset_id), a=va.version, b=vb.version, rows_a=va.rows, rows_b=vb.rows,
        added=[c for c in types_b if c not in types_a], removed=[c for c in types_a if c not in types_b],
        retyped=[{"column": c, "before": types_a[c], "after": types_b[c]} for c in common if types_a[c] != types_b[c]],
        changes=changes, step_b=vb.step,
    )


STATS_CHUNK = 100  # columns per query: one query over thousands of columns is slow and can crash DuckDB

_NUMERIC = ("TINY", "SMALL", "INT", "BIG", "HUGE", "FLOAT", "DOUBLE", "DECIMAL", "UTINY", "USMALL", "UINT", "UBIG")


def _stats(path: Path, columns: list[str]) -> dict[str, dict[str, Any]]:
    """Missing, distinct, min, max and mean per column, a chunk of columns per query (linear in width)."""
    if not columns:
        return {}
    out: dict[str, dict[str, Any]] = {}
    with duck.cursor() as con, duck.explained("Comparing the two versions"):
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))",
                                 [str(path)]).fetchall())
        for start in range(0, len(columns), STATS_CHUNK):
            chunk = columns[start:start + STATS_CHUNK]
            parts = [part for col in chunk for part in _stat_parts(col, types[col].upper())]
            values = con.execute(f"SELECT {', '.join(parts)} FROM read_parquet(?)", [str(path)]).fetchone()
            for i, col in enumerate(chunk):
                missing, distinct, lo, hi, mean = values[5 * i: 5 * i + 5]
                out[col] = {"missing": missing, "distinct": distinct, "min": lo, "max": hi, "mean": mean}
    return out


def _stat_parts(col: str, dtype: str) -> list[str]:
    q = quote(col)
    numeric = dtype.startswith(_NUMERIC)
    ranged = numeric or dtype.startswith(("DATE", "TIMESTAMP", "TIME", "VARCHAR"))
    return [f"count(*) - count({q})", f"count(DISTINCT {q})",
            f"min({q})::VARCHAR" if ranged else "NULL", f"max({q})::VARCHAR" if ranged else "NULL",
            f"round(avg({q})::DOUBLE, 6)" if numeric else "NULL"]
