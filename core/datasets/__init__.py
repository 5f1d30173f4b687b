"""Datasets: import, list, load, preview, version, export and delete.

Every import reads into a pyarrow Table (`core.readers`), writes it atomically as Parquet under
DATA_DIR/datasets/<id>/v1.parquet and only then inserts the Dataset row and its version-1 row; any
failure leaves neither a row nor a file. Cleaning steps add versions (`versions`); the Dataset
row always describes the current one.

The package's modules, lowest first; each imports only those before it:
`store` (store_table, get_dataset, list, delete), `views` (the SELECT behind previews and exports), `pages`
(sort indexes and row-group pages of large data),
`versions`, `frames` (load_frame, preview, count_rows), `download` (the URL client that refuses
internal addresses), `importers` (files, URLs, Kaggle), `export`. External databases live in
`core.connections`, which sits above `store`.
"""

from __future__ import annotations

from core import readers
from core.datasets import export, importers, versions
from core.datasets.frames import count_rows, load_frame, preview
from core.datasets.importers import detect_file, import_kaggle, import_url, ingest_file, ingest_upload
from core.datasets.store import (
    PARQUET_COMPRESSION,
    check_size,
    count_datasets,
    dataset_path,
    default_name,
    delete_dataset,
    get_dataset,
    list_datasets,
    schema_of,
    store_table,
)
from core.models.dataset import Dataset, DatasetVersion

__all__ = ["PARQUET_COMPRESSION", "READERS", "Dataset", "DatasetVersion", "check_size", "count_datasets",
           "count_rows", "dataset_path", "default_name", "delete_dataset", "detect_file", "export", "get_dataset",
           "import_database", "import_kaggle", "import_url", "importers", "ingest_file", "ingest_upload",
           "list_datasets", "load_frame", "preview", "schema_of", "store_table", "versions"]

READERS = dict(readers.EXTENSIONS)


def import_database(connection: object, *, table: str | None = None, query: str | None = None,
                    name: str | None = None, limit: int | None = None, password: str | None = None,
                    progress: object = None) -> Dataset:
    """Import a table or a read-only query from a saved external database; see `core.connections`."""
    from core import connections  # above this package: it stores through `core.datasets.store`

    return connections.import_database(connection, table=table, query=query, name=name, limit=limit,
                                       password=password, progress=progress)
