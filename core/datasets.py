"""Datasets: import, list, load, preview and delete.

Every import reads into a pyarrow Table, writes it atomically as Parquet under
DATA_DIR/datasets/<id>/v1.parquet and only then inserts the Dataset row; any
failure leaves neither a row nor a file.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from core import storage
from core.config import get_settings
from core.db import session
from core.errors import Conflict, IngestError, InvalidInput, NotFound, TooLarge, UnsupportedFormat
from core.models import Dataset

log = logging.getLogger(__name__)

READERS = {".csv": "csv", ".tsv": "csv", ".txt": "csv"}


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


def _looks_binary(path: Path) -> bool:
    head = path.read_bytes()[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text
    return b"\x00" in head


def _read_csv(path: Path, **options: object) -> pa.Table:
    if _looks_binary(path):
        raise UnsupportedFormat(
            f"{path.name} is not a text file: it looks binary.",
            hint="Export it as CSV (comma-separated text) and upload that.",
        )
    delimiter = str(options.get("delimiter") or ("\t" if path.suffix.lower() == ".tsv" else ","))
    try:
        table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise IngestError(f"{path.name} could not be read as CSV: {exc}", hint="Check the delimiter.") from exc
    if table.num_columns == 0 or table.num_rows == 0:
        raise IngestError(f"{path.name} has no data rows.", hint="Upload a file with a header and rows.")
    return table


def ingest_file(path: str | Path, *, name: str | None = None, **options: object) -> Dataset:
    """Import a local file as a new dataset.

    Raises IngestError (empty, unreadable), UnsupportedFormat, TooLarge, InvalidInput (bad name),
    Conflict (name taken).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}.")
    check_size(path.stat().st_size, what=f"The file {path.name}")
    fmt = READERS.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormat(
            f"Files of type '{path.suffix or 'none'}' cannot be imported yet.",
            hint="Supported: " + ", ".join(sorted(READERS)),
        )
    table = _read_csv(path, **options)
    return store_table(table, name=name or path.stem, source="upload", source_detail=path.name, fmt=fmt)


def ingest_upload(data: bytes, filename: str, *, name: str | None = None, **options: object) -> Dataset:
    """Import bytes received from an upload widget; `filename` gives the type and default name."""
    safe = storage.check_name(Path(filename).name if "/" not in filename and "\\" not in filename else filename,
                              what="file name")
    check_size(len(data), what=f"The file {safe}")
    tmp_dir = storage.area("tmp")
    tmp = tmp_dir / f"{uuid.uuid4().hex}-{safe}"
    try:
        tmp.write_bytes(data)
        return ingest_file(tmp, name=name or Path(safe).stem, **options)
    finally:
        tmp.unlink(missing_ok=True)


def store_table(table: pa.Table, *, name: str, source: str, source_detail: str = "", fmt: str = "parquet") -> Dataset:
    """Write `table` as a new dataset (Parquet first, then the row; nothing is left on failure)."""
    name = storage.check_name(name, what="dataset name")
    _check_columns(table)
    if _name_taken(name):
        raise Conflict(f"A dataset named {name!r} already exists.", hint="Choose another name or delete it first.")
    dataset_id = uuid.uuid4()
    target = storage.dataset_file(dataset_id, 1)
    try:
        with storage.atomic_path(target) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        row = Dataset(
            id=dataset_id, name=name, source=source, source_detail=source_detail[:2000], format=fmt,
            path=storage.relative(target), rows=table.num_rows, columns=table.num_columns,
            schema_=[{"name": f.name, "dtype": str(f.type)} for f in table.schema],
            size_bytes=target.stat().st_size,
        )
        with session() as s:
            s.add(row)
        return row
    except IntegrityError as exc:
        storage.remove_tree(storage.dataset_dir(dataset_id))
        raise Conflict(f"A dataset named {name!r} already exists.", hint="Choose another name.") from exc
    except BaseException:
        storage.remove_tree(storage.dataset_dir(dataset_id))
        raise


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
    with session() as s:
        row = None
        try:
            row = s.get(Dataset, uuid.UUID(str(ref)))
        except ValueError:
            row = s.exec(select(Dataset).where(Dataset.name == str(ref))).first()
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
    descending: bool = False, columns: list[str] | None = None,
) -> pd.DataFrame:
    """One page of a dataset, sorted server-side by DuckDB (never the whole file)."""
    path = dataset_path(ref)
    names = pq.read_schema(path).names
    if sort_by is not None and sort_by not in names:
        raise InvalidInput(f"Unknown column {sort_by!r} to sort by.")
    cols = ", ".join(_quote(c) for c in (columns or names))
    order = f" ORDER BY {_quote(sort_by)} {'DESC' if descending else 'ASC'} NULLS LAST" if sort_by else ""
    sql = f"SELECT {cols} FROM read_parquet(?){order} LIMIT ? OFFSET ?"
    with duckdb.connect() as con:
        return con.execute(sql, [str(path), int(limit), int(max(offset, 0))]).df()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def delete_dataset(ref: uuid.UUID | str) -> None:
    """Delete a dataset's row and every file it has."""
    row = get_dataset(ref)
    with session() as s:
        s.delete(s.get(Dataset, row.id))
    storage.remove_tree(storage.dataset_dir(row.id))


def count_datasets() -> int:
    with session() as s:
        return s.exec(select(func.count()).select_from(Dataset)).one()
