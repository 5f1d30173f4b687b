"""The one place that turns exceptions into what the user sees."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.errors import WorkbenchError
from ui.safe import escape_markdown, sanitize_reply

log = logging.getLogger("workbench.ui")

_CONTROL_FLOW = ("StopException", "RerunException")


def show_error(exc: BaseException, *, as_text: bool = False) -> None:
    """Render a WorkbenchError as its message and hint; anything else as a short message with an id.

    `as_text` where the message quotes names from the data (columns, datasets): every character shows as typed.
    """
    if isinstance(exc, WorkbenchError):
        message = f"{exc.message}\n\n{exc.hint}" if exc.hint else exc.message
        st.error(escape_markdown(message, newlines=True) if as_text else sanitize_reply(message), icon="⚠️")
        return
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=exc)
    st.error(f"Something went wrong (error id {error_id}). The details are in the server log.", icon="🛑")


@contextmanager
def guard(*, as_text: bool = False) -> Iterator[None]:
    """Show any error raised in the block instead of a traceback (Streamlit's own control flow passes)."""
    try:
        yield
    except Exception as exc:
        if type(exc).__name__ in _CONTROL_FLOW:
            raise
        show_error(exc, as_text=as_text)
