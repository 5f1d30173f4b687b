"""Datasets: import, list, load, preview and delete.

Every import reads into a pyarrow Table (`core.readers`), writes it atomically as Parquet under
DATA_DIR/datasets/<id>/v1.parquet and only then inserts the Dataset row and its version-1 row; any
failure leaves neither a row nor a file. Cleaning steps add versions (`core.versions`); the Dataset
row always describes the current one.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from core import duck, readers, storage
from core.config import get_settings
from core.db import find_by_ref, session
from core.errors import Conflict, IngestError, InvalidInput, NotFound, TooLarge
from core.models.dataset import Dataset, DatasetVersion

log = logging.getLogger(__name__)

READERS = dict(readers.EXTENSIONS)
PARQUET_COMPRESSION = "snappy"  # fast to write and read; see bench/bench_datasets.py


def check_size(size: int, *, what: str = "The file") -> None:
    """Raise TooLarge when `size` bytes exceed MAX_UPLOAD_MB, IngestError when it is empty."""
    limit = get_settings().max_upload_mb
    if size == 0:
        raise IngestError(f"{what} is empty (0 bytes).", hint="Choose a file that contains data.")
    if size > limit * 1024 * 1024:
        raise TooLarge(
            f"{what} is {size / 1024 / 1024:.1f} MB, over the {limit} MB limit.",
            hint="Raise MAX_UPLOAD_MB in the settings or import a smaller file.",
        )


def detect_file(path: str | Path, filename: str | None = None) -> readers.Detected:
    """What a file looks like (format, delimiter, encoding, header, sheets) before importing it."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}.")
    check_size(path.stat().st_size, what=f"The file {filename or path.name}")
    return readers.detect(path, filename)


def ingest_file(path: str | Path, *, name: str | None = None, **options: object) -> Dataset:
    """Import a local file as a new dataset.

    The format is detected from the content: CSV/TSV/TXT, Excel (.xlsx/.xls), JSON (records, columns,
    JSON Lines), Parquet, Feather, optionally inside .gz or a single-file .zip. Options: delimiter,
    encoding, header, quotechar, decimal, skip_bad_rows, sheet, password, member; `filename` names
    the original file when `path` is a temporary copy.
    Raises IngestError (empty, unreadable), UnsupportedFormat, TooLarge, InvalidInput (bad name),
    Conflict (name taken).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}.")
    filename = str(options.pop("filename", None) or path.name)
    check_size(path.stat().st_size, what=f"The file {filename}")
    source = str(options.pop("source", "upload"))
    result = readers.read(path, filename=filename, **options)
    return store_table(result.table, name=name or default_name(filename), source=source,
                       source_detail=str(options.pop("source_detail", "") or filename), fmt=result.format,
                       notes=result.notes)


def default_name(filename: str) -> str:
    stem = Path(filename).name
    for suffix in (".gz", ".zip"):
        stem = stem.removesuffix(suffix)
    stem = Path(stem).stem or "dataset"
    cleaned = "".join(ch if ch.isalnum() or ch in " _-.()" else "_" for ch in stem).strip(" .") or "dataset"
    return cleaned[:150]


def ingest_upload(data: bytes, filename: str, *, name: str | None = None, **options: object) -> Dataset:
    """Import bytes received from an upload widget; `filename` gives the default name."""
    safe = storage.check_name(Path(filename).name if "/" not in filename and "\\" not in filename else filename,
                              what="file name")
    check_size(len(data), what=f"The file {safe}")
    tmp = storage.area("tmp") / f"{uuid.uuid4().hex}-{safe}"
    try:
        tmp.write_bytes(data)
        return ingest_file(tmp, name=name or default_name(safe), filename=safe, **options)
    finally:
        tmp.unlink(missing_ok=True)


def import_url(url: str, *, name: str | None = None, **options: object) -> Dataset:
    """Download an http(s) URL (size cap, timeout, redirect limit) and import it; see `core.importers`."""
    from core import importers

    return importers.import_url(url, name=name, **options)


def import_kaggle(slug: str, *, file: str | None = None, name: str | None = None, **options: object) -> Dataset:
    """Import one file of a Kaggle dataset ('owner/dataset'); see `core.importers`."""
    from core import importers

    return importers.import_kaggle(slug, file=file, name=name, **options)


def import_database(connection: object, *, table: str | None = None, query: str | None = None,
                    name: str | None = None, limit: int | None = None, password: str | None = None,
                    progress: object = None) -> Dataset:
    """Import a table or a read-only query from a saved external database; see `core.connections`."""
    from core import connections

    return connections.import_database(connection, table=table, query=query, name=name, limit=limit,
                                       password=password, progress=progress)


def store_table(table: pa.Table, *, name: str, source: str, source_detail: str = "", fmt: str = "parquet",
                notes: list[str] | None = None) -> Dataset:
    """Write `table` as a new dataset, version 1 (Parquet first, then the rows; nothing is left on failure)."""
    name = storage.check_name(name, what="dataset name")
    _check_columns(table)
    if _name_taken(name):
        raise Conflict(f"A dataset named {name!r} already exists.", hint="Choose another name or delete it first.")
    dataset_id = uuid.uuid4()
    target = storage.dataset_file(dataset_id, 1)
    try:
        with storage.atomic_path(target) as tmp:
            pq.write_table(table, tmp, compression=PARQUET_COMPRESSION)
        schema = schema_of(table.schema)
        row = Dataset(
            id=dataset_id, name=name, source=source, source_detail=source_detail[:2000], format=fmt,
            path=storage.relative(target), rows=table.num_rows, columns=table.num_columns,
            schema_=schema, size_bytes=target.stat().st_size, notes=list(notes or []),
        )
        version = DatasetVersion(dataset_id=dataset_id, version=1, step={"op": "import", "source": source},
                                 summary=f"Imported from {source}: {source_detail[:200]}", path=row.path,
                                 rows=row.rows, columns=row.columns, schema_=schema, size_bytes=row.size_bytes)
        with session() as s:
            s.add(row)
            s.flush()
            s.add(version)
        return row
    except IntegrityError as exc:
        storage.remove_tree(storage.dataset_dir(dataset_id))
        raise Conflict(f"A dataset named {name!r} already exists.", hint="Choose another name.") from exc
    except BaseException:
        storage.remove_tree(storage.dataset_dir(dataset_id))
        raise


def schema_of(schema: pa.Schema) -> list[dict[str, str]]:
    """Columns as [{name, dtype}] for the Dataset row."""
    return [{"name": f.name, "dtype": str(f.type)} for f in schema]


def _check_columns(table: pa.Table) -> None:
    names = [str(n) for n in table.column_names]
    if any(not n.strip() for n in names):
        raise IngestError("A column has an empty name.", hint="Give every column a header.")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise IngestError(f"Duplicate column names: {', '.join(dupes)}.", hint="Rename the columns so each is unique.")


def _name_taken(name: str) -> bool:
    with session() as s:
        return s.exec(select(func.count()).select_from(Dataset).where(Dataset.name == name)).one() > 0


def list_datasets() -> list[Dataset]:
    """Every dataset, newest first."""
    with session() as s:
        return list(s.exec(select(Dataset).order_by(Dataset.created.desc())).all())


def get_dataset(ref: uuid.UUID | str) -> Dataset:
    """A dataset by id or by name; raises NotFound."""
    row = find_by_ref(Dataset, ref)
    if row is None:
        raise NotFound(f"No dataset {str(ref)!r}.", hint="Pick one from the Datasets page.")
    return row


def dataset_path(ref: uuid.UUID | str) -> Path:
    """The Parquet file of a dataset's current version."""
    return storage.absolute(get_dataset(ref).path)


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
    from core.export import view_sql

    path, names = _version_file(ref, version)
    sql = view_sql(path, names, where=where, select=columns, sort_by=sort_by, descending=descending)
    with duck.cursor() as con:
        return con.execute(f"{sql} LIMIT ? OFFSET ?", [int(limit), int(max(offset, 0))]).df()


def count_rows(ref: uuid.UUID | str, *, where: str | None = None, version: int | None = None) -> int:
    """How many rows a dataset (or a version, or the rows matching `where`) has."""
    from core.export import view_sql

    path, names = _version_file(ref, version)
    if not where or not where.strip():
        return pq.read_metadata(path).num_rows
    with duck.cursor() as con:
        return con.execute(f"SELECT count(*) FROM ({view_sql(path, names, where=where)}) AS t").fetchone()[0]


def _version_file(ref: uuid.UUID | str, version: int | None) -> tuple[Path, list[str]]:
    if version is None:
        path = dataset_path(ref)
    else:
        from core.versions import version_path

        path = version_path(ref, version)
    return path, pq.read_schema(path).names


def delete_dataset(ref: uuid.UUID | str) -> None:
    """Delete a dataset's row, its versions and every file it has."""
    row = get_dataset(ref)
    with session() as s:
        s.exec(delete(DatasetVersion).where(DatasetVersion.dataset_id == row.id))
        s.delete(s.get(Dataset, row.id))
    storage.remove_tree(storage.dataset_dir(row.id))


def count_datasets() -> int:
    with session() as s:
        return s.exec(select(func.count()).select_from(Dataset)).one()
