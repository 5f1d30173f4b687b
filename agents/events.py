"""What happens while the assistant answers, as it happens: text chunks, each tool step, each hand-off.

The sidebar chat, the Assistant page and the A2A stream all show the same events. `ask(..., on_event=)`
installs a sink for the duration of one answer (a context variable, so concurrent answers in other
threads or tasks never see each other's events); the tool loop calls `emit`. A sink that raises is
logged and dropped for the rest of the answer: a broken viewer must not break the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agents.tools.registry import ToolResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextChunk:
    """A piece of the answer's text, in order."""

    text: str


@dataclass(frozen=True)
class ToolStarted:
    """A specialist started a tool with these arguments."""

    tool: str
    arguments: dict[str, Any]
    agent: str


@dataclass(frozen=True)
class ToolFinished:
    """A tool finished (ok or failed); `result` has its text, table, chart or job."""

    tool: str
    arguments: dict[str, Any]
    agent: str
    result: ToolResult = field(repr=False)

    @property
    def ok(self) -> bool:
        return self.result.ok


@dataclass(frozen=True)
class Handoff:
    """One specialist handed the request to another."""

    source: str
    target: str


Event = TextChunk | ToolStarted | ToolFinished | Handoff
EventSink = Callable[[Event], None]

_sink: ContextVar[EventSink | None] = ContextVar("assistant_event_sink", default=None)


@contextmanager
def listening(sink: EventSink | None) -> Iterator[None]:
    """Send the events of the code inside to `sink` (None: keep whatever sink is installed)."""
    if sink is None:
        yield
        return
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


def emit(event: Event) -> None:
    """Hand an event to the current sink, if any."""
    sink = _sink.get()
    if sink is None:
        return
    try:
        sink(event)
    except Exception:
        log.exception("an assistant event viewer failed; it gets no more events for this answer")
        _sink.set(None)
