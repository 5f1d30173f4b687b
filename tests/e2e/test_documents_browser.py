"""Browser: upload a PDF on the Documents page, ask a question, open the cited source page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for_app, wait_for_cell
from tests.unit.test_rag_parsers import make_pdf

pytestmark = pytest.mark.e2e


def test_upload_ask_and_open_the_citation(app, page, tmp_path: Path) -> None:
    # Given a two-page PDF and the Documents page
    pdf = make_pdf(tmp_path / "report.pdf", [
        "Quarterly report. Revenue in the third quarter was 4.2 million euros, up 12 percent.",
        "Operations. The company opened a new office in Lyon in May. Staff grew to 120 people.",
    ])
    page.goto(app.page_url("Documents"))
    wait_for_app(page)
    page.get_by_text("No documents yet").wait_for()
    # When it is uploaded and added
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(pdf))
    page.get_by_role("button", name="Add documents").click()
    page.get_by_text("Added report.pdf: 2 pages").wait_for(timeout=120_000)
    wait_for_cell(page, "report.pdf")
    # And a question is asked
    page.get_by_label("Question").fill("How many people does the company employ?")
    page.get_by_role("button", name="Ask").click()
    # Then the answer quotes the right sentence with a citation
    answer = page.locator('[data-testid="stVerticalBlock"]', has_text="Q: How many people").last
    answer.get_by_text("Staff grew to 120 people.").first.wait_for(timeout=60_000)
    assert "[1]" in answer.inner_text()
    # When the citation is opened / Then the cited page's text is shown
    source = page.locator('[data-testid="stExpander"]', has_text="[1] report.pdf, page 2")
    source.get_by_text("[1] report.pdf, page 2").click()
    source.get_by_text("Operations").first.wait_for(state="visible")
    assert "new office in Lyon" in source.inner_text()
    # When a password-protected PDF is uploaded / Then the page says so and lists nothing new
    locked = make_pdf(tmp_path / "locked.pdf", ["secret"], user_password="pw")
    page.get_by_text("Upload documents").click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(locked))
    page.get_by_role("button", name="Add documents").click()
    page.get_by_text("locked.pdf is password-protected.").wait_for(timeout=60_000)
    assert page.get_by_text("Library (1)").count() == 1
