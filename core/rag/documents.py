"""The document library: look documents up, stage uploads, read pages, delete documents."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import func, select

from core import storage
from core.config import get_settings
from core.db import find_by_ref, session
from core.errors import NotFound, TooLarge
from core.models.documents import Document, DocumentChunk, DocumentPage, DocumentStatus
from core.rag import fts, store
from core.rag.parsers import EmptyDocument, document_type

log = logging.getLogger(__name__)

BACKGROUND_PAGES = 25
BACKGROUND_BYTES = 5 * 1024 * 1024


def document_dir(document_id: uuid.UUID | str) -> Path:
    return storage.area("documents") / str(document_id)


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (how a document uploaded twice is recognised)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def check_size(size: int, name: str) -> None:
    """Raise EmptyDocument for 0 bytes and TooLarge above MAX_UPLOAD_MB."""
    limit = get_settings().max_upload_mb
    if size == 0:
        raise EmptyDocument(f"{name} is empty (0 bytes).", hint="Choose a file that contains text.")
    if size > limit * 1024 * 1024:
        raise TooLarge(f"{name} is {size / 1024 / 1024:.1f} MB, over the {limit} MB limit.",
                       hint="Raise MAX_UPLOAD_MB in the settings or split the document.")


def list_documents(*, status: str | None = None) -> list[Document]:
    """Every document, newest first (optionally only those with `status`)."""
    query = select(Document).order_by(Document.created.desc())
    if status:
        query = query.where(Document.status == status)
    with session() as s:
        return list(s.exec(query).all())


def count_documents() -> int:
    with session() as s:
        return s.exec(select(func.count()).select_from(Document)).one()


def get_document(ref: uuid.UUID | str) -> Document:
    """A document by id or by name (the newest of that name); raises NotFound."""
    row = find_by_ref(Document, ref)
    if row is None:
        raise NotFound(f"No document {str(ref)!r}.", hint="See the list on the Documents page.")
    return row


def find_by_hash(digest: str) -> Document | None:
    with session() as s:
        return s.exec(select(Document).where(Document.hash == digest)).first()


def find_duplicate(path: str | Path) -> Document | None:
    """The document already stored with the same bytes as `path`, if any."""
    return find_by_hash(file_hash(Path(path)))


def ready_documents(refs: Iterable[uuid.UUID | str | Document] | None = None) -> list[Document]:
    """The ready documents among `refs` (ids, names or rows); all ready documents when None."""
    if refs is None:
        return list_documents(status=DocumentStatus.ready)
    wanted = [get_document(r.id if isinstance(r, Document) else r) for r in refs]
    return [d for d in wanted if d.status == DocumentStatus.ready]


def get_page(document_id: uuid.UUID | str, number: int) -> DocumentPage:
    """The text of one page, slide or section; raises NotFound."""
    doc = get_document(document_id)
    with session() as s:
        page = s.exec(select(DocumentPage).where(DocumentPage.document_id == doc.id,
                                                 DocumentPage.number == number)).first()
    if page is None:
        raise NotFound(f"{doc.name} has no page {number}.")
    return page


def stage_upload(data: bytes, filename: str) -> Path:
    """Write uploaded bytes to a private folder under DATA_DIR/uploads, keeping the file's name."""
    name = Path(filename.replace("\\", "/")).name.strip() or "document"
    check_size(len(data), name)
    document_type(Path(name))
    folder = storage.area("uploads") / uuid.uuid4().hex
    target = folder / name
    with storage.atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


def discard_upload(path: Path) -> None:
    """Remove a staged upload's folder (after indexing, whatever the outcome)."""
    folder = storage.area("uploads").resolve()
    if path.resolve().parent.parent == folder:
        storage.remove_tree(path.parent)


def needs_background(path: str | Path) -> bool:
    """True for documents large enough to index as a job (over 25 pages or 5 MB)."""
    path = Path(path)
    if path.stat().st_size > BACKGROUND_BYTES:
        return True
    if path.suffix.lower() != ".pdf":
        return False
    try:
        from pypdf import PdfReader

        return len(PdfReader(str(path)).pages) > BACKGROUND_PAGES
    except Exception:  # unreadable: let indexing report it right away
        return False


def purge(document_id: uuid.UUID, model: str) -> None:
    """Remove a document's vectors, rows and files (also used to undo a failed indexing)."""
    try:
        store.delete_document(model, document_id)
    except Exception:
        log.exception("could not delete the vectors of document %s", document_id)
        raise
    finally:
        with session() as s:
            s.exec(delete(DocumentChunk).where(DocumentChunk.document_id == document_id))
            s.exec(delete(DocumentPage).where(DocumentPage.document_id == document_id))
            s.exec(delete(Document).where(Document.id == document_id))
        fts.delete(document_id)
        storage.remove_tree(document_dir(document_id))


def delete_document(ref: uuid.UUID | str) -> None:
    """Delete a document: its vectors, its pages and chunks, its row and its files."""
    doc = get_document(ref)
    purge(doc.id, doc.embedding_model)
