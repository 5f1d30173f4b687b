"""The LLM endpoint: the official `openai` SDK against any OpenAI-compatible base URL.

One non-streamed completion (`complete`, used by the router) and one streamed turn with tool calls
(`stream_turn`, used by the tool loop in `agents.llm`). Every SDK failure becomes an LLMError whose
message says where and what went wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai

from core.config import get_settings
from core.errors import LLMError

TextSink = Callable[[str], None]


def client() -> openai.OpenAI:
    """An SDK client for the configured endpoint (OPENAI_BASE_URL, OPENAI_API_KEY, LLM_TIMEOUT_S)."""
    s = get_settings()
    key = s.openai_api_key.get_secret_value() if s.openai_api_key else ""
    return openai.OpenAI(api_key=key, base_url=s.openai_base_url or None, timeout=s.llm_timeout_s, max_retries=1)


def _llm_error(exc: Exception) -> LLMError:
    s = get_settings()
    where = s.openai_base_url or "api.openai.com"
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(f"The language model at {where} did not answer within {s.llm_timeout_s:g} s.")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"The language model at {where} could not be reached.")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(f"The language model at {where} returned an error (HTTP {exc.status_code}).")
    return LLMError(f"The language model at {where} sent an answer that could not be read.")


def complete(messages: list[dict[str, Any]], *, max_tokens: int = 200, model: str | None = None) -> str:
    """One non-streamed completion's text; raises LLMError."""
    try:
        resp = client().chat.completions.create(model=model or get_settings().llm_model, messages=messages,
                                                max_tokens=max_tokens, temperature=0)
        return resp.choices[0].message.content or ""
    except (openai.OpenAIError, ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise _llm_error(exc) from exc


@dataclass
class Call:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class Turn:
    text: str = ""
    calls: list[Call] = field(default_factory=list)


def stream_turn(messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, model: str, temperature: float,
                on_text: TextSink | None) -> Turn:
    """One streamed completion: text chunks go to `on_text`, tool-call deltas are assembled. Raises LLMError."""
    turn, calls = Turn(), {}
    try:
        stream = client().chat.completions.create(model=model, messages=messages, tools=tools or openai.omit,
                                                  temperature=temperature, stream=True)
        for chunk in stream:
            for choice in chunk.choices or []:
                delta = choice.delta
                if delta.content:
                    turn.text += delta.content
                    if on_text is not None:
                        on_text(delta.content)
                for tc in delta.tool_calls or []:
                    call = calls.setdefault(tc.index, Call())
                    call.id = tc.id or call.id
                    if tc.function is not None:
                        call.name += tc.function.name or ""
                        call.arguments += tc.function.arguments or ""
    except (openai.OpenAIError, ValueError, KeyError, AttributeError, TypeError) as exc:
        raise _llm_error(exc) from exc
    turn.calls = [c for _, c in sorted(calls.items())]
    if not turn.text and not turn.calls:
        raise LLMError("The language model sent an empty or unreadable answer.")
    return turn
