"""What a question asks, without the words that only frame it.

"What does the document say about PTRATIO?" asks for PTRATIO: the framing ("what does the
document say about") matches every passage a little and dilutes the asked term, so retrieval
and the offline answer use `focus(question)` -> "PTRATIO". The phrase lists are small and
closed: openers removed at the start, closers at the end, and references to the documents
themselves ("according to the file", "in the codebook") anywhere. Matching is on whole words,
one linear pass per phrase.
"""

from __future__ import annotations

_DOCS = ("document", "documents", "doc", "docs", "file", "files", "codebook", "pdf", "text", "report",
         "sources", "source", "library", "manual", "description", "data dictionary")
_DOC_REFS = tuple(f"{lead} {the}{doc}" for lead in ("according to", "in", "from", "within")
                  for the in ("the ", "my ", "your ", "this ", "these ", "") for doc in _DOCS)
_SAY = ("say", "says", "said", "tell", "tells", "state", "states", "mention", "mentions", "write", "writes")
_OPENERS = (
    *(f"what {verb} {the}{doc} {say} about" for verb in ("does", "do", "did") for the in ("the ", "my ", "")
      for doc in _DOCS for say in ("say", "tell me", "state", "mention", "write")),
    *(f"what {doc} {say} about" for doc in ("does it", "do they") for say in ("say", "tell me")),
    "i'd like to know what", "i would like to know what", "i want to know what", "i'd like to know",
    "can you tell me what", "could you tell me what", "can you tell me", "could you tell me", "tell me what",
    "can you find what", "could you find what", "can you explain what", "could you explain what",
    "please explain what", "please tell me what", "please tell me about", "please explain", "please",
    "tell me about", "tell me", "explain what", "explain", "describe", "define", "look up", "find", "search for",
    "what is the meaning of", "what's the meaning of", "what is the definition of", "what's the definition of",
    "what is meant by", "what's meant by", "what is", "what's", "what are", "what does", "what do", "whats",
    "meaning of", "definition of", "the variable", "the column", "the field", "the term", "variable", "a", "an", "the",
)
_CLOSERS = ("mean", "means", "stand for", "stands for", "refer to", "refers to", "indicate", "indicates",
            "represent", "represents", "describe", "describes", "signify", "signifies", "denote", "denotes",
            "is", "are", "say", "says")
_STRIP = " \t\n?!.,;:\"'"


def _phrases(items: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in items)


_OPENER_SET = _phrases(_OPENERS)
_CLOSER_SET = _phrases(_CLOSERS)
_REF_SET = _phrases(_DOC_REFS)
_LONGEST = max(len(p) for p in _OPENER_SET | _CLOSER_SET | _REF_SET)


def _key(word: str) -> str:
    return word.strip(_STRIP).lower()


def _without_refs(words: list[str], keys: list[str]) -> tuple[list[str], list[str]]:
    """Drop every reference to the documents themselves ('according to the file'), wherever it is."""
    kept_words, kept_keys, i = [], [], 0
    while i < len(words):
        size = next((n for n in range(_LONGEST, 1, -1) if tuple(keys[i:i + n]) in _REF_SET), 0)
        if size:
            i += size
            continue
        kept_words.append(words[i])
        kept_keys.append(keys[i])
        i += 1
    return kept_words, kept_keys


def _edge(keys: list[str], lo: int, hi: int, phrases: frozenset[tuple[str, ...]], *, start: bool) -> int:
    """How many words at the start (or end) of keys[lo:hi] are framing; at least one word stays."""
    for n in range(min(_LONGEST, hi - lo - 1), 0, -1):
        if tuple(keys[lo:lo + n] if start else keys[hi - n:hi]) in phrases:
            return n
    return 0


def focus(question: str) -> str:
    """`question` without its framing words; the question itself when nothing would be left."""
    words = question[:4000].split()
    words, keys = _without_refs(words, [_key(w) for w in words])
    lo, hi = 0, len(words)
    for phrases, start in ((_OPENER_SET, True), (_CLOSER_SET, False), (_OPENER_SET, True)):
        while (n := _edge(keys, lo, hi, phrases, start=start)):
            lo, hi = (lo + n, hi) if start else (lo, hi - n)
    core = " ".join(words[lo:hi]).strip(_STRIP)
    return core or question.strip().strip(_STRIP) or question
