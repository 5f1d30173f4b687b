"""Chunks remember their page and character offsets; sizes come from the settings."""

from __future__ import annotations

import itertools

import pytest

from core.config import reload_settings
from core.errors import InvalidInput
from core.rag.chunking import chunk_page, make_splitter
from core.rag.parsers import Page

TEXT = "\n\n".join(f"Paragraph {i}. " + " ".join(f"word{i}x{j}" for j in range(40)) for i in range(12))


def test_offsets_point_back_into_the_page_text() -> None:
    # Given a long page and small chunks with overlap
    page = Page(7, "page 7", TEXT)
    # When chunked
    pieces = chunk_page(page, make_splitter(300, 60))
    # Then every chunk is exactly the page text between its offsets, on page 7, in order
    assert len(pieces) > 5
    assert all(page.text[p.start:p.end] == p.text and p.page == 7 for p in pieces)
    assert [p.start for p in pieces] == sorted(p.start for p in pieces)
    assert all(len(p.text) <= 300 for p in pieces)


def test_neighbouring_chunks_overlap() -> None:
    pieces = chunk_page(Page(1, "page 1", " ".join(f"w{i}" for i in range(600))), make_splitter(200, 50))
    overlaps = [a.end - b.start for a, b in itertools.pairwise(pieces)]
    assert all(0 < o <= 50 for o in overlaps)


def test_sizes_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given RAG_CHUNK_SIZE=120 and RAG_CHUNK_OVERLAP=0
    monkeypatch.setenv("RAG_CHUNK_SIZE", "120")
    monkeypatch.setenv("RAG_CHUNK_OVERLAP", "0")
    reload_settings()
    # When chunked with the default splitter / Then chunks respect them
    pieces = chunk_page(Page(1, "p", TEXT), make_splitter())
    assert max(len(p.text) for p in pieces) <= 120
    assert all(a.end <= b.start for a, b in itertools.pairwise(pieces))


@pytest.mark.parametrize(("size", "overlap"), [(10, 0), (200, 200), (200, -1)])
def test_unusable_chunk_settings_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(InvalidInput, match="not usable") as err:
        make_splitter(size, overlap)
    assert "RAG_CHUNK_SIZE" in err.value.hint


def test_an_empty_page_has_no_chunks() -> None:
    assert chunk_page(Page(3, "page 3", ""), make_splitter(200, 20)) == []
