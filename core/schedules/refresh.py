"""Scheduled work on datasets: re-import one from its source, re-profile one.

A refresh fetches the dataset again from where it was imported (URL, Kaggle file or saved database
connection), with the same checks as an import (internal addresses, HTML, empty bodies and size
limits are refused). The content hash of what came back is compared with that of the last import
or refresh: equal means no new version; different means a new version, its diff against that one,
and flags for a schema change and for profile alerts the previous version did not have.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from core import connections, eda, readers, storage
from core.datasets import versions
from core.datasets.importers import check_slug, fetched_kaggle_file, fetched_url
from core.datasets.store import PARQUET_COMPRESSION, check_size, get_dataset
from core.errors import ConnectionFailed, IngestError, InvalidInput, NotFound
from core.models.dataset import DatabaseConnection, Dataset, DatasetVersion
from core.progress import Progress, no_progress
from core.schedules.kinds import REFRESHABLE_SOURCES, Outcome

RAW_STEPS = ("import", "refresh")  # versions that hold what the source sent, not a cleaning step
_DB_DETAIL = re.compile(r"^(?P<kind>\w+)://(?P<host>[^/]*)/(?P<database>.*?) (?:table (?P<table>.+)|query: (?P<query>.+))$",
                        re.DOTALL)


def content_hash(path: Path) -> str:
    """SHA-256 of a Parquet file's data and column types (not its file bytes or metadata)."""
    table = pq.read_table(path).replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def refresh_dataset(dataset_id: uuid.UUID | str, *, progress: Progress = no_progress) -> Outcome:
    """Fetch a dataset again from its source; add a version only when the content changed.

    Raises InvalidInput (a source that cannot be fetched again), IngestError/UnsupportedFormat (HTML,
    empty or unreadable body), ConnectionFailed (credentials gone, source unreachable); the dataset
    and its versions are untouched then.
    """
    ds = get_dataset(dataset_id)
    if ds.source not in REFRESHABLE_SOURCES:
        raise InvalidInput(f"Dataset {ds.name!r} was imported from {ds.source!r}, which cannot be fetched again.")
    progress(0.05, f"Fetching {ds.name} from its {ds.source}")
    table = fetch_source(ds)
    baseline = _baseline(ds)
    tmp = storage.area("tmp") / f"refresh-{uuid.uuid4().hex}.parquet"
    try:
        pq.write_table(table, tmp, compression=PARQUET_COMPRESSION)
        new_hash, old_hash = content_hash(tmp), _hash_of(baseline)
        if new_hash == old_hash:
            return Outcome(f"Unchanged: the source sends what version {baseline.version} holds.",
                           {"changed": False, "version": ds.version, "content_hash": new_hash})
        progress(0.5, "Content changed: storing a new version")
        return _new_version(ds, baseline, tmp, new_hash)
    finally:
        tmp.unlink(missing_ok=True)


def _baseline(ds: Dataset) -> DatasetVersion:
    """The newest version that holds what the source sent (the import or the last refresh)."""
    raw = [v for v in versions.history(ds.id) if v.step.get("op", "import") in RAW_STEPS]
    return raw[-1] if raw else versions.get_version(ds.id, 1)


def _hash_of(version: DatasetVersion) -> str:
    return version.step.get("content_hash") or content_hash(storage.absolute(version.path))


def _new_version(ds: Dataset, baseline: DatasetVersion, tmp: Path, new_hash: str) -> Outcome:
    before = eda.profile(ds.id)
    step = {"op": "refresh", "source": ds.source, "content_hash": new_hash}
    fresh = versions.add_version(ds.id, lambda target: shutil.copyfile(tmp, target), step=step,
                                 summary=f"Refreshed from {ds.source}: {ds.source_detail[:200]}")
    diff = versions.diff(ds.id, baseline.version, fresh.version)
    after = eda.profile(ds.id)
    seen = {(a.kind, a.column) for a in before.alerts}
    new_alerts = [a.message for a in after.alerts if (a.kind, a.column) not in seen]
    schema = {"added": diff.added, "removed": diff.removed, "retyped": diff.retyped}
    result = {"changed": True, "version": fresh.version, "compared_with": baseline.version, "content_hash": new_hash,
              "rows_before": diff.rows_a, "rows_after": diff.rows_b, "schema": schema, "new_alerts": new_alerts}
    return Outcome(_describe(result), result, drift=bool(diff.added or diff.removed or diff.retyped or new_alerts))


def _describe(result: dict[str, Any]) -> str:
    parts = [f"New version {result['version']} ({result['rows_before']:,} → {result['rows_after']:,} rows)"]
    schema = result["schema"]
    if schema["added"]:
        parts.append("column added: " + ", ".join(schema["added"]))
    if schema["removed"]:
        parts.append("column removed: " + ", ".join(schema["removed"]))
    if schema["retyped"]:
        parts.append("type changed: " + ", ".join(f"{c['column']} {c['before']} → {c['after']}" for c in schema["retyped"]))
    if result["new_alerts"]:
        parts.append(f"{len(result['new_alerts'])} new profile alert(s)")
    return "; ".join(parts) + "."


# ---------------------------------------------------------------- sources

def fetch_source(ds: Dataset) -> pa.Table:
    """What the dataset's source holds now, read as an import would read it."""
    if ds.source == "url":
        with fetched_url(ds.source_detail) as (tmp, filename):
            check_size(tmp.stat().st_size, what=f"The download from {ds.source_detail}")
            return readers.read(tmp, filename=filename).table
    if ds.source == "kaggle":
        slug, file = _kaggle_source(ds.source_detail)
        with fetched_kaggle_file(slug, file) as got:
            check_size(got.stat().st_size, what=f"The Kaggle file {file}")
            return readers.read(got, filename=got.name).table
    conn, table, query = database_source(ds.source_detail)
    _check_password(conn)
    data = connections.fetch(conn, table=table, query=query)
    if data.num_columns == 0:
        raise IngestError(f"The {'table ' + table if table else 'query'} returned nothing.")
    return readers.normalise(data, [], conn.name)


def _kaggle_source(detail: str) -> tuple[str, str]:
    parts = detail.split("/", 2)
    if len(parts) != 3 or not parts[2]:
        raise InvalidInput(f"The Kaggle source {detail!r} names no file.", hint="Import the dataset again.")
    return check_slug(f"{parts[0]}/{parts[1]}"), parts[2]


def database_source(detail: str) -> tuple[DatabaseConnection, str | None, str | None]:
    """The saved connection, table and query a database import recorded in its source detail."""
    match = _DB_DETAIL.match(detail)
    if match is None:
        raise InvalidInput(f"The database source {detail[:200]!r} cannot be read back.", hint="Import the dataset again.")
    wanted = (match["kind"], match["host"], match["database"])
    found = [c for c in connections.list_connections() if (c.kind, c.host, c.database) == wanted]
    if not found:
        raise NotFound(f"The saved connection to {match['kind']}://{match['host']}/{match['database']} no longer exists.",
                       hint="Save the connection again on the Datasets page; the schedule keeps its history.")
    return found[0], match["table"], match["query"]


def _check_password(conn: DatabaseConnection) -> None:
    if conn.password_env and not os.environ.get(conn.password_env):
        raise ConnectionFailed(f"The password of connection {conn.name!r} comes from ${conn.password_env}, "
                               "which is not set any more.",
                               hint=f"Set {conn.password_env} where the workers run, then run the schedule again.")


def profile_dataset(dataset_id: uuid.UUID | str, *, previous: dict[str, Any] | None = None,
                    progress: Progress = no_progress) -> Outcome:
    """Profile a dataset's current version again; alerts not in the previous run's are flagged."""
    prof = eda.profile(dataset_id, progress=progress, refresh=True)
    keys = sorted({f"{a.kind}:{a.column}" for a in prof.alerts})
    old = set((previous or {}).get("alert_keys", keys))
    new = [a.message for a in prof.alerts if f"{a.kind}:{a.column}" not in old]
    result = {"version": prof.version, "rows": prof.rows, "alerts": len(prof.alerts), "alert_keys": keys,
              "new_alerts": new}
    summary = f"Profiled version {prof.version}: {prof.rows:,} rows, {len(prof.alerts)} alert(s)"
    return Outcome(summary + (f", {len(new)} new." if new else "."), result, drift=bool(new))
