"""The OpenAI-compatible client used for embeddings and answers, built from the settings."""

from __future__ import annotations

from openai import OpenAI

from core.config import get_settings
from core.errors import LLMError


def llm_configured() -> bool:
    """True when OPENAI_API_KEY is set (answers then come from the LLM)."""
    key = get_settings().openai_api_key
    return key is not None and bool(key.get_secret_value().strip())


def openai_client() -> OpenAI:
    """A client for OPENAI_BASE_URL (or api.openai.com) with LLM_TIMEOUT_S; raises LLMError without a key."""
    settings = get_settings()
    if not llm_configured():
        raise LLMError("No language model is configured.",
                       hint="Set OPENAI_API_KEY (and OPENAI_BASE_URL for Ollama or vLLM) in the settings.")
    return OpenAI(api_key=settings.openai_api_key.get_secret_value(), base_url=settings.openai_base_url or None,
                  timeout=settings.llm_timeout_s, max_retries=2)


def describe(exc: Exception) -> str:
    """A short, secret-free description of an OpenAI SDK error."""
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    return f"{name} (HTTP {status})" if status else name
