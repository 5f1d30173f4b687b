"""Add a document: check it, parse it page by page, chunk, embed in batches, store.

Pages go to the keyword index (core.rag.fts) as they are written; the document's profile
(what names it, for routing) goes last, just before it is marked ready. A PDF page gets one
vector, from its opening lines (its headings: where a statement or a section names itself);
embedding every chunk of every page took about 70% of the indexing time of a long filing, and
its tables are found by their words. Other documents (prose) get one vector per chunk.

Memory stays bounded for long documents: pages are read one at a time and written with
their chunks when EMBEDDING_BATCH_SIZE texts are due for embedding (a PDF's pages, other
documents' chunks): one database commit and one model call per batch. Any failure (or a cancelled
job) removes everything written so far: vectors, rows and files.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from core import storage
from core.config import get_settings
from core.db import session, utcnow
from core.errors import NotFound
from core.models.documents import Document, DocumentChunk, DocumentPage, DocumentStatus
from core.progress import Progress, no_progress
from core.rag import fts, store
from core.rag.chunking import Piece, chunk_page, make_splitter
from core.rag.documents import check_size, document_dir, file_hash, find_by_hash, purge
from core.rag.embeddings import Embedder, get_embedder
from core.rag.parsers import EmptyDocument, NeedsOcr, Page, ParsedDocument, document_type, open_document
from core.rag.route import profile
from core.rag.terms import heading

log = logging.getLogger(__name__)
EMBED_LINES = 8  # opening lines of a PDF page embedded as its vector
EMBED_CHARS = 240  # at most this much of them (about 60 tokens: the embedding cost grows with the length)
MAX_PENDING = 2000  # chunks held before a write, whatever the batch (memory stays bounded)


def add_document(path: str | Path, *, name: str | None = None, progress: Progress = no_progress) -> Document:
    """Index a PDF, DOCX, PPTX, TXT or Markdown file and return its Document row.

    A file whose bytes are already stored returns the existing document. Raises
    NotFound, UnsupportedDocument, EmptyDocument, NeedsOcr, EncryptedDocument,
    CorruptDocument (all DocumentError), TooLarge, InvalidInput or LLMError; on any
    failure nothing is left behind.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"No file at {path}.")
    display = (name or path.name).strip()[:300] or path.name
    kind = document_type(path)
    check_size(path.stat().st_size, display)
    digest = file_hash(path)
    existing = find_by_hash(digest)
    if existing is not None and not stalled(existing):
        log.info("%s is already stored as document %s", display, existing.id)
        return existing
    if existing is not None:
        log.warning("document %s stopped indexing (worker lost); indexing it again", existing.id)
        purge(existing.id, existing.embedding_model)
    parsed = open_document(path)
    embedder = get_embedder()
    doc, created = _create_row(display, kind, digest, path, embedder.name, parsed.meta)
    if not created:
        return doc
    try:
        return _index(doc, path, parsed, embedder, progress)
    except BaseException:
        _undo(doc)
        raise


def stalled(doc: Document) -> bool:
    """True for a document still 'indexing' whose indexer has not written for JOB_HEARTBEAT_TIMEOUT_S."""
    if doc.status != DocumentStatus.indexing:
        return False
    beat = doc.heartbeat_at or doc.created
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return utcnow() - beat > timedelta(seconds=get_settings().job_heartbeat_timeout_s)


def _undo(doc: Document) -> None:
    """Remove what a failed indexing wrote, without hiding the error that stopped it."""
    try:
        purge(doc.id, doc.embedding_model)
    except Exception:
        log.exception("could not fully remove the half-indexed document %s", doc.id)


def _create_row(name: str, kind: str, digest: str, path: Path, model: str, meta: dict) -> tuple[Document, bool]:
    doc = Document(name=name, type=kind, hash=digest, size_bytes=path.stat().st_size, embedding_model=model,
                   status=DocumentStatus.indexing, meta=meta, heartbeat_at=utcnow())
    try:
        with session() as s:
            s.add(doc)
    except IntegrityError:  # the same file is being added at this very moment
        other = find_by_hash(digest)
        if other is None:
            raise
        return other, False
    return doc, True


def _index(doc: Document, path: Path, parsed: ParsedDocument, embedder: Embedder, progress: Progress) -> Document:
    target = document_dir(doc.id) / f"original{path.suffix.lower()}"
    with storage.atomic_path(target) as tmp:
        shutil.copyfile(path, tmp)
    writer = _Writer(doc, embedder)
    splitter = make_splitter()
    progress(0.0, f"Reading {doc.name}")
    for page in parsed.pages:
        writer.add_page(page, chunk_page(page, splitter))
        progress(0.97 * writer.pages / max(parsed.page_count, 1),
                 f"Indexed {parsed.type.upper()} {_unit(parsed.type)} {writer.pages} of {parsed.page_count}")
    writer.flush()
    if writer.chunks == 0:
        raise _no_text(doc.name, parsed.type)
    fts.set_profile(doc.id, profile(doc.name, str(parsed.meta.get("title", "")), writer.first_page))
    return _finish(doc, target, writer)


def _unit(kind: str) -> str:
    return {"pdf": "page", "pptx": "slide"}.get(kind, "section")


def _no_text(name: str, kind: str) -> EmptyDocument:
    if kind == "pdf":
        return NeedsOcr(f"{name} has no text layer: its pages are images (a scanned document). OCR is needed.",
                        hint="Run OCR on it first (for example with OCRmyPDF) and upload the searchable PDF.")
    return EmptyDocument(f"{name} contains no text to index.", hint="Choose a document that contains text.")


def _finish(doc: Document, target: Path, writer: _Writer) -> Document:
    meta = dict(doc.meta)
    if writer.empty_pages:
        meta["pages_without_text"] = writer.empty_pages
    values = {"status": DocumentStatus.ready, "pages": writer.pages, "chunks": writer.chunks,
              "path": storage.relative(target), "indexed": utcnow(), "meta": meta}
    with session() as s:
        s.exec(update(Document).where(Document.id == doc.id).values(**values))
    return doc.model_copy(update=values)


@dataclass
class _Writer:
    """Collects pages and chunks; writes rows and vectors a batch at a time."""

    doc: Document
    embedder: Embedder
    pages: int = 0
    empty_pages: int = 0
    chunks: int = 0
    first_page: str = ""
    _pieces: list[Piece] = field(default_factory=list)
    _page_rows: list[dict] = field(default_factory=list)

    def add_page(self, page: Page, pieces: list[Piece]) -> None:
        self.pages += 1
        if not self.first_page and page.text:
            self.first_page = page.text[:4000]
        self.empty_pages += 0 if page.text else 1
        self._page_rows.append({"id": uuid.uuid4(), "document_id": self.doc.id, "number": page.number,
                                "label": page.label[:300], "text": page.text})
        self._pieces.extend(pieces)
        if self._embeddings_due() >= max(1, get_settings().embedding_batch_size) or len(self._pieces) >= MAX_PENDING:
            self.flush()

    def _embeddings_due(self) -> int:
        """How many texts the next flush embeds: a PDF's pages (one vector each), else its chunks."""
        return len(self._page_rows) if self.doc.type == "pdf" else len(self._pieces)

    def flush(self) -> None:
        pieces, self._pieces = self._pieces, []
        pages, self._page_rows = self._page_rows, []
        ids = [uuid.uuid4() for _ in pieces]
        rows = [{"id": i, "document_id": self.doc.id, "seq": self.chunks + n, "page": p.page, "start": p.start,
                 "end": p.end, "text": p.text} for n, (i, p) in enumerate(zip(ids, pieces, strict=True))]
        with session() as s:
            if pages:
                s.exec(insert(DocumentPage), params=pages)
            if rows:
                s.exec(insert(DocumentChunk), params=rows)
            s.exec(update(Document).where(Document.id == self.doc.id).values(heartbeat_at=utcnow()))
        if pages:
            fts.add_pages(self.doc.id, [(p["number"], p["text"]) for p in pages])
        embedded = self._to_embed(ids, pieces, {p["number"]: p["text"] for p in pages})
        if embedded:
            vectors = self.embedder.embed([text for _, _, text in embedded])
            store.add(self.embedder.name, [i for i, _, _ in embedded], vectors,
                      [{"document_id": str(self.doc.id), "page": page} for _, page, _ in embedded])
        self.chunks += len(pieces)

    def _to_embed(self, ids: list[uuid.UUID], pieces: list[Piece], texts: dict[int, str]) -> list[tuple]:
        """(chunk id, page, text) to embed: every chunk, or for a PDF each page's first chunk with the
        page's opening lines."""
        if self.doc.type != "pdf":
            return [(i, p.page, p.text) for i, p in zip(ids, pieces, strict=True)]
        first: dict[int, uuid.UUID] = {}
        for i, p in zip(ids, pieces, strict=True):
            first.setdefault(p.page, i)
        return [(i, page, page_vector_text(texts.get(page, "")) or next(p.text for p in pieces if p.page == page))
                for page, i in first.items()]


def page_vector_text(text: str) -> str:
    """What a PDF page's one vector is embedded from: its first lines, at most EMBED_CHARS. (Its title
    lines from all over the page, joined, scored worse on the tuning questions.)"""
    return heading(text, EMBED_LINES)[:EMBED_CHARS]
