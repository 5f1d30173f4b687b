"""Indexing and asking against the real stack: SQLite (and PostgreSQL), a Chroma persistent store,
the bundled embedding model, the in-process job worker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

import jobs
from core import rag, storage
from core.config import reload_settings
from core.db import session
from core.errors import DocumentError, NotFound
from core.models.documents import Document, DocumentChunk, DocumentPage
from core.rag import keyword, store
from core.rag.embeddings import LOCAL_MODEL, _local_model
from tests.unit.test_rag_parsers import make_docx, make_image_pdf, make_pdf, make_pptx

REPORT = [
    "Quarterly report. Revenue in the third quarter was 4.2 million euros, up 12 percent on last year.",
    "Operations. The company opened a new office in Lyon in May. Staff grew to 120 people.",
    "Risks. Supply chain delays and currency fluctuations could reduce margins next year.",
]


@pytest.fixture(scope="session")
def embedding_model() -> object:
    """Load the local model once for the whole test session."""
    return _local_model()


@pytest.fixture(autouse=True)
def fresh_stores(embedding_model: object) -> Iterator[None]:
    yield
    keyword.clear()
    store.reset()


def rows(model: type) -> int:
    with session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def nothing_left() -> None:
    """No document row, page, chunk, vector or file anywhere."""
    assert rows(Document) == rows(DocumentPage) == rows(DocumentChunk) == 0
    assert store.count(LOCAL_MODEL) == 0
    assert list(storage.area("documents").iterdir()) == []


def test_pdf_is_indexed_searched_and_answered_with_page_citations(tmp_path: Path) -> None:
    # Given a three-page PDF
    pdf = make_pdf(tmp_path / "report.pdf", REPORT)
    # When it is added
    doc = rag.add_document(pdf)
    # Then its row, pages, chunks, vectors and file are stored
    assert (doc.status, doc.type, doc.pages, doc.embedding_model) == ("ready", "pdf", 3, LOCAL_MODEL)
    assert doc.chunks == rows(DocumentChunk) == store.count(LOCAL_MODEL, doc.id) == 3
    assert storage.absolute(doc.path).read_bytes() == pdf.read_bytes()
    assert rag.get_document(doc.id).hash == doc.hash
    # And a search finds the right page, by meaning and by keyword
    hits = rag.search("How many employees are there?", k=2)
    assert hits[0].page == 2 and hits[0].document == "report.pdf" and hits[0].vector_rank == 1
    assert rag.search("Lyon", k=1)[0].keyword_rank == 1
    # And an offline answer quotes page 1 and cites it
    answer = rag.ask("What was the revenue in the third quarter?")
    assert answer.found and answer.mode == "extractive"
    assert "4.2 million euros" in answer.text and answer.citations[0].hit.page == 1
    assert "Revenue" in rag.get_page(doc.id, answer.citations[0].hit.page).text


def test_question_outside_the_documents_is_not_found(tmp_path: Path) -> None:
    rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    answer = rag.ask("Which painter made the Mona Lisa?")
    assert not answer.found and answer.text == rag.NOT_FOUND


def test_every_format_is_searchable_by_its_page_slide_or_section(tmp_path: Path) -> None:
    # Given one document of each format
    rag.add_document(make_docx(tmp_path / "plan.docx", [("Hiring", "We will hire four data engineers."),
                                                        ("Budget", "The budget is 2 million.")]))
    rag.add_document(make_pptx(tmp_path / "deck.pptx", [("Launch", "Product launch in October", "Mention Berlin"),
                                                        ("Pricing", "Nine euros per month", "")]))
    (tmp_path / "faq.md").write_text("# Refunds\nRefunds take 14 days.\n\n# Shipping\nWe ship to Canada.\n")
    rag.add_document(tmp_path / "faq.md")
    (tmp_path / "memo.txt").write_text("The cafeteria closes at 3 pm on Fridays.")
    rag.add_document(tmp_path / "memo.txt")
    # When searched / Then the hit names the right section, slide (notes included) or part
    assert rag.search("data engineers hiring", k=1)[0].page_label == "Hiring"
    berlin = rag.search("Berlin", k=1)[0]
    assert (berlin.document, berlin.page_label) == ("deck.pptx", "slide 1: Launch")
    assert rag.search("refund delay days", k=1)[0].page_label == "Refunds"
    assert rag.search("cafeteria Friday", k=1)[0].document == "memo.txt"
    assert {d.type for d in rag.list_documents()} == {"docx", "pptx", "md", "txt"}


def test_search_can_be_limited_to_some_documents(tmp_path: Path) -> None:
    report = rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    other = rag.add_document(make_pdf(tmp_path / "other.pdf", ["Revenue of the bakery was 80 thousand euros."]))
    assert {h.document_id for h in rag.search("revenue", documents=[other.id])} == {other.id}
    assert {h.document_id for h in rag.search("revenue", documents=["report.pdf"])} == {report.id}
    with pytest.raises(NotFound):
        rag.search("revenue", documents=["no-such.pdf"])


def test_the_same_file_uploaded_twice_is_recognised_by_its_hash(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "report.pdf", REPORT)
    first = rag.add_document(pdf)
    copy = tmp_path / "copy of report.pdf"
    copy.write_bytes(pdf.read_bytes())
    assert rag.find_duplicate(copy).id == first.id
    second = rag.add_document(copy)
    assert second.id == first.id
    assert rows(Document) == 1 and store.count(LOCAL_MODEL) == first.chunks


def test_delete_removes_vectors_rows_and_files(tmp_path: Path) -> None:
    doc = rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    assert rag.search("Lyon")  # the keyword index now holds it
    rag.delete_document(doc.id)
    nothing_left()
    assert rag.search("Lyon") == []
    with pytest.raises(NotFound):
        rag.get_document(doc.id)


BAD_INPUTS = {
    "encrypted.pdf": lambda p: make_pdf(p, ["secret"], user_password="pw"),
    "scanned.pdf": lambda p: make_image_pdf(p),
    "corrupt.docx": lambda p: p.write_bytes(b"PK\x03\x04 not really a docx"),
    "corrupt.pptx": lambda p: p.write_bytes(b"\x00\x01 definitely not a pptx"),
    "empty.pdf": lambda p: p.write_bytes(b""),
    "table.xlsx": lambda p: p.write_bytes(b"PK\x03\x04 spreadsheet"),
}
MESSAGES = {"encrypted.pdf": "password-protected", "scanned.pdf": "OCR is needed", "corrupt.docx": "damaged",
            "corrupt.pptx": "not a valid .pptx", "empty.pdf": "empty", "table.xlsx": "cannot be added"}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gives_a_clear_message_and_leaves_nothing(tmp_path: Path, name: str) -> None:
    # Given a bad file
    path = tmp_path / name
    BAD_INPUTS[name](path)
    # When it is added / Then a DocumentError explains, and nothing is half-indexed
    with pytest.raises(DocumentError, match=MESSAGES[name]):
        rag.add_document(path)
    nothing_left()


def test_a_failure_midway_removes_the_vectors_already_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    # Given small embedding batches and a vector store that fails on the third batch
    monkeypatch.setenv("EMBEDDING_BATCH_SIZE", "2")
    reload_settings()
    real_add, calls = store.add, []

    def flaky_add(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        real_add(*args, **kwargs)

    monkeypatch.setattr(store, "add", flaky_add)
    # When a ten-page PDF is added / Then the error surfaces and the two stored batches are gone
    with pytest.raises(RuntimeError, match="disk full"):
        rag.add_document(make_pdf(tmp_path / "long.pdf", [f"Page {i} about topic {i}." for i in range(10)]))
    assert len(calls) == 3
    nothing_left()


def test_a_long_pdf_indexes_as_a_job_with_progress_in_bounded_batches(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 1,000-page PDF staged like an upload, and batches of 64 chunks
    monkeypatch.setenv("EMBEDDING_BATCH_SIZE", "64")
    reload_settings()
    pages = [f"Section {i}. The inspection of turbine {i} found wear level {i % 7}." for i in range(1000)]
    pdf = make_pdf(tmp_path / "manual.pdf", pages)
    staged = rag.stage_upload(pdf.read_bytes(), "manual.pdf")
    assert rag.needs_background(staged)
    batch_sizes: list[int] = []
    real_add = store.add
    monkeypatch.setattr(store, "add", lambda model, ids, *a: (batch_sizes.append(len(ids)), real_add(model, ids, *a)))
    # When it is submitted as a job and the worker runs it
    job = jobs.submit("rag.index", path=str(staged), name="manual.pdf", staged=True)
    jobs.wait_idle(240)
    # Then the job succeeded with a progress trail, the document is ready, and the staged file is gone
    done = jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert (done.queue, done.progress, done.result["pages"]) == ("analysis_tasks", 1.0, 1000)
    doc = rag.get_document(done.result["document_id"])
    assert doc.status == "ready" and doc.chunks == 1000 == store.count(LOCAL_MODEL, doc.id)
    assert not staged.exists()
    # And vectors were written a batch at a time, never the whole document at once
    assert len(batch_sizes) >= 15 and max(batch_sizes) <= 64
    assert rag.search("turbine 737", k=1)[0].page == 738


def test_progress_is_reported_page_by_page(tmp_path: Path) -> None:
    seen: list[tuple[float | None, str | None]] = []
    pdf = make_pdf(tmp_path / "five.pdf", [f"Page {i} text." for i in range(5)])
    rag.add_document(pdf, progress=lambda fraction=None, message=None, metrics=None: seen.append((fraction, message)))
    fractions = [f for f, _ in seen if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] > 0.9
    assert any(m == "Indexed PDF page 5 of 5" for _, m in seen)


def test_a_job_for_a_bad_file_fails_with_the_message_and_leaves_nothing(tmp_path: Path) -> None:
    staged = rag.stage_upload(make_pdf(tmp_path / "secret.pdf", ["x"], user_password="pw").read_bytes(), "secret.pdf")
    job = jobs.submit("rag.index", path=str(staged), name="secret.pdf", staged=True)
    jobs.wait_idle(60)
    done = jobs.get_job(job.id)
    assert done.status == "failed" and "password-protected" in done.error
    assert not staged.exists()
    nothing_left()


def test_documents_work_on_sqlite_and_postgresql(backend: str, tmp_path: Path) -> None:
    doc = rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    assert rag.search("office in Lyon", k=1)[0].page == 2
    assert [d.id for d in rag.list_documents()] == [doc.id]
    rag.delete_document(doc.id)
    assert rag.list_documents() == []


def test_a_cancelled_indexing_leaves_nothing(tmp_path: Path) -> None:
    # Given a progress callback that cancels on the third page, as a cancelled job's does
    from core.errors import JobCancelled

    def cancel_at_page_3(fraction: float | None = None, message: str | None = None, metrics: object = None) -> None:
        if message and message.startswith("Indexed PDF page 3"):
            raise JobCancelled()

    pdf = make_pdf(tmp_path / "long.pdf", [f"Page {i} about topic {i}." for i in range(6)])
    # When indexing runs / Then it stops and everything written so far is removed
    with pytest.raises(JobCancelled):
        rag.add_document(pdf, progress=cancel_at_page_3)
    nothing_left()


def test_a_document_whose_indexer_died_is_indexed_again(tmp_path: Path) -> None:
    # Given a document left 'indexing' by a worker that died long ago
    from datetime import timedelta

    from sqlalchemy import update

    from core.db import utcnow

    pdf = make_pdf(tmp_path / "report.pdf", REPORT)
    first = rag.add_document(pdf)
    with session() as s:
        s.exec(update(Document).where(Document.id == first.id).values(
            status="indexing", heartbeat_at=utcnow() - timedelta(hours=1)))
    assert rag.stalled(rag.get_document(first.id))
    # When the same file is added again / Then it is indexed afresh and the stale one is gone
    second = rag.add_document(pdf)
    assert second.id != first.id and second.status == "ready"
    assert rows(Document) == 1 and store.count(LOCAL_MODEL) == second.chunks
    assert not rag.stalled(second)


def test_documents_still_indexing_are_not_searched(tmp_path: Path) -> None:
    # Given a ready document and one whose indexing is still running (its vectors already stored)
    from sqlalchemy import update

    from core.db import utcnow

    ready = rag.add_document(make_pdf(tmp_path / "bakery.pdf", ["The bakery in Lyon sells bread."]))
    busy = rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    with session() as s:
        s.exec(update(Document).where(Document.id == busy.id).values(status="indexing", heartbeat_at=utcnow()))
    # When searching everything / Then only the ready document answers, by vector and by keyword
    hits = rag.search("office in Lyon", k=5)
    assert hits and {h.document_id for h in hits} == {ready.id}
