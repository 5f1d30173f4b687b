"""Exports: a self-contained HTML page, PNG and SVG images rendered by kaleido with the local Chromium."""

from __future__ import annotations

import logging
import threading
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Literal

import plotly.graph_objects as go
import plotly.io as pio

from core.charts.gallery import open_chart
from core.errors import InvalidInput, WorkbenchError

log = logging.getLogger(__name__)

EXPORT_WIDTH = 700  # kaleido's default image size, in CSS pixels
EXPORT_TIMEOUT_S = 120  # the first export also starts Chromium, slow on a busy machine
ROOM_FOR_LABELS = 300  # px of tick labels the default width leaves room for
CHAR_WIDTH = 0.5  # average glyph width as a fraction of the font size (Arial-like fonts: ~0.45)


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
    from choreographer.browsers.chromium import Chromium

    with _kaleido_lock:
        if _kaleido_started.is_set():
            return
        browser = Chromium.find_browser(skip_local=False)  # as kaleido looks for it (BROWSER_PATH, then the usual)
        if not browser or not Path(browser).exists():  # else kaleido's server thread dies and leaves us waiting
            raise ExportFailed("No Chromium was found to render images.",
                               hint="Install it (`make chromium`, or apt-get install chromium), or download HTML.")
        kaleido.start_sync_server(silence_warnings=True)
        _kaleido_started.set()


def _label_chars(values: Any) -> int:
    """The length of the longest text label among an axis's values (0 for numbers)."""
    if values is None:
        return 0
    return max((len(v) for v in values if isinstance(v, str)), default=0)


def export_layout(fig: go.Figure) -> go.Figure:
    """A copy of `fig` laid out for a fixed-size image: margins grow to fit the tick labels (automargin), and
    a chart with long y labels (a heatmap of long category names) gets wider instead of cropping them."""
    out = go.Figure(fig)
    out.update_xaxes(automargin=True)
    out.update_yaxes(automargin=True)
    if fig.layout.width is None:
        longest = max([_label_chars(getattr(t, "y", None)) for t in fig.data]
                      + [_label_chars(fig.layout.yaxis.ticktext)])
        font = fig.layout.font.size or (fig.layout.template.layout.font.size or 12)
        extra = longest * font * CHAR_WIDTH - ROOM_FOR_LABELS
        if extra > 0:
            out.update_layout(width=int(EXPORT_WIDTH + extra))
    return out


def _render(fig: go.Figure, fmt: str, scale: float) -> bytes:
    _start_kaleido()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "kopts ignored when using a server"
        return pio.to_image(export_layout(fig), format=fmt, scale=scale if fmt == "png" else 1)


def to_image(fig_or_id: go.Figure | uuid.UUID | str, *, fmt: Literal["png", "svg"] = "png", scale: float = 2.0
             ) -> bytes:
    """The chart as PNG or SVG, rendered by kaleido with the local Chromium; raises ExportFailed."""
    if fmt not in ("png", "svg"):
        raise InvalidInput(f"Images can be PNG or SVG, not {fmt!r}.")
    fig = _figure(fig_or_id)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart-export")
    try:
        return pool.submit(_render, fig, fmt, scale).result(timeout=EXPORT_TIMEOUT_S)
    except ExportFailed:
        raise
    except FutureTimeout as exc:
        log.warning("image export took over %s s", EXPORT_TIMEOUT_S)
        raise ExportFailed(f"The chart could not be exported as {fmt.upper()} within {EXPORT_TIMEOUT_S} s.",
                           hint="Try again, or download it as HTML (it opens offline in any browser).") from exc
    except Exception as exc:  # kaleido raises many types (a browser that fails to start, a bad figure)
        log.warning("image export failed: %s", exc)
        raise ExportFailed(f"The chart could not be exported as {fmt.upper()}: {exc}".split("\n")[0],
                           hint="Download it as HTML instead (it opens offline in any browser).") from exc
    finally:
        pool.shutdown(wait=False)
