"""Keyword search: BM25 (Okapi) over every ready chunk, as a sparse matrix.

Scores equal `rank_bm25.BM25Okapi`'s (same k1, b, epsilon and IDF floor; a test checks
it) but a query touches only the chunks that contain a query term, so 50,000 chunks
answer in milliseconds. The index is built on first use and rebuilt when the set of
ready documents changes.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have how i if in into is it its "
    "of on or our so than that the their them then there these they this those to was we were what when where "
    "which who whom why will with would you your about after all also any before between both each more most "
    "no not only other over same should such under up very".split()
)


def stem(word: str) -> str:
    """A very light English stemmer: plural and possessive endings only."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without stop words, lightly stemmed."""
    return [stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


@dataclass
class KeywordIndex:
    """BM25 over a fixed list of chunks (`chunk_ids[i]` belongs to `document_ids[i]`)."""

    chunk_ids: list[uuid.UUID]
    document_ids: np.ndarray
    matrix: sparse.csc_matrix
    vocabulary: dict[str, int]
    idf: np.ndarray
    norm: np.ndarray
    k1: float = 1.5

    @classmethod
    def build(cls, chunk_ids: list[uuid.UUID], document_ids: list[uuid.UUID], texts: list[str],
              k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> KeywordIndex:
        vectorizer = CountVectorizer(analyzer=tokenize, dtype=np.float32)
        matrix = vectorizer.fit_transform(texts).tocsc() if texts else sparse.csc_matrix((0, 0), dtype=np.float32)
        lengths = np.asarray(matrix.sum(axis=1)).ravel()
        avgdl = lengths.mean() if len(lengths) and lengths.mean() > 0 else 1.0
        n = len(texts)
        df = np.diff(matrix.indptr).astype(np.float64)
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        floor = epsilon * (idf.sum() / len(idf)) if len(idf) else 0.0
        idf = np.where(idf < 0, floor, idf)
        norm = (k1 * (1 - b + b * lengths / avgdl)).astype(np.float64)
        return cls(list(chunk_ids), np.asarray([str(d) for d in document_ids], dtype=object), matrix,
                   dict(vectorizer.vocabulary_ if texts else {}), idf, norm, k1)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every chunk for `query` (repeated query words count again, as in rank_bm25)."""
        out = np.zeros(len(self.chunk_ids), dtype=np.float64)
        for term in tokenize(query):
            col = self.vocabulary.get(term)
            if col is None:
                continue
            lo, hi = self.matrix.indptr[col], self.matrix.indptr[col + 1]
            rows, tf = self.matrix.indices[lo:hi], self.matrix.data[lo:hi].astype(np.float64)
            out[rows] += self.idf[col] * tf * (self.k1 + 1) / (tf + self.norm[rows])
        return out

    def top(self, query: str, n: int, documents: Iterable[uuid.UUID] | None = None) -> list[tuple[uuid.UUID, float]]:
        """The `n` best chunks with a positive score, optionally only from some documents."""
        scores = self.scores(query)
        if documents is not None and len(scores):
            scores[~np.isin(self.document_ids, [str(d) for d in documents])] = 0.0
        candidates = np.flatnonzero(scores > 0)
        best = candidates[np.argsort(-scores[candidates], kind="stable")][:n]
        return [(self.chunk_ids[i], float(scores[i])) for i in best]


_lock = threading.Lock()
_cache: dict[str, tuple[tuple, KeywordIndex]] = {}


Loader = Callable[[], tuple[list[uuid.UUID], list[uuid.UUID], list[str]]]


def cached_index(key: str, signature: tuple, load: Loader) -> KeywordIndex:
    """The index for `key` (the database), rebuilt with `load()` when `signature` (its ready documents) changed."""
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == signature:
            return hit[1]
        chunk_ids, document_ids, texts = load()
        index = KeywordIndex.build(chunk_ids, document_ids, texts)
        _cache[key] = (signature, index)
        return index


def clear() -> None:
    with _lock:
        _cache.clear()
