"""A streamed answer on the page: the text through `st.write_stream`, each tool step live in an `st.status`.

`agents.ask` is synchronous, so it runs in a worker thread and hands its events (`agents.events`) over a
queue; the script thread renders them (no Streamlit call ever happens in the worker). The text shown
while streaming is always a prefix of the sanitised reply (`ui.safe.sanitize_reply`): model output
never reaches the page unsanitised, not even half a link or image.
"""

from __future__ import annotations

import contextvars
import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

from agents import events
from agents.specialists import SPECIALISTS
from core import users
from ui.safe import code_span, sanitize_reply

_DONE = object()
MAX_ARGS_SHOWN = 300


def _name(key: str) -> str:
    return SPECIALISTS[key].name if key in SPECIALISTS else key


class AnswerStream:
    """Runs `ask(on_event)` in a thread; `chunks(status)` yields safe text and writes the steps into `status`."""

    def __init__(self, ask: Callable[[events.EventSink], Any]) -> None:
        self._ask, self._queue = ask, queue.Queue()
        self.reply: Any = None
        self.error: BaseException | None = None
        self.steps = self.failed = 0
        self._raw = self._shown = ""

    def _work_as(self, user: Any) -> None:
        with users.acting_as(user if user is not None else users.NOBODY):
            self._work()

    def _work(self) -> None:
        try:
            self.reply = self._ask(self._queue.put)
        except BaseException as exc:  # re-raised in the script thread by `result`
            self.error = exc
        finally:
            self._queue.put(_DONE)

    def chunks(self, status: Any) -> Iterator[str]:
        """The answer as it streams (to pass to `st.write_stream`); tool steps go into `status` meanwhile."""
        # The thread acts as the page's user and in its project: it has no Streamlit session of its own
        user, context = users.current_id(), contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._work_as, user), name="assistant-answer", daemon=True).start()
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for ev in batch:
                if ev is not _DONE and not isinstance(ev, events.TextChunk):
                    self._step(ev, status)
            self._raw += "".join(ev.text for ev in batch if isinstance(ev, events.TextChunk))
            delta = self._safe_delta()
            if delta:
                yield delta
            if any(ev is _DONE for ev in batch):
                break
        self._close(status)

    def _safe_delta(self) -> str:
        safe = sanitize_reply(self._raw) if self._raw else ""
        if not safe.startswith(self._shown):  # sanitising changed what is shown: wait for the final render
            return ""
        delta, self._shown = safe[len(self._shown):], safe
        return delta

    def _step(self, ev: Any, status: Any) -> None:
        if isinstance(ev, events.ToolStarted):
            args = json.dumps(ev.arguments, default=str)[:MAX_ARGS_SHOWN]
            status.update(label=f"{_name(ev.agent)} runs {ev.tool}…", state="running")
            status.markdown(f"▶️ **{_name(ev.agent)}** runs {code_span(ev.tool)} with {code_span(args)}")
        elif isinstance(ev, events.ToolFinished):
            self.steps += 1
            self.failed += 0 if ev.ok else 1
            mark = "✅ done" if ev.ok else "⚠️ failed"
            status.markdown(f"{mark}: {code_span(ev.tool)}" + ("" if ev.ok else f" — {code_span(ev.result.text[:200])}"))
        elif isinstance(ev, events.Handoff):
            status.markdown(f"↪️ **{_name(ev.source)}** handed this to the **{_name(ev.target)}**")

    def _close(self, status: Any) -> None:
        if self.error is not None:
            status.update(label="The assistant stopped with an error", state="error")
        elif self.steps:
            label = f"{self.steps} tool step{'s' if self.steps > 1 else ''}" + (
                f", {self.failed} failed" if self.failed else "")
            status.update(label=label, state="error" if self.failed == self.steps else "complete")
        else:
            status.update(label="Answered without tools", state="complete")

    def result(self) -> Any:
        """The Reply, or the exception `ask` raised (after `chunks` is exhausted)."""
        if self.error is not None:
            raise self.error
        return self.reply


def stream_answer(ask: Callable[[events.EventSink], Any]) -> Any:
    """Render a streamed answer where the caller is (status above, text below) and return the Reply."""
    stream = AnswerStream(ask)
    status = st.status("Thinking…", expanded=False)
    st.write_stream(stream.chunks(status))
    return stream.result()
