"""Exports: a self-contained HTML page, PNG and SVG images rendered by kaleido with the local Chromium."""

from __future__ import annotations

import logging
import threading
import uuid
import warnings
from typing import Literal

import plotly.graph_objects as go
import plotly.io as pio

from core.charts.gallery import open_chart
from core.errors import InvalidInput, WorkbenchError

log = logging.getLogger(__name__)


class ExportFailed(WorkbenchError):
    """A chart that could not be exported as an image."""


def _figure(fig_or_id: go.Figure | uuid.UUID | str) -> go.Figure:
    return fig_or_id if isinstance(fig_or_id, go.Figure) else open_chart(fig_or_id)


def to_html(fig_or_id: go.Figure | uuid.UUID | str) -> str:
    """A self-contained HTML page of the chart (plotly.js inlined, so it opens offline)."""
    return _figure(fig_or_id).to_html(include_plotlyjs=True, full_html=True)


_kaleido_lock = threading.Lock()
_kaleido_started = threading.Event()


def _start_kaleido() -> None:
    """Keep one headless Chromium for exports in this process (the first export pays its start-up)."""
    if _kaleido_started.is_set():
        return
    import kaleido

    with _kaleido_lock:
        if not _kaleido_started.is_set():
            kaleido.start_sync_server(silence_warnings=True)
            _kaleido_started.set()


def to_image(fig_or_id: go.Figure | uuid.UUID | str, *, fmt: Literal["png", "svg"] = "png", scale: float = 2.0
             ) -> bytes:
    """The chart as PNG or SVG, rendered by kaleido with the local Chromium; raises ExportFailed."""
    if fmt not in ("png", "svg"):
        raise InvalidInput(f"Images can be PNG or SVG, not {fmt!r}.")
    fig = _figure(fig_or_id)
    try:
        _start_kaleido()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "kopts ignored when using a server"
            return pio.to_image(fig, format=fmt, scale=scale if fmt == "png" else 1)
    except Exception as exc:  # kaleido raises many types (no Chromium, timeouts)
        log.warning("image export failed: %s", exc)
        raise ExportFailed(f"The chart could not be exported as {fmt.upper()}: {exc}".split("\n")[0],
                           hint="Download it as HTML instead (it opens offline in any browser).") from exc
