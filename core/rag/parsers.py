"""Read PDF, Word, PowerPoint, text and Markdown files into pages of plain text.

A *page* is a PDF page, a slide (with its notes), or a section (DOCX headings,
Markdown headings). `open_document` does the cheap checks (type, encryption,
damage) before any indexing starts; page text is produced lazily for PDFs so a
1,000-page file never sits in memory twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DocumentError

log = logging.getLogger(__name__)

TYPES = {".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".txt": "txt", ".md": "md", ".markdown": "md"}
LEGACY = {".doc": ".docx", ".ppt": ".pptx", ".rtf": ".docx", ".odt": ".docx", ".odp": ".pptx"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_PART_CHARS = 4000
MAX_OFFICE_XML_MB = 48  # XML a .docx/.pptx may expand to (a 300 KB file can hold 77 MB of paragraphs)
MAX_DOCX_BLOCKS = 50_000  # paragraphs and tables in a Word document's body (walking them grows faster than linear)


class UnsupportedDocument(DocumentError):
    """A file type the document reader does not handle."""


class EncryptedDocument(DocumentError):
    """A password-protected file."""


class CorruptDocument(DocumentError):
    """A file that claims a type but cannot be read as it."""


class EmptyDocument(DocumentError):
    """A file with no text to index."""


class NeedsOcr(EmptyDocument):
    """A PDF whose pages are images without a text layer."""


@dataclass(frozen=True)
class Page:
    """One page, slide or section: `number` counts from 1; `label` is what a citation shows."""

    number: int
    label: str
    text: str


@dataclass
class ParsedDocument:
    """An opened document: its type, how many pages it has, and its pages (lazily)."""

    type: str
    page_count: int
    pages: Iterable[Page]
    meta: dict[str, Any] = field(default_factory=dict)


def document_type(path: Path) -> str:
    """The document type ('pdf', 'docx', 'pptx', 'txt', 'md') of a file name; raises UnsupportedDocument."""
    suffix = path.suffix.lower()
    if suffix in TYPES:
        return TYPES[suffix]
    hint = f"Save it as {LEGACY[suffix]} and upload that." if suffix in LEGACY else ""
    raise UnsupportedDocument(
        f"{path.name}: files of type '{suffix or 'none'}' cannot be added as documents.",
        hint=hint or "Supported: PDF, Word (.docx), PowerPoint (.pptx), text (.txt) and Markdown (.md).",
    )


def open_document(path: Path) -> ParsedDocument:
    """Open a document for reading; raises UnsupportedDocument, EncryptedDocument, CorruptDocument, EmptyDocument."""
    kind = document_type(path)
    if path.stat().st_size == 0:
        raise EmptyDocument(f"{path.name} is empty (0 bytes).", hint="Choose a file that contains text.")
    opener = {"pdf": _open_pdf, "docx": _open_docx, "pptx": _open_pptx, "txt": _open_text, "md": _open_text}[kind]
    return opener(path)


def clean(text: str) -> str:
    """Normalise extracted text: no NULs, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))  # linear, unlike [ \t]+\n
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _head(path: Path, n: int = 1024) -> bytes:
    with path.open("rb") as f:
        return f.read(n)


# -- PDF ------------------------------------------------------------------------------------
def _open_pdf(path: Path) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if b"%PDF" not in _head(path):
        raise CorruptDocument(f"{path.name} is not a PDF file (no PDF header).",
                              hint="Check that the file is a real PDF and was fully downloaded.")
    try:
        reader = PdfReader(str(path))
        _unlock(reader, path)
        count = len(reader.pages)
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorruptDocument(f"{path.name} is damaged and cannot be read as a PDF ({exc}).",
                              hint="Open it in a PDF viewer and save a new copy, then upload that.") from exc
    if count == 0:
        raise EmptyDocument(f"{path.name} has no pages.")
    return ParsedDocument("pdf", count, _pdf_pages(reader, path), meta=_pdf_meta(reader))


def _unlock(reader: Any, path: Path) -> None:
    """Open PDFs that are encrypted without a user password; refuse password-protected ones."""
    from pypdf import PasswordType

    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
    except Exception as exc:  # pypdf raises several types for unsupported encryption
        log.info("decrypting %s failed: %s", path.name, exc)
        opened = False
    if not opened:
        raise EncryptedDocument(f"{path.name} is password-protected.",
                                hint="Remove the password (print to PDF or save an unprotected copy) and upload that.")


def _pdf_meta(reader: Any) -> dict[str, Any]:
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:  # broken metadata must not stop the text
        title = None
    return {"title": str(title)} if title and str(title).lower() != "untitled" else {}


def _pdf_pages(reader: Any, path: Path) -> Iterator[Page]:
    """Page text from PDFium: about ten times faster than pypdf on long filings, and a table row's
    label and figures come out on one line. pypdf (which opened and checked the file) reads any
    page PDFium cannot."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        log.info("PDFium cannot open %s (%s); reading it with pypdf", path.name, exc)
        document = None
    try:
        for index, page in enumerate(reader.pages):
            text = _pdfium_text(document, index) if document is not None else None
            if text is None:
                text = _pypdf_text(page, index, path)
            yield Page(index + 1, f"page {index + 1}", clean(text))
    finally:
        if document is not None:
            document.close()


def _pdfium_text(document: Any, index: int) -> str | None:
    import pypdfium2 as pdfium

    try:
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                return textpage.get_text_bounded()
            finally:
                textpage.close()
        finally:
            page.close()
    except (pdfium.PdfiumError, IndexError) as exc:
        log.info("PDFium cannot read page %d (%s)", index + 1, exc)
        return None


def _pypdf_text(page: Any, index: int, path: Path) -> str:
    try:
        return page.extract_text() or ""
    except Exception as exc:  # one unreadable page is a damaged file
        raise CorruptDocument(f"{path.name}: page {index + 1} cannot be read ({exc}).",
                              hint="Open it in a PDF viewer and save a new copy, then upload that.") from exc


# -- Word and PowerPoint --------------------------------------------------------------------
def _check_office(path: Path, what: str) -> None:
    head = _head(path, 8)
    if head.startswith(_OLE_MAGIC):
        if _office_encrypted(path):
            raise EncryptedDocument(f"{path.name} is password-protected.",
                                    hint=f"Open it in {what}, remove the password, save and upload it again.")
        raise CorruptDocument(f"{path.name} is an old binary Office file, not {path.suffix}.",
                              hint=f"Open it in {what} and save it as {path.suffix}.")
    if not head.startswith(b"PK"):
        raise CorruptDocument(f"{path.name} is not a valid {path.suffix} file (it is not a ZIP package).",
                              hint=f"Open it in {what} and save a new copy, then upload that.")
    _check_expanded(path, what)


def _check_expanded(path: Path, what: str) -> None:
    """The package's XML, as the ZIP directory declares it, fits MAX_OFFICE_XML_MB (parsing it takes
    memory and, paragraph by paragraph, time inside the page request)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            size = sum(i.file_size for i in zf.infolist() if i.filename.lower().endswith((".xml", ".rels")))
    except (zipfile.BadZipFile, OSError) as exc:
        raise _damaged(path, what, exc) from exc
    if size > MAX_OFFICE_XML_MB * 2**20:
        raise DocumentError(f"{path.name} expands to {size / 2**20:,.0f} MB of XML, over the {MAX_OFFICE_XML_MB} MB "
                            "a document may hold.", hint=f"Split it in {what}, or save it as PDF or text and upload that.")


def _office_encrypted(path: Path) -> bool:
    try:
        import msoffcrypto

        with path.open("rb") as f:
            return bool(msoffcrypto.OfficeFile(f).is_encrypted())
    except Exception:  # not an Office container at all
        return False


def _damaged(path: Path, what: str, exc: Exception) -> CorruptDocument:
    log.info("cannot open %s: %r", path.name, exc)
    return CorruptDocument(f"{path.name} is damaged and cannot be read as a {what} file.",
                           hint=f"Open it in {what} and save a new copy, then upload that.")


def _open_docx(path: Path) -> ParsedDocument:
    import docx

    _check_office(path, "Word")
    try:
        document = docx.Document(str(path))
        pages = list(_docx_sections(document))
    except DocumentError:
        raise
    except Exception as exc:  # python-docx raises KeyError, BadZipFile, lxml errors, ...
        raise _damaged(path, "Word", exc) from exc
    title = document.core_properties.title
    return ParsedDocument("docx", len(pages), pages, meta={"title": title} if title else {})


def _docx_sections(document: Any) -> Iterator[Page]:
    """Sections start at each heading; tables are rendered row by row with ' | ' between cells."""
    from docx.table import Table

    label, lines, number = "start", [], 0
    if len(document.element.body) > MAX_DOCX_BLOCKS:  # counted on the parsed tree, before the slow walk
        raise DocumentError(f"The document has more than {MAX_DOCX_BLOCKS:,} paragraphs and tables.",
                            hint="Split it in Word, or save it as PDF or text and upload that.")
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
            continue
        style = (block.style.name if block.style is not None else "") or ""
        text = block.text.strip()
        if text and (style.startswith("Heading") or style == "Title"):
            if any(line.strip() for line in lines):
                number += 1
                yield Page(number, label, clean("\n".join(lines)))
            label, lines = text[:200], []
        lines.append(text)
    if any(line.strip() for line in lines):
        yield Page(number + 1, label, clean("\n".join(lines)))


def _table_lines(table: Any) -> list[str]:
    rows = []
    for row in table.rows:
        cells = [cell.text.strip() for cell in row.cells]
        deduped = [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]  # merged cells repeat
        rows.append(" | ".join(deduped))
    return [*rows, ""]


def _open_pptx(path: Path) -> ParsedDocument:
    import pptx

    _check_office(path, "PowerPoint")
    try:
        presentation = pptx.Presentation(str(path))
        pages = [_slide_page(i + 1, slide) for i, slide in enumerate(presentation.slides)]
    except Exception as exc:  # python-pptx raises KeyError, BadZipFile, lxml errors, ...
        raise _damaged(path, "PowerPoint", exc) from exc
    return ParsedDocument("pptx", len(pages), pages)


def _slide_page(number: int, slide: Any) -> Page:
    title_shape = slide.shapes.title
    title = title_shape.text.strip() if title_shape is not None and title_shape.has_text_frame else ""
    lines = [line for shape in slide.shapes for line in _shape_lines(shape)]
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame.text.strip() if slide.notes_slide.notes_text_frame else ""
        if notes:
            lines += ["", f"Notes: {notes}"]
    label = f"slide {number}" + (f": {title[:150]}" if title else "")
    return Page(number, label, clean("\n".join(lines)))


def _shape_lines(shape: Any) -> list[str]:
    from pptx.shapes.group import GroupShape

    if isinstance(shape, GroupShape):
        return [line for inner in shape.shapes for line in _shape_lines(inner)]
    if getattr(shape, "has_table", False) and shape.has_table:
        return _table_lines(shape.table)
    if shape.has_text_frame:
        return [shape.text_frame.text.strip()]
    return []


# -- text and Markdown ----------------------------------------------------------------------
_FENCES = ("```", "~~~")


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text file as str: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise CorruptDocument(f"{name} is not a text file: it looks binary.",
                              hint="Upload PDF, Word, PowerPoint, text or Markdown files.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _open_text(path: Path) -> ParsedDocument:
    text = decode_text(path.read_bytes(), path.name)
    pages = list(text_sections(text))
    if not pages:
        raise EmptyDocument(f"{path.name} contains only white space.", hint="Choose a file that contains text.")
    return ParsedDocument(document_type(path), len(pages), pages)


def text_sections(text: str) -> Iterator[Page]:
    """Sections at Markdown headings (outside code fences); text without headings in parts of ~4,000 chars."""
    blocks = _heading_blocks(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    if len(blocks) == 1 and blocks[0][0] == "":
        blocks = _parts(blocks[0][1])
    number = 0
    for label, lines in blocks:
        body = clean("\n".join(lines))
        if body:
            number += 1
            yield Page(number, label or f"part {number}", body)


def _heading_blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    blocks: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in lines:
        if line.lstrip().startswith(_FENCES):
            in_fence = not in_fence
        title = None if in_fence else heading_title(line)
        if title:
            blocks.append((title[:200], [line]))
        else:
            blocks[-1][1].append(line)
    return [b for b in blocks if any(line.strip() for line in b[1])] or [("", [])]


def heading_title(line: str) -> str | None:
    """The title of a Markdown ATX heading line ('## Title ##' -> 'Title'), else None.

    Plain string scanning, linear in the line: the regex it replaces backtracked
    cubically on '# a' followed by many spaces.
    """
    level = len(line) - len(line.lstrip("#"))
    rest = line[level:]
    if not 1 <= level <= 6 or not rest[:1].isspace():
        return None
    title = rest.strip()
    closed = title.rstrip("#")
    if closed != title and (not closed or closed[-1].isspace()):  # a closing '###' after a space
        title = closed.rstrip()
    return title or None


def _parts(lines: list[str]) -> list[tuple[str, list[str]]]:
    parts: list[tuple[str, list[str]]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        current.append(line)
        size += len(line) + 1
        if size >= _TEXT_PART_CHARS and not line.strip():
            parts.append(("", current))
            current, size = [], 0
    if current:
        parts.append(("", current))
    return parts
