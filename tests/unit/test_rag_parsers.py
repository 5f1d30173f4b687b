"""Reading documents, one format at a time, with files the tests generate themselves.

The builders at the top (`make_pdf`, `make_docx`, ...) are shared with the other RAG tests.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from core.errors import DocumentError
from core.rag.parsers import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    UnsupportedDocument,
    open_document,
    text_sections,
)


# -- builders -------------------------------------------------------------------------------
def make_pdf(path: Path, pages: list[str], *, user_password: str | None = None,
             owner_password: str | None = None) -> Path:
    """A text PDF, one string per page (wrapped at 90 characters); encrypted when a password is given."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for text in pages:
        y = 800
        for paragraph in text.split("\n"):
            for line in textwrap.wrap(paragraph, 90) or [""]:
                pdf.drawString(50, y, line)
                y -= 14
        pdf.showPage()
    pdf.save()
    data = buffer.getvalue()
    if user_password is not None or owner_password is not None:
        data = _encrypt(data, user_password or "", owner_password or user_password or "owner")
    path.write_bytes(data)
    return path


def _encrypt(data: bytes, user_password: str, owner_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_image_pdf(path: Path, pages: int = 2) -> Path:
    """A 'scanned' PDF: each page is a picture of text, with no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for n in range(pages):
        image = Image.new("RGB", (600, 200), "white")
        ImageDraw.Draw(image).text((20, 80), f"Scanned page {n + 1}: revenue was high", fill="black")
        pdf.drawImage(ImageReader(image), 40, 500, width=500, height=166)
        pdf.showPage()
    pdf.save()
    return path


def make_docx(path: Path, sections: list[tuple[str, str]], table: list[list[str]] | None = None) -> Path:
    """A Word file: a heading and a paragraph per section; an optional table in the last section."""
    import docx

    document = docx.Document()
    document.add_paragraph("Preface text before any heading.")
    for heading, body in sections:
        document.add_heading(heading, level=1)
        document.add_paragraph(body)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    document.save(str(path))
    return path


def make_pptx(path: Path, slides: list[tuple[str, str, str]]) -> Path:
    """A PowerPoint file: (title, body, speaker notes) per slide."""
    import pptx

    deck = pptx.Presentation()
    for title, body, notes in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path


# -- PDF ------------------------------------------------------------------------------------
def test_pdf_pages_keep_their_numbers_and_text(tmp_path: Path) -> None:
    # Given a three-page PDF
    path = make_pdf(tmp_path / "report.pdf", ["Revenue rose in Q3.", "", "Risks: currency."])
    # When it is opened
    parsed = open_document(path)
    pages = list(parsed.pages)
    # Then each page is read on its own, empty ones included
    assert parsed.type == "pdf" and parsed.page_count == 3
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[0].text == "Revenue rose in Q3." and pages[0].label == "page 1"
    assert pages[1].text == ""
    assert "currency" in pages[2].text


def test_pdf_with_a_user_password_is_refused(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "secret.pdf", ["Top secret numbers."], user_password="hunter2")
    with pytest.raises(EncryptedDocument, match="password-protected") as err:
        open_document(path)
    assert "Remove the password" in err.value.hint


def test_pdf_encrypted_with_only_an_owner_password_opens(tmp_path: Path) -> None:
    # Given a PDF anyone may open (empty user password) but not edit
    path = make_pdf(tmp_path / "locked.pdf", ["Readable text."], owner_password="owner-only")
    # When opened / Then its text is there
    assert [p.text for p in open_document(path).pages] == ["Readable text."]


def test_scanned_pdf_has_pages_without_text(tmp_path: Path) -> None:
    parsed = open_document(make_image_pdf(tmp_path / "scan.pdf", pages=2))
    assert parsed.page_count == 2
    assert [p.text for p in parsed.pages] == ["", ""]


@pytest.mark.parametrize("data", [b"hello, not a pdf", b"%PDF-1.4\n" + b"x" * 500], ids=["no-header", "garbage"])
def test_damaged_pdf_is_reported(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(CorruptDocument, match=r"broken\.pdf"):
        open_document(path)


# -- Word -----------------------------------------------------------------------------------
def test_docx_sections_follow_headings_and_tables_are_rows(tmp_path: Path) -> None:
    # Given a Word file with two headed sections and a table at the end
    path = make_docx(tmp_path / "notes.docx", [("Introduction", "We study churn."),
                                               ("Results", "Churn fell by 3 points.")],
                     table=[["Region", "Churn"], ["North", "4%"]])
    # When opened
    pages = list(open_document(path).pages)
    # Then the preface, each heading's section and the table rows are there, labelled by heading
    assert [p.label for p in pages] == ["start", "Introduction", "Results"]
    assert pages[1].text.startswith("Introduction\nWe study churn.")
    assert "Region | Churn" in pages[2].text and "North | 4%" in pages[2].text


@pytest.mark.parametrize(("data", "message"), [
    (b"this is plain text, not a zip", "not a valid .docx"),
    (b"PK\x03\x04" + b"\x00" * 200, "damaged"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old binary Office file"),
], ids=["not-zip", "broken-zip", "legacy-doc"])
def test_damaged_docx_is_reported(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "bad.docx"
    path.write_bytes(data)
    with pytest.raises(CorruptDocument, match=message):
        open_document(path)


def test_docx_missing_its_main_part_is_damaged(tmp_path: Path) -> None:
    # Given a real .docx whose word/document.xml was removed
    import zipfile

    good = make_docx(tmp_path / "good.docx", [("A", "b")])
    bad = tmp_path / "bad.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item, src.read(item.filename))
    with pytest.raises(CorruptDocument, match="damaged"):
        open_document(bad)


# -- PowerPoint -----------------------------------------------------------------------------
def test_pptx_slides_carry_titles_and_notes(tmp_path: Path) -> None:
    path = make_pptx(tmp_path / "deck.pptx", [("Plan", "Ship in May", "Say the date twice"),
                                              ("Budget", "Two million", "")])
    parsed = open_document(path)
    pages = list(parsed.pages)
    assert parsed.page_count == 2
    assert pages[0].label == "slide 1: Plan"
    assert "Ship in May" in pages[0].text and "Notes: Say the date twice" in pages[0].text
    assert "Notes" not in pages[1].text


def test_damaged_pptx_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "deck.pptx"
    path.write_bytes(b"PK\x03\x04 truncated archive")
    with pytest.raises(CorruptDocument, match="PowerPoint"):
        open_document(path)


# -- text and Markdown ----------------------------------------------------------------------
def test_markdown_sections_at_headings_but_not_inside_code(tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("Intro line.\n\n# Install\nRun make.\n```\n# not a heading\n```\n## Use\nOpen the app.\n")
    pages = list(open_document(path).pages)
    assert [p.label for p in pages] == ["part 1", "Install", "Use"]
    assert "# not a heading" in pages[1].text


def test_plain_text_without_headings_is_cut_into_parts() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 80 for i in range(30))
    pages = list(text_sections(text))
    assert len(pages) > 1
    assert all(p.label.startswith("part ") for p in pages)
    assert "".join(p.text for p in pages).count("Paragraph") == 30


def test_text_encodings(tmp_path: Path) -> None:
    utf16 = tmp_path / "u16.txt"
    utf16.write_bytes("Café au lait".encode("utf-16"))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Crème brûlée".encode("cp1252"))
    assert next(iter(open_document(utf16).pages)).text == "Café au lait"
    assert next(iter(open_document(latin).pages)).text == "Crème brûlée"


def test_binary_file_named_txt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(CorruptDocument, match="looks binary"):
        open_document(path)


# -- every format: empty and unsupported ----------------------------------------------------
@pytest.mark.parametrize("name", ["empty.pdf", "empty.docx", "empty.pptx", "empty.txt", "empty.md"])
def test_empty_files_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(EmptyDocument, match="empty"):
        open_document(path)


def test_white_space_only_text_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("   \n\n\t\n")
    with pytest.raises(EmptyDocument, match="only white space"):
        open_document(path)


@pytest.mark.parametrize(("name", "hint"), [("old.doc", "Save it as .docx"), ("data.xlsx", "Supported: PDF"),
                                            ("noext", "Supported: PDF")])
def test_unsupported_types_say_what_is_supported(tmp_path: Path, name: str, hint: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"something")
    with pytest.raises(UnsupportedDocument) as err:
        open_document(path)
    assert isinstance(err.value, DocumentError)
    assert hint in err.value.hint


def test_password_protected_docx_is_refused(tmp_path: Path) -> None:
    # Given a Word file encrypted the way Office does it (an OLE container)
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = make_docx(tmp_path / "plain.docx", [("Salary", "Confidential numbers.")])
    locked = tmp_path / "locked.docx"
    with plain.open("rb") as src, locked.open("wb") as out:
        OOXMLFile(src).encrypt("pw", out)
    # When opened / Then the message says it is password-protected
    with pytest.raises(EncryptedDocument, match="password-protected"):
        open_document(locked)


_HEADING = b'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>h</w:t></w:r></w:p>'
_PARAGRAPH = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"


def _swollen_docx(path: Path, block: bytes, count: int) -> Path:
    """A small Word file whose body repeats `block` `count` times (it packs a thousandfold)."""
    import zipfile

    make_docx(path.with_suffix(".base.docx"), [("Intro", "text")])
    with zipfile.ZipFile(path.with_suffix(".base.docx")) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                start = data.index(b"<w:body>") + len(b"<w:body>")
                data = data[:start] + block * count + data[start:]
            dst.writestr(info.filename, data)
    return path


SWOLLEN = [
    ("headings.docx", _HEADING, 700_000, "MB of XML, over the 48 MB"),
    ("paragraphs.docx", _PARAGRAPH, 120_000, "more than 50,000 paragraphs and tables"),
]


@pytest.mark.parametrize(("name", "block", "count", "words"), SWOLLEN, ids=[s[0] for s in SWOLLEN])
def test_a_small_docx_with_a_huge_body_is_refused_quickly(tmp_path: Path, name: str, block: bytes, count: int,
                                                          words: str) -> None:
    import json
    import subprocess
    import sys

    # Given a few hundred KB of Word file that holds tens of MB of paragraphs (>100 s to walk before)
    path = _swollen_docx(tmp_path / name, block, count)
    assert path.stat().st_size < 2 * 2**20
    # When a child opens it, with a time limit far below what walking every paragraph took
    script = ("import json, sys; from pathlib import Path; from core.errors import DocumentError\n"
              "from core.rag.parsers import open_document\n"
              "try:\n    open_document(Path(sys.argv[1])); print(json.dumps({'message': ''}))\n"
              "except DocumentError as exc:\n    print(json.dumps({'message': str(exc)}))\n")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60,
                          cwd=str(Path(__file__).resolve().parents[2]))
    # Then it is refused with a DocumentError naming the limit
    assert done.returncode == 0, done.stderr[-1500:]
    assert words in json.loads(done.stdout.strip().splitlines()[-1])["message"]
