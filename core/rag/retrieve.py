"""Hybrid retrieval over pages: route to the documents the question names, rank their pages by BM25
(the persistent FTS5 index, financial-statement aware) and vector similarity, return the best chunk
of each of the best pages.

A hit is a page's best chunk and no two hits share a page, so five hits are five places to look.
Vector-only search ranks chunks by similarity alone, as before.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

import numpy as np
from pydantic import BaseModel
from sqlmodel import select

from core import users
from core.db import session
from core.errors import InvalidInput
from core.models.documents import Document, DocumentChunk, DocumentPage
from core.rag import fts, store
from core.rag.documents import ready_documents
from core.rag.embeddings import get_embedder
from core.rag.keyword import tokenize
from core.rag.query import focus
from core.rag.rerank import asked_years, year_scores
from core.rag.route import MENTION_SHARE, asked_words, profile, proper_words, route
from core.rag.terms import query_kinds, query_terms, terms

log = logging.getLogger(__name__)

Mode = Literal["hybrid", "vector", "keyword"]
RRF_K = 60
MAX_K = 50
KIND_BOOST = 0.5  # a page that is the statement the question needs (balance sheet, income, cash flows)
VECTOR_WEIGHT = 1.5  # times the cosine similarity of the page's opening lines (keywords give up to 1; tuned on the tuning half)
RERANK_DEPTH = 20  # the best pages of the first pass that the year feature reranks
YEAR_WEIGHT = 0.3  # times a page's share of the years the question names (core.rag.rerank; tuned on the tuning half)


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
    by_id = {d.id: d for d in docs}
    if mode == "vector":
        vector = _vector_ranking(query, docs, depth, filtered=filtered)
        fused = {cid: 1.0 / (RRF_K + rank) for rank, cid in enumerate(vector, 1)}
        return _hits(vector[:k], fused, {"vector": {c: r for r, c in enumerate(vector, 1)}, "keyword": {}}, by_id)
    return _page_search(query, docs, k, depth, filtered=filtered, mode=mode)


def _page_search(query: str, docs: list[Document], k: int, depth: int, *, filtered: bool, mode: Mode) -> list[Hit]:
    allowed = {str(d.id) for d in docs}
    sync_index(docs)
    scope = _routed(query, allowed)
    limited = filtered or scope != allowed
    matches = fts.search(query_terms(query), 2 * depth, scope if limited else None)
    matches = [m for m in matches if m.document_id in scope][:depth]
    kinds = query_kinds(query)
    if kinds:  # the statements the question needs, even where other pages share more of its words
        seen = {(m.document_id, m.page) for m in matches}
        statements = fts.search(query_terms(query), depth, scope if limited else None, kinds=kinds)
        matches += [m for m in statements if m.document_id in scope and (m.document_id, m.page) not in seen]
    scores: dict[tuple[str, int], float] = defaultdict(float)
    top = max((m.score for m in matches), default=0.0) or 1.0
    keyword_rank = {}
    for rank, m in enumerate(matches, 1):
        key = (m.document_id, m.page)
        scores[key] = m.score / top + (KIND_BOOST if kinds & m.kinds else 0.0)
        keyword_rank[key] = rank
    vector_rank = {}
    if mode == "hybrid":
        in_scope = [d for d in docs if str(d.id) in scope]
        nearest, others = _vector_pages(query, in_scope, depth, filtered=limited, also=list(scores))
        for rank, (key, similarity) in enumerate(nearest, 1):
            scores[key] += VECTOR_WEIGHT * similarity
            vector_rank[key] = rank
        for key, similarity in others.items():  # keyword pages beyond the nearest: their own similarity, not 0
            scores[key] += VECTOR_WEIGHT * similarity
    _rerank(query, scores)
    best = sorted(scores, key=lambda key: -scores[key])[:k]
    return _page_hits(query, best, scores, keyword_rank, vector_rank, {str(d.id): d for d in docs})


def _rerank(query: str, scores: dict[tuple[str, int], float]) -> None:
    """Add the year feature (core.rag.rerank) to the RERANK_DEPTH best pages' scores, in place."""
    if YEAR_WEIGHT <= 0 or not asked_years(query):
        return
    top = sorted(scores, key=lambda key: -scores[key])[:RERANK_DEPTH]
    for key, share in year_scores(query, _page_texts(top)).items():
        scores[key] += YEAR_WEIGHT * share


def _page_texts(pages: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    if not pages:
        return {}
    wanted = set(pages)
    with session() as s:
        rows = s.exec(select(DocumentPage.document_id, DocumentPage.number, DocumentPage.text)
                      .where(DocumentPage.document_id.in_({uuid.UUID(d) for d, _ in pages}),
                             DocumentPage.number.in_({p for _, p in pages}))).all()
    return {(str(d), n): text for d, n, text in rows if (str(d), n) in wanted}


def _routed(query: str, allowed: set[str]) -> set[str]:
    """The ready documents the question names (all of them when it names none)."""
    if len(allowed) < 2:
        return allowed
    profiles = fts.profiles(allowed)
    asked = asked_words(query) | set(tokenize(query)) | set(query_terms(query))
    frequency = fts.document_frequency(asked | proper_words(query))
    rare = [w for w in proper_words(query) if 0 < frequency.get(w, 0) <= max(1.0, MENTION_SHARE * len(allowed))
            and not w.isdigit()]
    chosen = route(query, profiles, frequency, len(allowed), fts.documents_using(rare))
    return allowed if not chosen else chosen & allowed


def sync_index(docs: list[Document]) -> None:
    """Add ready documents the keyword index lacks (indexed before it existed, or a lost write) from their
    stored pages; drop documents it holds that the database no longer has."""
    indexed = fts.documents()
    missing = [d for d in docs if str(d.id) not in indexed]
    for doc in missing:
        with session() as s:
            pages = s.exec(select(DocumentPage.number, DocumentPage.text)
                           .where(DocumentPage.document_id == doc.id).order_by(DocumentPage.number)).all()
        fts.delete(doc.id)
        fts.add_pages(doc.id, [(p[0], p[1]) for p in pages])
        fts.set_profile(doc.id, _profile(doc, pages[0][1] if pages else ""))
    if len(indexed) > len(docs):
        with users.as_system(), session() as s:  # every user's documents, not only the acting user's
            known = {str(i) for i in s.exec(select(Document.id)).all()}
        for stale in indexed - known:
            fts.delete(stale)


def _profile(doc: Document, first_page: str) -> dict:
    return profile(doc.name, str((doc.meta or {}).get("title", "")), first_page)


def _vector_pages(query: str, docs: list[Document], depth: int, *, filtered: bool,
                  also: list[tuple[str, int]] = ()) -> tuple[list[tuple[tuple[str, int], float]], dict]:
    """Pages by their best vector's cosine similarity, best first; and the similarity of the pages in
    `also` that are not among those (from their stored vectors)."""
    by_model: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        by_model[doc.embedding_model].add(str(doc.id))
    best: dict[tuple[str, int], float] = {}
    others: dict[tuple[str, int], float] = {}
    for model, ids in by_model.items():
        try:
            vector = get_embedder(model).embed([query])[0]
        except InvalidInput as exc:  # e.g. an OpenAI model without a key: keywords still find them
            log.warning("vector search skipped for %s: %s", model, exc)
            continue
        for _cid, distance, doc_id, page in store.query_pages(model, vector, depth if filtered else 2 * depth,
                                                             ids if filtered else None):
            if doc_id in ids:
                key = (doc_id, page)
                best[key] = max(best.get(key, -1.0), 1.0 - distance)
        nearest = set(sorted(best, key=lambda key: -best[key])[:depth])
        wanted = [key for key in also if key[0] in ids and key not in nearest]
        others.update(_page_similarities(model, vector, wanted))
    ranked = sorted(best.items(), key=lambda item: -item[1])[:depth]
    listed = {key for key, _ in ranked}
    return ranked, {key: value for key, value in others.items() if key not in listed}


def _page_similarities(model: str, vector: np.ndarray, pages: list[tuple[str, int]]) -> dict[tuple[str, int], float]:
    """Each page's best cosine similarity to `vector`, from the stored vectors of its chunks (a PDF page
    has one, on its first chunk)."""
    if not pages:
        return {}
    with session() as s:
        rows = s.exec(select(DocumentChunk.id, DocumentChunk.document_id, DocumentChunk.page)
                      .where(DocumentChunk.document_id.in_({uuid.UUID(d) for d, _ in pages}),
                             DocumentChunk.page.in_({p for _, p in pages}))).all()
    wanted = set(pages)
    owner = {str(cid): (str(doc), page) for cid, doc, page in rows if (str(doc), page) in wanted}
    found: dict[tuple[str, int], float] = {}
    for cid, stored in store.vectors(model, list(owner)).items():
        key = owner[cid]
        found[key] = max(found.get(key, -1.0), float(np.dot(stored, vector)))
    return found


def _page_hits(query: str, pages: list[tuple[str, int]], scores: dict, keyword_rank: dict, vector_rank: dict,
               docs: dict[str, Document]) -> list[Hit]:
    """Each page's chunk that shares the most question words (its first chunk on a tie)."""
    if not pages:
        return []
    wanted = set(query_terms(query)) | set(tokenize(query))
    with session() as s:
        rows = s.exec(select(DocumentChunk).where(DocumentChunk.document_id.in_({uuid.UUID(d) for d, _ in pages}),
                                                  DocumentChunk.page.in_({p for _, p in pages}))).all()
        labels = {(str(p[0]), p[1]): p[2] for p in s.exec(
            select(DocumentPage.document_id, DocumentPage.number, DocumentPage.label)
            .where(DocumentPage.document_id.in_({uuid.UUID(d) for d, _ in pages}),
                   DocumentPage.number.in_({p for _, p in pages}))).all()}
    chunks: dict[tuple[str, int], list[DocumentChunk]] = defaultdict(list)
    for chunk in rows:
        chunks[(str(chunk.document_id), chunk.page)].append(chunk)
    hits = []
    for key in pages:
        candidates = sorted(chunks.get(key, []), key=lambda c: c.seq)
        if not candidates:  # deleted meanwhile
            continue
        chunk = max(candidates, key=lambda c: len(wanted & set(terms(c.text))))
        doc = docs[key[0]]
        hits.append(Hit(text=chunk.text, document=doc.name, page=chunk.page, score=round(scores[key], 6),
                        document_id=chunk.document_id, chunk_id=chunk.id, page_label=labels.get(key, ""),
                        start=chunk.start, end=chunk.end, vector_rank=vector_rank.get(key),
                        keyword_rank=keyword_rank.get(key)))
    return hits


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
