"""Keyword scores equal rank_bm25's; reciprocal rank fusion adds 1/(60+rank) per list."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from core.rag.keyword import KeywordIndex, tokenize
from core.rag.retrieve import rrf

CORPUS = [
    "The whale is the largest animal; the whale hunts in the deep ocean.",
    "Captain Ahab commanded the Pequod and hunted the white whale.",
    "Elizabeth Bennet met Mr Darcy at the Meryton ball.",
    "The ball was crowded and Darcy refused to dance.",
    "Revenue in the third quarter rose by twelve percent.",
    "Ocean currents carry nutrients across the Pacific.",
]


def build(corpus: list[str], docs: list[uuid.UUID] | None = None) -> KeywordIndex:
    ids = [uuid.uuid4() for _ in corpus]
    return KeywordIndex.build(ids, docs or [uuid.uuid4() for _ in corpus], corpus)


@pytest.mark.parametrize("query", ["white whale", "Darcy ball dance", "revenue quarter", "whale whale ocean",
                                   "nothing matches zebra"])
def test_scores_equal_rank_bm25(query: str) -> None:
    # Given the same tokens fed to rank_bm25 and to our sparse index
    reference = BM25Okapi([tokenize(t) for t in CORPUS])
    index = build(CORPUS)
    # When scored / Then they agree to float precision
    np.testing.assert_allclose(index.scores(query), reference.get_scores(tokenize(query)), rtol=1e-5, atol=1e-6)


def test_top_returns_only_positive_scores_best_first() -> None:
    index = build(CORPUS)
    top = index.top("white whale Pequod", 3)
    assert top[0][0] == index.chunk_ids[1]
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert index.top("zebra", 3) == []


def test_top_can_be_limited_to_some_documents() -> None:
    doc_a, doc_b = uuid.uuid4(), uuid.uuid4()
    index = build(CORPUS, [doc_a, doc_a, doc_b, doc_b, doc_b, doc_b])
    top = index.top("whale ocean", 5, documents=[doc_b])
    assert [cid for cid, _ in top] == [index.chunk_ids[5]]


def test_an_empty_index_answers_nothing() -> None:
    assert KeywordIndex.build([], [], []).top("anything", 5) == []


def test_tokens_drop_stop_words_and_plural_endings() -> None:
    assert tokenize("The Whales' quarterly REVENUES, and companies") == ["whale", "quarterly", "revenue", "company"]


def test_reciprocal_rank_fusion() -> None:
    # Given two rankings that agree on b
    fused = rrf([["a", "b", "c"], ["b", "d"]])
    # Then b (rank 2 and rank 1) beats a (rank 1 once), and d counts once
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert max(fused, key=fused.get) == "b"
    assert set(fused) == {"a", "b", "c", "d"}
