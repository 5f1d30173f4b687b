"""Answers with citations: grounded LLM answers when one is configured, extractive answers offline."""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, computed_field

from core.config import get_settings
from core.errors import LLMError
from core.models.documents import Document
from core.rag.client import describe, llm_configured, openai_client
from core.rag.keyword import tokenize
from core.rag.query import focus
from core.rag.retrieve import Hit, search
from core.untrusted import RULE, fence

log = logging.getLogger(__name__)

NOT_FOUND = "I could not find this in the documents."
_SENTINEL = "NOT_FOUND"
_CITE = re.compile(r"\[(\d{1,2})\]")
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n{2,}|\n(?=[-*•]\s)")
SYSTEM_PROMPT = (
    "You answer questions about the user's documents using ONLY the numbered sources given in the message. "
    "Cite every statement with the number of its source in square brackets, like [1] or [2][3]. "
    "Never use outside knowledge. If the sources do not contain the answer, reply with exactly "
    f"{_SENTINEL} and nothing else. " + RULE
)


class Citation(BaseModel):
    """A numbered reference in the answer text: `[number]` points at `hit`."""

    number: int
    hit: Hit

    @computed_field
    @property
    def source(self) -> str:
        """'report.pdf, page 3': the document and page the number points at."""
        return self.hit.citation


class Answer(BaseModel):
    """An answer, the citations it uses (numbers as in the text) and every hit it was built from."""

    question: str
    text: str
    citations: list[Citation]
    hits: list[Hit]
    found: bool
    mode: Literal["llm", "extractive"]
    model: str = ""
    warning: str = ""


def ask(question: str, *, documents: Iterable[uuid.UUID | str | Document] | None = None, k: int = 5) -> Answer:
    """Answer `question` from the documents (all, or only `documents`), citing the passages used.

    With OPENAI_API_KEY set the LLM writes the answer from the retrieved passages only; offline
    (or when the LLM fails) the best-matching sentences are quoted. Raises InvalidInput, NotFound.
    """
    hits = search(question, k=k, documents=documents)
    if not hits:
        return Answer(question=question, text=NOT_FOUND, citations=[], hits=[], found=False, mode="extractive")
    if not llm_configured():
        return extractive_answer(question, hits)
    try:
        return llm_answer(question, hits)
    except LLMError as exc:
        log.warning("LLM answer failed, answering extractively: %s", exc)
        fallback = extractive_answer(question, hits)
        return fallback.model_copy(update={"warning": f"{exc.message} Showing the best-matching passages instead."})


# -- with a language model ------------------------------------------------------------------
def sources_prompt(question: str, hits: list[Hit]) -> str:
    """The user message: numbered sources, each fenced as untrusted data, then the question."""
    blocks = [f"[{n}] ({hit.citation})\n" + fence("document passage", hit.text.strip())
              for n, hit in enumerate(hits, start=1)]
    return "Sources:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question.strip()}"


def llm_answer(question: str, hits: list[Hit]) -> Answer:
    """Ask the configured chat model for a grounded, cited answer; raises LLMError."""
    import openai

    model = get_settings().llm_model
    try:
        reply = openai_client().chat.completions.create(
            model=model, temperature=0,
            messages=[{"role": "system", "content": SYSTEM_PROMPT},
                      {"role": "user", "content": sources_prompt(question, hits)}],
        )
        text = (reply.choices[0].message.content or "").strip()
    except openai.OpenAIError as exc:
        raise LLMError(f"The language model failed: {describe(exc)}.",
                       hint="Check OPENAI_BASE_URL, OPENAI_API_KEY and LLM_MODEL, or try again.") from exc
    except (ValueError, IndexError, AttributeError) as exc:  # a malformed reply body
        raise LLMError("The language model sent a reply that could not be read.") from exc
    if not text:
        raise LLMError("The language model sent an empty answer.")
    return _parse(question, text, hits, model)


def _parse(question: str, text: str, hits: list[Hit], model: str) -> Answer:
    if text.upper().startswith(_SENTINEL) or "not found in the documents" in text.lower():
        return Answer(question=question, text=NOT_FOUND, citations=[], hits=hits, found=False, mode="llm",
                      model=model)
    valid = [int(n) for n in _CITE.findall(text) if 1 <= int(n) <= len(hits)]
    text = _CITE.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= len(hits) else "", text).strip()
    numbers = list(dict.fromkeys(valid))
    citations = [Citation(number=n, hit=hits[n - 1]) for n in numbers]
    return Answer(question=question, text=text, citations=citations, hits=hits, found=True, mode="llm",
                  model=model)


# -- offline --------------------------------------------------------------------------------
_VALUE_WORDS = frozenset({"value", "values", "code", "coded", "codes", "equal", "equals", "level", "category"})
_SEPARATORS = ("-", "–", "—", ":", "=", ")", ".")


def sentences(text: str) -> list[str]:
    """Split a passage into sentences (and bullet lines)."""
    return [s.strip() for s in _SENTENCE.split(text) if s and len(s.strip()) > 2]


def entry_key(line: str) -> str | None:
    """The term a codebook-style line defines ('PTRATIO - pupil-teacher ratio' -> 'PTRATIO',
    '6 - Strong Republican' -> '6'), else None. A plain scan, no regex."""
    text = line.strip()
    if text[:1] in "-*•" and text[1:2] == " ":
        text = text[2:].lstrip()
    size = 0
    while size < len(text) and (text[size].isalnum() or text[size] in "_."):
        size += 1
    key, rest = text[:size].rstrip("."), text[size:]
    if not key or len(key) > 40 or not rest.strip():
        return None
    after = rest.lstrip()
    separated = after.startswith(_SEPARATORS) or rest.startswith(("  ", "\t"))
    return key if separated or (key.isupper() and len(key) > 1 and rest.startswith(" ")) else None


def candidates_of(text: str) -> list[str]:
    """What an answer may quote from a passage: its sentences, and each codebook-style line on its own."""
    found = sentences(text)
    lines = [line.strip() for line in text.split("\n") if entry_key(line) and len(line.strip()) > 2]
    return list(dict.fromkeys(found + lines))


def extractive_answer(question: str, hits: list[Hit], *, max_sentences: int = 3) -> Answer:
    """Quote the sentences that share the most (rare) words with the question, each cited.

    The question's framing ('what does the document say about') is dropped first; a question
    for a coded value ('What does a PID value of 6 mean?') quotes the line of that value under
    the variable's own heading line.
    """
    terms = set(tokenize(focus(question)))
    coded = _value_lines(terms, hits)
    if coded:
        return _quoted(question, hits, coded)
    candidates = [(n, s) for n, hit in enumerate(hits, start=1) for s in candidates_of(hit.text)]
    if not terms or not candidates:
        return _not_found(question, hits)
    weights = _term_weights(terms, [s for _, s in candidates])
    scored = []
    for order, (n, sentence) in enumerate(candidates):
        words = set(tokenize(sentence))
        score = sum(weights[t] for t in terms & words) / math.sqrt(len(words) + 5)
        if score > 0:
            scored.append((-score, n, order, sentence))
    best = _distinct(sorted(scored), max_sentences)
    if not best or _coverage(terms, best) < 0.34:
        return _not_found(question, hits)
    best.sort(key=lambda item: (item[1], item[2]))  # read in document order
    return _quoted(question, hits, [(n, sentence) for _, n, _, sentence in best])


def _distinct(scored: list[tuple], limit: int) -> list[tuple]:
    """The best items, skipping one that repeats (contains or is inside) an item already taken."""
    taken: list[tuple] = []
    for item in scored:
        if not any(item[3] in t[3] or t[3] in item[3] for t in taken):
            taken.append(item)
        if len(taken) == limit:
            break
    return taken


def _quoted(question: str, hits: list[Hit], quotes: list[tuple[int, str]]) -> Answer:
    text = " ".join(f"{sentence} [{n}]" for n, sentence in quotes)
    numbers = list(dict.fromkeys(n for n, _ in quotes))
    return Answer(question=question, text=text, citations=[Citation(number=n, hit=hits[n - 1]) for n in numbers],
                  hits=hits, found=True, mode="extractive")


def _value_lines(terms: set[str], hits: list[Hit]) -> list[tuple[int, str]]:
    """For 'PID ... 6': the heading line that names PID and its line '6 - ...', from the best hit holding both."""
    values = {t for t in terms if t.isdigit()}
    names = terms - values - _VALUE_WORDS
    if len(values) != 1 or not names:
        return []
    for n, hit in enumerate(hits, start=1):
        lines = [line.strip() for line in hit.text.split("\n") if line.strip()]
        for i, line in enumerate(lines):
            if entry_key(line) not in values:
                continue
            if names & set(tokenize(line)):
                return [(n, line)]
            heading = _heading_above(lines, i)
            if heading is not None and names & set(tokenize(heading)):
                return [(n, heading), (n, line)]
    return []


def _heading_above(lines: list[str], index: int) -> str | None:
    """The nearest line above `index` that is not itself a coded value (the variable it belongs to)."""
    for line in reversed(lines[max(0, index - 60):index]):
        key = entry_key(line)
        if key is None or not key.isdigit():
            return line
    return None


def _term_weights(terms: set[str], texts: list[str]) -> dict[str, float]:
    token_sets = [set(tokenize(t)) for t in texts]
    n = len(token_sets)
    return {t: math.log(1 + n / (1 + sum(t in ts for ts in token_sets))) + 0.1 for t in terms}


def _coverage(terms: set[str], best: list[tuple]) -> float:
    found = set().union(*(set(tokenize(item[3])) for item in best))
    return len(terms & found) / len(terms)


def _not_found(question: str, hits: list[Hit]) -> Answer:
    return Answer(question=question, text=NOT_FOUND, citations=[], hits=hits, found=False, mode="extractive")
