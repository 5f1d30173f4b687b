"""Vectors in Chroma: one collection per embedding model, one entry per chunk.

Embedded PersistentClient under DATA_DIR/chroma by default; the Chroma server when
CHROMA_HOST is set. Chroma holds only ids, vectors and {document_id, page}; the text
lives in the database.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any

import numpy as np

from core import storage
from core.config import get_settings
from core.errors import ConnectionFailed

log = logging.getLogger(__name__)

_lock = threading.Lock()
_clients: dict[tuple[str, int, str], Any] = {}


def _chroma_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)


def client() -> Any:
    """The Chroma client for the current settings (one per process and location)."""
    settings = get_settings()
    key = (settings.chroma_host, settings.chroma_port, "" if settings.chroma_host else str(storage.area("chroma")))
    with _lock:
        if key not in _clients:
            _clients[key] = _connect(*key)
        return _clients[key]


def _connect(host: str, port: int, path: str) -> Any:
    import chromadb

    if not host:
        return chromadb.PersistentClient(path=path, settings=_chroma_settings())
    try:
        return chromadb.HttpClient(host=host, port=port, settings=_chroma_settings())
    except Exception as exc:  # chromadb raises ValueError/ConnectionError variants
        raise ConnectionFailed(f"The Chroma server at {host}:{port} cannot be reached ({exc}).",
                               hint="Start it, or clear CHROMA_HOST to use the embedded store.") from exc


def reset() -> None:
    """Forget every client (tests that switch DATA_DIR call this)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with _lock:
        _clients.clear()
        SharedSystemClient.clear_system_cache()


def collection_name(model: str) -> str:
    """'docs-<model>' with only the characters Chroma allows."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-._")
    return f"docs-{slug or 'model'}"[:200]


def collection(model: str) -> Any:
    """The cosine-distance collection for an embedding model, created on first use."""
    return client().get_or_create_collection(
        collection_name(model), embedding_function=None,
        configuration={"hnsw": {"space": "cosine"}}, metadata={"embedding_model": model},
    )


def add(model: str, ids: list[uuid.UUID], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
    """Store one vector per chunk id."""
    if ids:
        collection(model).add(ids=[str(i) for i in ids], embeddings=vectors, metadatas=metadatas)


NO_DOCUMENTS: dict = {"document_id": {"$in": []}}


def _document_filter(document_ids: Iterable[uuid.UUID | str] | None) -> dict | None:
    """Chroma's `where` for chunks of these documents; None searches all; NO_DOCUMENTS for an empty list."""
    if document_ids is None:
        return None
    docs = [str(d) for d in document_ids]
    if not docs:
        return NO_DOCUMENTS
    return {"document_id": docs[0]} if len(docs) == 1 else {"document_id": {"$in": docs}}


def query(model: str, vector: np.ndarray, n: int,
          document_ids: Iterable[uuid.UUID] | None = None) -> list[tuple[str, float, str]]:
    """The `n` nearest chunks as (chunk id, cosine distance, document id).

    With `document_ids`, only those documents' chunks are searched (a metadata filter, which is
    much slower than an unfiltered query on a large collection, so pass None to search them all).
    """
    col = collection(model)
    where = _document_filter(document_ids)
    if where == NO_DOCUMENTS:
        return []
    if n <= 0:
        return []
    result = col.query(query_embeddings=vector.reshape(1, -1), n_results=n, where=where,
                       include=["distances", "metadatas"])
    return [(cid, distance, str((meta or {}).get("document_id", ""))) for cid, distance, meta in
            zip(result["ids"][0], result["distances"][0], result["metadatas"][0], strict=True)]


def query_pages(model: str, vector: np.ndarray, n: int,
                document_ids: Iterable[uuid.UUID | str] | None = None) -> list[tuple[str, float, str, int]]:
    """As `query`, with each chunk's page: (chunk id, cosine distance, document id, page)."""
    col = collection(model)
    where = _document_filter(document_ids)
    if where == NO_DOCUMENTS:
        return []
    if n <= 0 or col.count() == 0:
        return []
    result = col.query(query_embeddings=vector.reshape(1, -1), n_results=n, where=where,
                       include=["distances", "metadatas"])
    return [(cid, distance, str((meta or {}).get("document_id", "")), int((meta or {}).get("page", 0)))
            for cid, distance, meta in zip(result["ids"][0], result["distances"][0], result["metadatas"][0],
                                           strict=True)]


def vectors(model: str, ids: list[str]) -> dict[str, np.ndarray]:
    """The stored vectors of these ids (ids without a vector are left out)."""
    if not ids:
        return {}
    found = collection(model).get(ids=ids, include=["embeddings"])
    return {cid: np.asarray(vector, dtype=np.float32) for cid, vector in zip(found["ids"], found["embeddings"],
                                                                            strict=True)}


def delete_document(model: str, document_id: uuid.UUID) -> None:
    """Remove every vector of a document."""
    collection(model).delete(where={"document_id": str(document_id)})


def count(model: str, document_id: uuid.UUID | None = None) -> int:
    """How many vectors the model's collection holds (for one document, when given)."""
    col = collection(model)
    if document_id is None:
        return col.count()
    return len(col.get(where={"document_id": str(document_id)}, include=[])["ids"])
