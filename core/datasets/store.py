"""Dataset storage: store a Table as a new dataset, find, list and delete datasets.

`store_table` writes the table atomically as Parquet under DATA_DIR/datasets/<id>/v1.parquet and
only then inserts the Dataset row and its version-1 row; any failure leaves neither a row nor a
file. The lowest module of `core.datasets`: it imports nothing of the package above it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from core import storage
from core.config import get_settings
from core.db import find_by_ref, session
from core.errors import Conflict, IngestError, NotFound, TooLarge
from core.models.dataset import Dataset, DatasetVersion

log = logging.getLogger(__name__)

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


def default_name(filename: str) -> str:
    """A dataset name from a file name: the stem without .gz/.zip, unusual characters replaced."""
    stem = Path(filename).name
    for suffix in (".gz", ".zip"):
        stem = stem.removesuffix(suffix)
    stem = Path(stem).stem or "dataset"
    cleaned = "".join(ch if ch.isalnum() or ch in " _-.()" else "_" for ch in stem).strip(" .") or "dataset"
    return cleaned[:150]


def store_table(table: pa.Table, *, name: str, source: str, source_detail: str = "", fmt: str = "parquet",
                notes: list[str] | None = None) -> Dataset:
    """Write `table` as a new dataset, version 1 (Parquet first, then the rows; nothing is left on failure)."""
    _check_columns(table)
    return store_parquet(lambda tmp: pq.write_table(table, tmp, compression=PARQUET_COMPRESSION), name=name,
                         source=source, source_detail=source_detail, fmt=fmt, notes=notes)


def store_parquet(write: Callable[[Path], None], *, name: str, source: str, source_detail: str = "",
                  fmt: str = "parquet", notes: list[str] | None = None) -> Dataset:
    """A new dataset, version 1, whose Parquet file `write(path)` writes (rows and schema read from its footer).

    Streaming importers write the file themselves without holding the table; `notes` may be extended by
    `write`. Nothing is left on failure.
    """
    name = storage.check_name(name, what="dataset name")
    if _name_taken(name):
        raise Conflict(f"A dataset named {name!r} already exists.", hint="Choose another name or delete it first.")
    dataset_id = uuid.uuid4()
    target = storage.dataset_file(dataset_id, 1)
    try:
        with storage.atomic_path(target) as tmp:
            write(tmp)
        meta = pq.read_metadata(target)
        schema = schema_of(meta.schema.to_arrow_schema())
        row = Dataset(
            id=dataset_id, name=name, source=source, source_detail=source_detail[:2000], format=fmt,
            path=storage.relative(target), rows=meta.num_rows, columns=meta.num_columns,
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


def delete_dataset(ref: uuid.UUID | str) -> None:
    """Delete a dataset's row, its versions and every file it has."""
    row = get_dataset(ref)
    with session() as s:
        s.exec(delete(DatasetVersion).where(DatasetVersion.dataset_id == row.id))
        s.delete(s.get(Dataset, row.id))
    storage.remove_tree(storage.dataset_dir(row.id))
    storage.remove_tree(storage.area("sortindex") / str(row.id))  # see core.datasets.pages


def count_datasets() -> int:
    """How many datasets there are."""
    with session() as s:
        return s.exec(select(func.count()).select_from(Dataset)).one()
