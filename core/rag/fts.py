"""The persistent keyword index: SQLite FTS5 over pages, kept up to date document by document.

One file, DATA_DIR/keywords/index.sqlite, holds
- `page_fts`: one row per page, its search terms (core.rag.terms), the terms of its headings
  (its title lines and the short title-like lines inside it, as `head`: a field that weighs
  HEAD_WEIGHT times the body in BM25) and a `d<id>` token for its document, so a search
  limited to some documents is one FTS5 query (BM25 ranked by SQLite);
- `doc_term`: the distinct terms of each document (how many documents use a word, for routing);
- `doc_profile`: what names a document (its name, title, cover-page names) and its period.
Documents are added as they are indexed and removed when deleted: nothing is rebuilt per process.
The index is derived from the database; `sync` re-adds documents it lacks and drops ones the
database no longer has (a copied DATA_DIR, a crash between the two writes).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from core import storage
from core.rag.terms import headings, page_kinds, terms

VERSION = 2  # PRAGMA user_version of the index file; an older file is rebuilt from the database
_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS page_fts USING fts5(
    body, doc, head, page UNINDEXED, kinds UNINDEXED, tokenize = "unicode61 tokenchars '.'");
CREATE VIRTUAL TABLE IF NOT EXISTS page_vocab USING fts5vocab(page_fts, 'row');
CREATE TABLE IF NOT EXISTS doc_term (term TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (term, doc)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_term_doc ON doc_term (doc);
CREATE TABLE IF NOT EXISTS doc_profile (doc TEXT PRIMARY KEY, profile TEXT NOT NULL);
"""
_lock = threading.Lock()
_ready: set[str] = set()
COMMON_SHARE = 0.3  # query terms on more than this share of pages barely rank; skipping them keeps big indexes fast
KIND_TOKEN = "xkind"  # noqa: S105 (a search term, not a secret) + 'balance' etc.: a statement page's kind, searchable with its words
MAX_QUERY_TERMS = 16  # the rarest terms of a long question carry its ranking
HEAD_WEIGHT = 3.0  # a query term in a page's headings counts this many times one in its body (BM25F-like)


@dataclass(frozen=True)
class PageMatch:
    document_id: str
    page: int
    score: float  # BM25, higher is better
    kinds: frozenset[str]


def path() -> str:
    return str(storage.area("keywords") / "index.sqlite")


@contextmanager
def connect() -> Iterator[sqlite3.Connection]:
    """A connection to the index (created on first use), committed on success, rolled back on error."""
    location = path()
    conn = sqlite3.connect(location, timeout=30)
    try:
        if location not in _ready:
            with _lock:
                conn.execute("PRAGMA journal_mode=WAL")
                _upgrade(conn)
                conn.executescript(_SCHEMA)
                conn.execute(f"PRAGMA user_version = {VERSION}")
                _ready.add(location)
        with conn:
            yield conn
    finally:
        conn.close()


def _upgrade(conn: sqlite3.Connection) -> None:
    """Drop the tables of an index written by an older version: searches re-add every ready document
    from its stored pages (core.rag.retrieve.sync_index), without embedding again."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'page_fts'").fetchone()
    if exists and version < VERSION:
        conn.executescript("DROP TABLE IF EXISTS page_vocab; DROP TABLE IF EXISTS page_fts; "
                           "DROP TABLE IF EXISTS doc_term; DROP TABLE IF EXISTS doc_profile;")


def doc_token(document_id: uuid.UUID | str) -> str:
    return "d" + uuid.UUID(str(document_id)).hex


def add_pages(document_id: uuid.UUID | str, pages: Iterable[tuple[int, str]]) -> None:
    """Index some pages of a document (number, text); call again for the next batch of pages."""
    doc = str(document_id)
    rows, vocabulary = [], set()
    for number, text in pages:
        page_terms = terms(text)
        vocabulary.update(page_terms)
        kinds = sorted(page_kinds(text))
        rows.append((" ".join(page_terms + [KIND_TOKEN + k for k in kinds]), doc_token(doc),
                     " ".join(terms(" ".join(headings(text)))), number, ",".join(kinds)))
    with connect() as conn:
        conn.executemany("INSERT INTO page_fts (body, doc, head, page, kinds) VALUES (?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT OR IGNORE INTO doc_term (term, doc) VALUES (?, ?)", [(t, doc) for t in vocabulary])


def set_profile(document_id: uuid.UUID | str, profile: dict) -> None:
    with connect() as conn:
        conn.execute("INSERT OR REPLACE INTO doc_profile (doc, profile) VALUES (?, ?)",
                     (str(document_id), json.dumps(profile)))


def delete(document_id: uuid.UUID | str) -> None:
    """Remove a document's pages, terms and profile."""
    doc = str(document_id)
    with connect() as conn:
        conn.execute("DELETE FROM page_fts WHERE doc = ?", (doc_token(doc),))
        conn.execute("DELETE FROM doc_term WHERE doc = ?", (doc,))
        conn.execute("DELETE FROM doc_profile WHERE doc = ?", (doc,))


def documents() -> set[str]:
    """The documents the index holds completely (a profile is written last)."""
    with connect() as conn:
        return {row[0] for row in conn.execute("SELECT doc FROM doc_profile")}


def profiles(document_ids: Iterable[str]) -> dict[str, dict]:
    wanted = list(document_ids)
    out: dict[str, dict] = {}
    with connect() as conn:
        for first in range(0, len(wanted), 500):
            part = wanted[first:first + 500]
            marks = ",".join("?" * len(part))
            out.update((d, json.loads(p)) for d, p in
                       conn.execute(f"SELECT doc, profile FROM doc_profile WHERE doc IN ({marks})", part))
    return out


def document_frequency(words: Iterable[str]) -> dict[str, int]:
    """How many documents use each word."""
    wanted = list(dict.fromkeys(words))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    with connect() as conn:
        return dict(conn.execute(f"SELECT term, count(*) FROM doc_term WHERE term IN ({marks}) GROUP BY term",
                                 wanted).fetchall())


def documents_using(words: Iterable[str]) -> dict[str, set[str]]:
    """The documents that use each word (words no document uses are left out)."""
    wanted = list(dict.fromkeys(words))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    out: dict[str, set[str]] = {}
    with connect() as conn:
        for term, doc in conn.execute(f"SELECT term, doc FROM doc_term WHERE term IN ({marks})", wanted):
            out.setdefault(term, set()).add(doc)
    return out


def _quote(term: str) -> str:
    return '"' + term.replace('"', "") + '"'


def search(query_terms: list[str], n: int, document_ids: Iterable[str] | None = None,
           kinds: Iterable[str] = ()) -> list[PageMatch]:
    """The `n` best pages for the terms (BM25), optionally only in some documents; with `kinds`, only
    pages that are one of those primary statements ('balance', 'income', 'cashflow')."""
    words = list(dict.fromkeys(t for t in query_terms if t))
    if not words or n <= 0:
        return []
    with connect() as conn:
        words = _rare_enough(conn, words)
        if not words:
            return []
        match = "{body head} : (" + " OR ".join(_quote(t) for t in words) + ")"
        if document_ids is not None:
            tokens = [doc_token(d) for d in document_ids]
            if not tokens:
                return []
            match = f"doc : ({' OR '.join(tokens)}) AND {match}"
        wanted = [KIND_TOKEN + k for k in kinds if k in ("balance", "income", "cashflow")]
        if wanted:
            match = f"body : ({' OR '.join(wanted)}) AND {match}"
        rows = conn.execute("SELECT doc, page, bm25(page_fts, 1.0, 0.0, ?) AS score, kinds FROM page_fts "
                            "WHERE page_fts MATCH ? ORDER BY score LIMIT ?", (HEAD_WEIGHT, match, n)).fetchall()
    return [PageMatch(str(uuid.UUID(doc[1:])), int(page), -float(score), frozenset(k for k in kinds.split(",") if k))
            for doc, page, score, kinds in rows]


def _rare_enough(conn: sqlite3.Connection, words: list[str]) -> list[str]:
    """The MAX_QUERY_TERMS rarest terms that some page has, without those on more than COMMON_SHARE
    of all pages: BM25 gives those almost no weight, and each costs a walk of a long posting list."""
    total = conn.execute("SELECT count(*) FROM page_fts_docsize").fetchone()[0]  # a b-tree count, not a scan
    marks = ",".join("?" * len(words))
    counts = dict(conn.execute(f"SELECT term, doc FROM page_vocab WHERE term IN ({marks})", words).fetchall())
    present = sorted((w for w in words if counts.get(w, 0)), key=lambda w: counts[w])
    kept = [w for w in present if counts[w] <= max(COMMON_SHARE * total, 50)]
    return (kept or present[:1])[:MAX_QUERY_TERMS]


def clear() -> None:
    """Forget which index files were opened (tests that switch DATA_DIR call this)."""
    with _lock:
        _ready.clear()
