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
from core.rag.retrieve import Hit, search

log = logging.getLogger(__name__)

NOT_FOUND = "I could not find this in the documents."
_SENTINEL = "NOT_FOUND"
_CITE = re.compile(r"\[(\d{1,2})\]")
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n{2,}|\n(?=[-*•]\s)")
SYSTEM_PROMPT = (
    "You answer questions about the user's documents using ONLY the numbered sources given in the message. "
    "Cite every statement with the number of its source in square brackets, like [1] or [2][3]. "
    "Never use outside knowledge. If the sources do not contain the answer, reply with exactly "
    f"{_SENTINEL} and nothing else."
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
    """The user message: numbered sources, then the question."""
    blocks = [f"[{n}] ({hit.citation})\n{hit.text.strip()}" for n, hit in enumerate(hits, start=1)]
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
def sentences(text: str) -> list[str]:
    """Split a passage into sentences (and bullet lines)."""
    return [s.strip() for s in _SENTENCE.split(text) if s and len(s.strip()) > 2]


def extractive_answer(question: str, hits: list[Hit], *, max_sentences: int = 3) -> Answer:
    """Quote the sentences that share the most (rare) words with the question, each cited."""
    terms = set(tokenize(question))
    candidates = [(n, s) for n, hit in enumerate(hits, start=1) for s in sentences(hit.text)]
    if not terms or not candidates:
        return _not_found(question, hits)
    weights = _term_weights(terms, [s for _, s in candidates])
    scored = []
    for order, (n, sentence) in enumerate(candidates):
        words = set(tokenize(sentence))
        score = sum(weights[t] for t in terms & words) / math.sqrt(len(words) + 5)
        if score > 0:
            scored.append((-score, n, order, sentence))
    best = sorted(scored)[:max_sentences]
    if not best or _coverage(terms, best) < 0.34:
        return _not_found(question, hits)
    best.sort(key=lambda item: (item[1], item[2]))  # read in document order
    text = " ".join(f"{sentence} [{n}]" for _, n, _, sentence in best)
    numbers = list(dict.fromkeys(n for _, n, _, _ in best))
    return Answer(question=question, text=text, citations=[Citation(number=n, hit=hits[n - 1]) for n in numbers],
                  hits=hits, found=True, mode="extractive")


def _term_weights(terms: set[str], texts: list[str]) -> dict[str, float]:
    token_sets = [set(tokenize(t)) for t in texts]
    n = len(token_sets)
    return {t: math.log(1 + n / (1 + sum(t in ts for ts in token_sets))) + 0.1 for t in terms}


def _coverage(terms: set[str], best: list[tuple]) -> float:
    found = set().union(*(set(tokenize(item[3])) for item in best))
    return len(terms & found) / len(terms)


def _not_found(question: str, hits: list[Hit]) -> Answer:
    return Answer(question=question, text=NOT_FOUND, citations=[], hits=hits, found=False, mode="extractive")
