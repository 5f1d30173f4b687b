"""AppTest: the Documents page uploads, lists, answers with cited sources, refuses bad files, deletes."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import jobs
from core import rag
from core.rag import documents
from tests.integration.test_rag_index import REPORT, embedding_model, fresh_stores  # noqa: F401 - fixtures
from tests.unit.test_rag_parsers import make_pdf
from ui.documents_view import highlighted

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/5_Documents.py"
TWO_PAGES = REPORT[:2]


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / PAGE), default_timeout=90)


def upload(at: AppTest, *files: tuple[str, bytes]) -> AppTest:
    at.file_uploader[0].set_value([(name, data, "application/octet-stream") for name, data in files]).run()
    return at.button(key="docs-add").click().run()


def test_empty_library_guides_to_upload() -> None:
    at = page().run()
    assert not at.exception
    assert any("No documents yet" in i.value for i in at.info)
    assert at.file_uploader[0].accept_multiple_files


def test_upload_ask_and_read_the_cited_page(tmp_path: Path) -> None:
    # Given the page and a two-page PDF
    pdf = make_pdf(tmp_path / "report.pdf", TWO_PAGES).read_bytes()
    at = page().run()
    # When it is uploaded
    upload(at, ("report.pdf", pdf))
    # Then it is added and listed as ready
    assert not at.exception
    assert any("Added **report.pdf**: 2 pages" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert table.loc[0, "name"] == "report.pdf" and table.loc[0, "status"] == "ready"
    # When a question is asked
    at.text_input(key="docs-question").input("How many people work for the company?")
    at.button(key="docs-ask").click().run()
    # Then the answer quotes page 2 with citation [1], and its source shows the page, passage highlighted
    assert not at.exception
    answer = at.get_by_key("docs-answer")
    text = " ".join(m.value for m in answer.markdown)
    assert "Staff grew to 120 people" in text and "**[1]**" in text
    source = at.get_by_key("docs-source-1")
    assert source.label == "[1] report.pdf, page 2"
    assert any(":orange-background[" in m.value and "120 people" in m.value for m in source.markdown)


def test_several_files_at_once_with_a_bad_one_and_a_duplicate(tmp_path: Path) -> None:
    # Given one good PDF, a password-protected one, and the good one again under another name
    good = make_pdf(tmp_path / "report.pdf", TWO_PAGES).read_bytes()
    locked = make_pdf(tmp_path / "locked.pdf", ["secret"], user_password="pw").read_bytes()
    at = page().run()
    # When all three are uploaded together
    upload(at, ("report.pdf", good), ("locked.pdf", locked), ("again.pdf", good))
    # Then the good one is added, the locked one explained, the copy recognised; nothing else stored
    assert not at.exception
    assert any("Added **report.pdf**" in s.value for s in at.success)
    assert any("locked.pdf is password-protected" in e.value for e in at.error)
    assert any("again.pdf is already in the library as **report.pdf**" in i.value for i in at.info)
    assert [d.name for d in rag.list_documents()] == ["report.pdf"]


def test_scanned_pdf_says_ocr_is_needed(tmp_path: Path) -> None:
    from tests.unit.test_rag_parsers import make_image_pdf

    at = page().run()
    upload(at, ("scan.pdf", make_image_pdf(tmp_path / "scan.pdf").read_bytes()))
    assert not at.exception
    assert any("OCR is needed" in e.value for e in at.error)
    assert rag.list_documents() == []


def test_large_document_is_indexed_as_a_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a threshold of one page for background indexing
    monkeypatch.setattr(documents, "BACKGROUND_PAGES", 1)
    at = page().run()
    # When a two-page PDF is uploaded
    upload(at, ("report.pdf", make_pdf(tmp_path / "report.pdf", TWO_PAGES).read_bytes()))
    assert any("indexed in the background" in i.value for i in at.info)
    jobs.wait_idle(60)
    at.run()
    # Then the job finished and the document is listed as ready
    assert not at.exception
    assert any("Indexed **report.pdf**: 2 pages" in s.value for s in at.success)
    assert at.dataframe[0].value.loc[0, "status"] == "ready"


def test_delete_a_document(tmp_path: Path) -> None:
    rag.add_document(make_pdf(tmp_path / "report.pdf", TWO_PAGES))
    at = page().run()
    at.button(key="docs-delete").click().run()
    assert not at.exception
    assert rag.list_documents() == []
    assert any("No documents yet" in i.value for i in at.info)


def test_empty_question_is_explained(tmp_path: Path) -> None:
    rag.add_document(make_pdf(tmp_path / "report.pdf", TWO_PAGES))
    at = page().run()
    at.button(key="docs-ask").click().run()
    assert not at.exception
    assert any("The question is empty" in e.value for e in at.error)


def test_highlight_escapes_markdown_and_marks_each_line() -> None:
    text = "Price: $5 *net*\nSecond [line] here.\nThird."
    out = highlighted(text, [(0, text.index("here") + 4)])
    assert out.startswith(":orange-background[Price\\: \\$5 \\*net\\*]  \n:orange-background[Second \\[line\\] here]")
    assert out.endswith("\\.  \nThird\\.")


def test_llm_answer_shows_the_model_and_its_citation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an OpenAI-compatible endpoint that answers citing source 1
    from core.config import reload_settings
    from tests.fakes.openai_server import FakeOpenAI

    rag.add_document(make_pdf(tmp_path / "report.pdf", TWO_PAGES))
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("LLM_MODEL", "fake-gpt")
        reload_settings()
        fake.script("The company employs 120 people [1].")
        at = page().run()
        # When a question is asked
        at.text_input(key="docs-question").input("How many people work there?")
        at.button(key="docs-ask").click().run()
    # Then the model's answer is shown with its citation and the cited page
    assert not at.exception
    text = " ".join(m.value for m in at.get_by_key("docs-answer").markdown)
    assert "The company employs 120 people **[1]**" in text
    assert any("Written by fake-gpt" in c.value for c in at.caption)
    assert at.get_by_key("docs-source-1").label.startswith("[1] report.pdf, page 2")


def test_a_hostile_heading_and_file_name_are_shown_as_text() -> None:
    # Given a Markdown document whose file name and heading are an image and a code-span break-out
    heading = "Rates `x ![m](http://127.0.0.1:9/h.png)"
    name = "![f](http://127.0.0.1:9/f.png).md"
    text = f"# {heading}\n\nThe interest rate was 3 percent in 2024.\n".encode()
    at = page().run()
    # When it is uploaded and asked about
    upload(at, (name, text))
    at.text_input(key="docs-question").input("What was the interest rate?")
    at.button(key="docs-ask").click().run()
    # Then the answer cites it, and neither the citation label nor the messages can open an image or code span
    assert not at.exception
    label = at.get_by_key("docs-source-1").label
    assert "3 percent" in " ".join(m.value for m in at.get_by_key("docs-answer").markdown)
    assert "![" not in label and "\\`x" in label and "!\\[m\\]" in label
    assert all("![" not in s.value for s in at.success)
