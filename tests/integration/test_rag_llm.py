"""The LLM path through the real `openai` client, against the local fake OpenAI server:
OpenAI embeddings in their own Chroma collection, grounded answers, NOT_FOUND, failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core import rag
from core.config import reload_settings
from core.errors import InvalidInput
from core.rag import keyword, store
from core.rag.embeddings import LOCAL_MODEL
from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_rag_index import REPORT, embedding_model  # noqa: F401 - session fixture
from tests.unit.test_rag_parsers import make_pdf


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    """An OpenAI-compatible server configured as the workbench's LLM and embedding endpoint."""
    with FakeOpenAI(embedding_dimensions=64) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("LLM_MODEL", "fake-gpt")
        monkeypatch.setenv("LLM_TIMEOUT_S", "5")
        reload_settings()
        yield server
    keyword.clear()
    store.reset()


@pytest.fixture
def openai_embeddings(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("EMBEDDING_MODEL", "text-embedding-3-large")
    reload_settings()
    return fake


def test_openai_embeddings_go_to_their_own_collection(openai_embeddings: FakeOpenAI, tmp_path: Path) -> None:
    # Given EMBEDDING_MODEL=text-embedding-3-large / When a PDF is added
    doc = rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    # Then the vectors came from the endpoint, in batches, and live in that model's collection
    assert doc.embedding_model == "text-embedding-3-large"
    assert openai_embeddings.embedding_requests[0]["model"] == "text-embedding-3-large"
    assert store.count("text-embedding-3-large", doc.id) == doc.chunks
    assert store.collection_name("text-embedding-3-large") == "docs-text-embedding-3-large"
    assert store.count(LOCAL_MODEL) == 0
    # And the query is embedded by the same model
    assert rag.search("Lyon office staff", k=1)[0].page == 2
    assert openai_embeddings.embedding_requests[-1]["input"] == ["Lyon office staff"]


def test_llm_answer_is_grounded_in_the_hits_with_citations(fake: FakeOpenAI, tmp_path: Path) -> None:
    # Given an indexed report and an LLM that cites source 1
    rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    fake.script("Revenue in the third quarter was 4.2 million euros [1], up 12 percent [1].")
    # When asked
    answer = rag.ask("What was revenue in the third quarter?", k=3)
    # Then the answer is the model's, and [1] maps to the first hit (page 1)
    assert answer.mode == "llm" and answer.found and answer.model == "fake-gpt"
    assert answer.text.startswith("Revenue in the third quarter was 4.2 million euros [1]")
    assert [c.number for c in answer.citations] == [1]
    assert answer.citations[0].hit == answer.hits[0] and answer.hits[0].page == 1
    # And the request carried the instructions and the numbered sources, nothing else
    request = fake.chat_requests[-1]
    assert request["model"] == "fake-gpt" and request["temperature"] == 0
    assert "ONLY the numbered sources" in request["messages"][0]["content"]
    user = request["messages"][1]["content"]
    assert "[1] (report.pdf, page 1)" in user and user.endswith("Question: What was revenue in the third quarter?")


def test_llm_says_not_found_honestly(fake: FakeOpenAI, tmp_path: Path) -> None:
    rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    fake.script("NOT_FOUND")
    answer = rag.ask("Who is the chairman?")
    assert not answer.found and answer.text == rag.NOT_FOUND and answer.citations == []
    assert answer.hits  # the passages that were looked at are still shown


@pytest.mark.parametrize("failure", [{"status": 500}, {"raw": "<html>bad gateway</html>"}, ""],
                         ids=["server-error", "malformed", "empty"])
def test_llm_failure_falls_back_to_a_cited_extract_with_a_warning(fake: FakeOpenAI, tmp_path: Path,
                                                                  failure: object) -> None:
    # Given an LLM that fails (every retry too)
    rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    fake.script(failure, failure, failure)
    # When asked / Then the offline answer is shown, with a warning that says why
    answer = rag.ask("What was the revenue in the third quarter?")
    assert answer.mode == "extractive" and answer.found and "4.2 million" in answer.text
    assert "language model" in answer.warning


def test_openai_embedding_model_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EMBEDDING_MODEL", "text-embedding-3-large")
    reload_settings()
    with pytest.raises(InvalidInput, match="needs an OpenAI-compatible endpoint"):
        rag.add_document(make_pdf(tmp_path / "report.pdf", REPORT))
    assert rag.list_documents() == []
