"""Split page text into overlapping chunks that remember where they came from."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.config import get_settings
from core.errors import InvalidInput
from core.rag.parsers import Page


@dataclass(frozen=True)
class Piece:
    """A chunk of one page: `start`/`end` are character offsets in the page's text."""

    page: int
    start: int
    end: int
    text: str


def make_splitter(size: int | None = None, overlap: int | None = None) -> RecursiveCharacterTextSplitter:
    """A recursive splitter (paragraphs, lines, sentences, words) with RAG_CHUNK_SIZE / RAG_CHUNK_OVERLAP."""
    settings = get_settings()
    size = size or settings.rag_chunk_size
    overlap = settings.rag_chunk_overlap if overlap is None else overlap
    if size < 50 or overlap < 0 or overlap >= size:
        raise InvalidInput(
            f"Chunk size {size} with overlap {overlap} is not usable.",
            hint="Set RAG_CHUNK_SIZE to at least 50 and RAG_CHUNK_OVERLAP between 0 and less than the size.",
        )
    return RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, add_start_index=True,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""], keep_separator="end",
    )


def chunk_page(page: Page, splitter: RecursiveCharacterTextSplitter) -> list[Piece]:
    """The chunks of one page, in order, with their offsets in `page.text`."""
    pieces = []
    for doc in splitter.create_documents([page.text]):
        start = int(doc.metadata.get("start_index", -1))
        if start < 0:  # the splitter could not place it (never seen; be safe)
            start = page.text.find(doc.page_content)
        pieces.append(Piece(page.number, max(start, 0), max(start, 0) + len(doc.page_content), doc.page_content))
    return [p for p in pieces if p.text.strip()]
