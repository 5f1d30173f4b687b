"""The Visualize page's parts: chart controls, the chart with its downloads, the gallery."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from core import charts
from core.errors import InvalidInput
from core.models import Dataset
from ui.cache import per_user
from ui.errors import guard
from ui.fields import follow_default
from ui.project_scope import scoped
from ui.safe import escape_markdown

NONE = "(none)"
KIND_LABELS = {"histogram": "Histogram", "kde": "Density (KDE)", "scatter": "Scatter", "bar": "Bar", "line": "Line",
               "area": "Area", "heatmap": "Heatmap", "box": "Box", "violin": "Violin", "pie": "Pie",
               "pair": "Pair plot", "custom": "Custom (plotly.express)"}
NEEDS = {"histogram": ("x",), "kde": ("x",), "scatter": ("x", "y"), "bar": ("x", "y?"), "line": ("x", "y"),
         "area": ("x", "y"), "box": ("x?", "y"), "violin": ("x?", "y"), "pie": ("x", "y?")}


class VizKeys:
    """Session-state keys of the Visualize page."""

    OPEN_CHART = "viz-open-chart-id"


@per_user(show_spinner="Drawing…", max_entries=32)
def _cached_chart(kind: str, dataset_id: str, version: int, spec_json: str) -> str:
    return charts.make_chart(kind, dataset_id, **json.loads(spec_json)).to_json()


def build_chart(kind: str, ds: Dataset, spec: dict[str, Any]) -> go.Figure:
    """make_chart, cached per dataset version and spec (the figure travels as JSON)."""
    return pio.from_json(_cached_chart(kind, str(ds.id), ds.version, json.dumps(spec, sort_keys=True)))


def _pick(label: str, options: list[str], key: str, *, optional: bool, index: int = 0) -> str | None:
    choices = [NONE, *options] if optional else options
    value = st.selectbox(label, choices, index=min(index, len(choices) - 1) if choices else None, key=key)
    return None if value in (NONE, None) else value


def chart_controls(ds: Dataset) -> tuple[str, dict[str, Any]]:
    """The kind and spec chosen with the widgets (keys prefixed 'viz-')."""
    names = [c["name"] for c in ds.schema_]
    numeric = [c["name"] for c in ds.schema_ if charts.is_numeric(c["dtype"])]
    kind = st.selectbox("Chart", list(KIND_LABELS), format_func=KIND_LABELS.get, key="viz-kind")
    spec: dict[str, Any] = {}
    c1, c2, c3 = st.columns(3)
    if kind in NEEDS:
        roles = NEEDS[kind]
        with c1:
            if "x" in roles or "x?" in roles:
                pool = numeric if kind in ("histogram", "kde") and numeric else names
                spec["x"] = _pick("X" if kind != "pie" else "Names", pool, "viz-x", optional="x?" in roles)
        with c2:
            if "y" in roles or "y?" in roles:
                spec["y"] = _pick("Y" if kind != "pie" else "Values", numeric, "viz-y", optional="y?" in roles,
                                  index=1 if len(numeric) > 1 and kind == "scatter" else 0)
        with c3:
            if kind not in ("pie", "kde"):
                spec["color"] = _pick("Colour", names, "viz-color", optional=True)
    elif kind in ("pair", "heatmap"):
        spec["columns"] = st.multiselect("Numeric columns", numeric, default=numeric[:4], key="viz-columns") or None
        if kind == "pair":
            spec["color"] = _pick("Colour", names, "viz-color", optional=True)
    else:
        spec.update(_custom_controls(names))
    spec.update(_options(kind, names))
    return kind, {k: v for k, v in spec.items() if v not in (None, False, "")}


def _custom_controls(names: list[str]) -> dict[str, Any]:
    fn = st.selectbox("plotly.express function", sorted(charts.PX_FUNCTIONS), key="viz-function",
                      index=sorted(charts.PX_FUNCTIONS).index("scatter"))
    default = json.dumps({"x": names[0], "y": names[-1]} if names else {})
    raw = st.text_area("Arguments (JSON: column names and options, never code)", default, key="viz-args")
    try:
        args = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The arguments are not valid JSON: {exc}.", hint='Example: {"x": "price"}') from exc
    if not isinstance(args, dict):
        raise InvalidInput("The arguments must be a JSON object.", hint='Example: {"x": "price", "nbins": 20}')
    return {"function": fn, "args": args}


def _options(kind: str, names: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with st.expander("Options", expanded=False):
        o1, o2, o3 = st.columns(3)
        if kind in ("bar", "line", "area", "pie", "heatmap"):
            out["agg"] = _pick("Aggregation", list(charts.AGGREGATIONS), "viz-agg", optional=True)
        if kind in ("histogram", "scatter", "bar", "line", "area", "box", "violin"):
            out["facet"] = o1.selectbox("Facet by", [NONE, *names], key="viz-facet")
            out["facet"] = None if out["facet"] == NONE else out["facet"]
            out["log_x"] = o2.toggle("Log X", key="viz-log-x") if kind not in ("box", "violin") else False
            out["log_y"] = o3.toggle("Log Y", key="viz-log-y")
        if kind == "scatter":
            out["trendline"] = _pick("Trendline", ["ols", "lowess"], "viz-trendline", optional=True)
        if kind == "histogram":
            out["nbins"] = st.slider("Bins", 5, 200, 30, key="viz-nbins")
        out["title"] = st.text_input("Title (optional)", key="viz-title") or None
    return out


def download_buttons(fig: go.Figure, *, key: str, name: str) -> None:
    """HTML and PNG downloads; both are produced only when clicked."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:60] or "chart"
    d1, d2, d3 = st.columns(3)
    d1.download_button("Download HTML", partial(charts.to_html, fig), file_name=f"{safe}.html", mime="text/html",
                       key=f"{key}-html", on_click="ignore")
    d2.download_button("Download PNG", partial(charts.to_image, fig, fmt="png"), file_name=f"{safe}.png",
                       mime="image/png", key=f"{key}-png", on_click="ignore")
    d3.download_button("Download SVG", partial(charts.to_image, fig, fmt="svg"), file_name=f"{safe}.svg",
                       mime="image/svg+xml", key=f"{key}-svg", on_click="ignore")


def save_controls(fig: go.Figure, ds: Dataset, kind: str, spec: dict[str, Any]) -> None:
    """'Name in the gallery' (the shown chart's title unless the user named this chart) and 'Save to gallery'."""
    shown = json.dumps({"kind": kind, "dataset": str(ds.id), "version": ds.version, "spec": spec}, sort_keys=True)
    follow_default("viz-save-name", fig.layout.title.text or kind, shown=shown)
    s1, s2 = st.columns([3, 1])
    name = s1.text_input("Name in the gallery", key="viz-save-name")
    if s2.button("Save to gallery", type="primary", key="viz-save"):
        saved = charts.save_chart(fig, name=name)
        st.toast(f"Saved '{escape_markdown(saved.name)}' to the gallery")


def render_gallery() -> None:
    """Every saved chart: reopen, download, delete."""
    rows = scoped(charts.list_charts(), "chart", what="saved charts")
    if not rows:
        st.info("No saved charts yet. Build one and press 'Save to gallery'.")
        return
    open_id = st.session_state.get(VizKeys.OPEN_CHART)
    for row in rows:
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{escape_markdown(row.name)}** · {KIND_LABELS.get(row.kind, row.kind)} · {escape_markdown(row.dataset_name)} "
                          f"v{row.dataset_version} · {row.created:%Y-%m-%d %H:%M}")
            if right.button("Open", key=f"viz-open-{row.id}"):
                st.session_state[VizKeys.OPEN_CHART] = str(row.id)
                open_id = str(row.id)
            if right.button("Delete", key=f"viz-delete-{row.id}"):
                with guard():
                    charts.delete_chart(row.id)
                    st.session_state.pop(VizKeys.OPEN_CHART, None)
                    st.rerun()
            if open_id == str(row.id):
                with guard():
                    fig = charts.open_chart(row.id)
                    st.plotly_chart(fig, width="stretch", key=f"viz-gallery-chart-{row.id}")
                    download_buttons(fig, key=f"viz-gallery-{row.id}", name=row.name)
