"""The profile of a dataset version: per-column statistics chunk by chunk, then duplicate rows, correlations
and alerts over the whole table; cached as JSON beside the version it describes."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
from pydantic import ValidationError

from core import duck, storage
from core.datasets import get_dataset
from core.duck import quote
from core.eda.alerts import alerts
from core.eda.columns import profile_chunk
from core.eda.correlations import candidates, correlations
from core.eda.models import PROFILE_FORMAT, ColumnProfile, Correlation, Profile
from core.eda.source import Source
from core.progress import Progress, no_progress

log = logging.getLogger(__name__)


def cache_path(dataset_id: uuid.UUID | str, version: int) -> Path:
    """Where the profile of one version is cached."""
    return storage.dataset_dir(dataset_id) / f"profile-v{version}.json"


def cached_profile(dataset_id: uuid.UUID | str) -> Profile | None:
    """The cached profile of the dataset's current version, if one was computed."""
    ds = get_dataset(dataset_id)
    path = storage.local(cache_path(ds.id, ds.version))
    if not path.is_file():
        return None
    try:
        prof = Profile.model_validate_json(path.read_text())
    except (ValidationError, ValueError):
        return None
    return prof if prof.format == PROFILE_FORMAT else None


def profile(dataset_id: uuid.UUID | str, *, progress: Progress = no_progress, refresh: bool = False) -> Profile:
    """Profile the current version of a dataset: per column type, missing, distinct, top values, numeric
    statistics and histogram, datetime range and gaps, text lengths; duplicates, memory, correlations
    (Pearson, Spearman, Cramér's V, correlation ratio) and alerts. Cached per version."""
    ds = get_dataset(dataset_id)
    if not refresh and (hit := cached_profile(ds.id)) is not None:
        progress(1.0, "Profile loaded from cache")
        return hit
    started = time.perf_counter()
    prof = compute(storage.absolute(ds.path), progress, dataset_id=str(ds.id), name=ds.name, version=ds.version)
    prof.seconds = round(time.perf_counter() - started, 3)
    _save(prof, cache_path(ds.id, ds.version))
    progress(1.0, "Profile complete")
    return prof


def compute(path: Path, progress: Progress, *, dataset_id: str, name: str, version: int) -> Profile:
    """Profile the Parquet file at `path` (no cache).

    It runs under DuckDB's limits (DUCKDB_MEMORY_LIMIT, DUCKDB_TIMEOUT_S), a chunk of columns at a time,
    so wide tables stay within them; going over either gives a clear error naming the setting.
    """
    source = Source(path)
    with duck.cursor() as con, duck.explained("The profile"):
        columns = _columns(con, source, progress)
        progress(0.7, "Counting duplicate rows")
        dupes = _duplicates(con, source, columns)
        progress(0.8, "Computing correlations")
        corrs, sample = _correlations(con, source, columns)
    rows = source.rows
    prof = Profile(dataset_id=dataset_id, dataset_name=name, version=version, rows=rows, columns=columns,
                   duplicate_rows=dupes, duplicate_pct=round(100 * dupes / rows, 2) if rows else 0.0,
                   memory_bytes=sum(c.memory_bytes for c in columns), correlations=corrs, spearman_sample_rows=sample)
    prof.alerts = alerts(prof)
    return prof


def _columns(con: duckdb.DuckDBPyConnection, source: Source, progress: Progress) -> list[ColumnProfile]:
    out: list[ColumnProfile] = []
    total = len(source.names)
    for names in source.chunks():
        progress(0.05 + 0.6 * len(out) / total, f"Profiling columns {len(out) + 1:,}–{len(out) + len(names):,} "
                 f"of {total:,}")
        with source.registered(con, names) as table:
            out += profile_chunk(con, table, source.rows)
        pa.default_memory_pool().release_unused()  # the next chunk's peak, not this one's plus it
    return out


def _parquet(source: Source) -> str:
    return "read_parquet('" + str(source.path).replace("'", "''") + "')"


def _duplicates(con: duckdb.DuckDBPyConnection, source: Source, columns: list[ColumnProfile]) -> int:
    """Rows equal to an earlier row: none when a column is filled and unique (a distinct count that high is
    always exact, see `columns._exact_distinct`), else counted over row hashes."""
    if any(c.missing == 0 and c.distinct == source.rows for c in columns):
        return 0
    names = ", ".join(quote(n) for n in source.names)
    distinct = con.execute(f"SELECT count(DISTINCT hash({names})) FROM {_parquet(source)}").fetchall()[0][0]
    return int(source.rows - distinct)


def _correlations(con: duckdb.DuckDBPyConnection, source: Source, columns: list[ColumnProfile]
                  ) -> tuple[list[Correlation], int]:
    numeric, cats = candidates(columns)
    if not numeric and not cats:
        return [], 0
    names = ", ".join(quote(c.name) for c in numeric + cats)
    con.execute(f"CREATE OR REPLACE TEMP VIEW data AS SELECT {names} FROM {_parquet(source)}")
    try:
        return correlations(con, columns, source.rows)
    finally:
        con.execute("DROP VIEW IF EXISTS data")


def _save(prof: Profile, path: Path) -> None:
    try:
        with storage.atomic_path(path) as tmp:
            tmp.write_text(prof.model_dump_json())
    except OSError as exc:  # a cache that cannot be written is not an error for the analyst
        log.warning("could not cache profile at %s: %s", path, exc)
