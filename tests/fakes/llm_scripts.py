"""Helpers for LLM-path tests over `tests.fakes.openai_server.FakeOpenAI`: point the settings at it, script turns."""

from __future__ import annotations

from typing import Any

import pytest

from core.config import reload_settings
from tests.fakes.openai_server import FakeOpenAI


def use_fake(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, *, timeout_s: float = 10, rounds: int = 8) -> None:
    """Configure the workbench to talk to the fake endpoint with an API key."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("LLM_MODEL", "fake-model")
    monkeypatch.setenv("LLM_TIMEOUT_S", str(timeout_s))
    monkeypatch.setenv("LLM_MAX_TOOL_ROUNDS", str(rounds))
    reload_settings()


def tool(name: str, **arguments: Any) -> dict[str, Any]:
    """A scripted model turn that calls one tool."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def raw_tool(name: str, arguments: str) -> dict[str, Any]:
    """A scripted model turn whose tool arguments are a raw (possibly malformed) string."""
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def tool_messages(request: dict[str, Any]) -> list[str]:
    """The contents of the tool results the client sent back in a chat request."""
    return [m["content"] for m in request.get("messages", []) if m.get("role") == "tool"]


def system_prompt(request: dict[str, Any]) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "system")
