"""Hybrid retrieval: vector similarity (Chroma) and BM25 keywords, fused by reciprocal rank fusion."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel
from sqlmodel import select

from core.config import get_settings
from core.db import session
from core.errors import InvalidInput
from core.models.documents import Document, DocumentChunk, DocumentPage, DocumentStatus
from core.rag import keyword, store
from core.rag.documents import list_documents, ready_documents
from core.rag.embeddings import get_embedder
from core.rag.query import focus

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "vector", "keyword"]
RRF_K = 60
MAX_K = 50


class Hit(BaseModel):
    """One retrieved chunk: its text, where it comes from, and its fused score (higher is better)."""

    text: str
    document: str
    page: int
    score: float
    document_id: uuid.UUID
    chunk_id: uuid.UUID
    page_label: str = ""
    start: int = 0
    end: int = 0
    vector_rank: int | None = None
    keyword_rank: int | None = None

    @property
    def citation(self) -> str:
        """'report.pdf, page 3' — how the hit is named beside an answer."""
        return f"{self.document}, {self.page_label or f'page {self.page}'}"


def rrf(rankings: Iterable[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to the items it lists (rank from 1)."""
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            fused[item] += 1.0 / (k + rank)
    return dict(fused)


def search(query: str, *, k: int = 5, documents: Iterable[uuid.UUID | str | Document] | None = None,
           mode: Mode = "hybrid") -> list[Hit]:
    """The `k` chunks that best match `query`, from all ready documents or only `documents` (ids or names).

    mode: 'hybrid' (default), 'vector' or 'keyword'. Raises InvalidInput for an empty query
    or a bad k, NotFound for an unknown document.
    """
    query = focus(_check(query, k, mode))  # "what does the document say about X?" searches for X
    docs = ready_documents(None if documents is None else list(documents))
    if not docs:
        return []
    depth = max(4 * k, 20)
    filtered = documents is not None
    vector = _vector_ranking(query, docs, depth, filtered=filtered) if mode in ("hybrid", "vector") else []
    keywords = _keyword_ranking(query, docs, depth, filtered=filtered) if mode != "vector" else []
    fused = rrf([vector, keywords])
    best = sorted(fused, key=lambda cid: -fused[cid])[:k]
    ranks = {"vector": {c: r for r, c in enumerate(vector, 1)}, "keyword": {c: r for r, c in enumerate(keywords, 1)}}
    return _hits(best, fused, ranks, {d.id: d for d in docs})


def _check(query: str, k: int, mode: str) -> str:
    query = (query or "").strip()
    if not query:
        raise InvalidInput("The question is empty.", hint="Type a question about your documents.")
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}, not {k}.")
    if mode not in ("hybrid", "vector", "keyword"):
        raise InvalidInput(f"Unknown search mode {mode!r}.", hint="Use 'hybrid', 'vector' or 'keyword'.")
    return query[:4000]


def _vector_ranking(query: str, docs: list[Document], depth: int, *, filtered: bool) -> list[str]:
    """Nearest chunks per embedding model in use; unfiltered queries over-fetch and drop documents
    that are not ready (Chroma's metadata filter is slow on large collections)."""
    by_model: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        by_model[doc.embedding_model].add(str(doc.id))
    scored: list[tuple[float, str]] = []
    for model, ids in by_model.items():
        try:
            vector = get_embedder(model).embed([query])[0]
        except InvalidInput as exc:  # e.g. an OpenAI model without a key: keywords still find them
            log.warning("vector search skipped for %s: %s", model, exc)
            continue
        found = store.query(model, vector, depth if filtered else 2 * depth, ids if filtered else None)
        scored += [(distance, cid) for cid, distance, doc_id in found if doc_id in ids]
    return [cid for _, cid in sorted(scored)][:depth]


def _keyword_ranking(query: str, docs: list[Document], depth: int, *, filtered: bool) -> list[str]:
    ready = docs if not filtered else list_documents(status=DocumentStatus.ready)
    signature = tuple(sorted((str(d.id), d.chunks) for d in ready))
    index = keyword.cached_index(get_settings().resolved_database_url, signature,
                                 lambda: _load_chunks([d.id for d in ready]))
    allowed = [d.id for d in docs] if filtered else None
    return [str(cid) for cid, _ in index.top(query, depth, allowed)]


def _load_chunks(document_ids: list[uuid.UUID]) -> tuple[list[uuid.UUID], list[uuid.UUID], list[str]]:
    if not document_ids:
        return [], [], []
    with session() as s:
        rows = s.exec(select(DocumentChunk.id, DocumentChunk.document_id, DocumentChunk.text)
                      .where(DocumentChunk.document_id.in_(document_ids))).all()
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def _hits(chunk_ids: list[str], fused: dict[str, float], ranks: dict[str, dict[str, int]],
          docs: dict[uuid.UUID, Document]) -> list[Hit]:
    if not chunk_ids:
        return []
    ids = [uuid.UUID(c) for c in chunk_ids]
    with session() as s:
        chunks = {c.id: c for c in s.exec(select(DocumentChunk).where(DocumentChunk.id.in_(ids))).all()}
        labels = {(p[0], p[1]): p[2] for p in s.exec(
            select(DocumentPage.document_id, DocumentPage.number, DocumentPage.label).where(DocumentPage.document_id.in_({c.document_id for c in chunks.values()}),
                                       DocumentPage.number.in_({c.page for c in chunks.values()}))).all()}
    hits = []
    for cid in ids:
        chunk = chunks.get(cid)
        if chunk is None:  # deleted meanwhile
            continue
        hits.append(Hit(text=chunk.text, document=docs[chunk.document_id].name, page=chunk.page,
                        score=round(fused[str(cid)], 6), document_id=chunk.document_id, chunk_id=cid,
                        page_label=labels.get((chunk.document_id, chunk.page), ""), start=chunk.start,
                        end=chunk.end, vector_rank=ranks["vector"].get(str(cid)),
                        keyword_rank=ranks["keyword"].get(str(cid))))
    return hits
