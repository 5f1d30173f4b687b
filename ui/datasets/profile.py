"""The Datasets page's Profile tab: run a profile as a job, then show it in four tabs that open on the
overview (rows, duplicates, alerts, missing values), then columns, one column's detail and correlations.

Large correlation grids are unreadable as heatmaps, so above HEATMAP_MAX columns the strongest pairs
are listed instead; the missing-values chart is drawn only when something is missing.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

import jobs
from core import eda
from core.models import Dataset
from ui.jobs import job_panel
from ui.safe import sanitize_reply
from ui.state import Keys

HEATMAP_MAX = 12  # most columns in a correlation heatmap that stays readable
MISSING_BARS = 50  # most columns in the missing-values chart
TOP_PAIRS = 30
METHOD_ORDER = ("pearson", "spearman", "cramers_v", "correlation_ratio")


def profile_tab(ds: Dataset) -> None:
    job_key = f"{Keys.PROFILE_JOB}-{ds.id}-{ds.version}"
    cached = eda.cached_profile(ds.id)
    label = "Profile again" if cached else "Profile"
    if st.button(label, type="primary", key="profile-run"):
        job = jobs.submit("profile", title=f"Profile {ds.name}", dataset_id=str(ds.id), refresh=bool(cached))
        st.session_state[job_key] = str(job.id)
    job_id = st.session_state.get(job_key)
    if job_id:
        job = job_panel(job_id, key="profile")
        if job.status == "succeeded" and job.result:
            cached = eda.cached_profile(ds.id)
    if cached is None:
        st.info("Run a profile to see each column's type, missing values, distinct values, statistics, "
                "histograms, top values, correlations and alerts.")
        return
    render_profile(cached)


def render_profile(prof: eda.Profile) -> None:
    st.success(f"Profiled {prof.rows:,} rows and {len(prof.columns)} columns.")
    overview, columns, detail, corr = st.tabs(["Overview", "Columns", "Column detail", "Correlations"])
    with overview:
        _overview(prof)
    with columns:
        st.dataframe(_column_table(prof), width="stretch", hide_index=True, key="profile-table")
    with detail:
        _column_detail(prof)
    with corr:
        _correlations(prof)


def _column_table(prof: eda.Profile) -> pd.DataFrame:
    table = pd.DataFrame([c.model_dump(exclude={"histogram", "top_values", "examples"}) for c in prof.columns])
    for name in ("min", "max"):  # numbers, dates and text share these columns: text keeps Arrow happy
        table[name] = table[name].map(lambda v: None if v is None else str(v))
    return table


def _overview(prof: eda.Profile) -> None:
    m = st.columns(4)
    m[0].metric("Rows", f"{prof.rows:,}")
    m[1].metric("Duplicate rows", f"{prof.duplicate_rows:,}", f"{prof.duplicate_pct:g}%", delta_color="off")
    m[2].metric("Memory (Arrow)", f"{prof.memory_bytes / 1024 / 1024:,.1f} MB")
    m[3].metric("Computed in", f"{prof.seconds:.2f} s")
    if prof.alerts:
        with st.expander(f"Alerts ({len(prof.alerts)})", expanded=True):
            for a in prof.alerts:
                icon = {"error": "🛑", "warning": "⚠️"}.get(a.severity, "ℹ️")
                st.markdown(f"{icon} **{a.kind.replace('_', ' ')}** — {sanitize_reply(a.message)}")
    _missing(prof)


def _missing(prof: eda.Profile) -> None:
    missing = sorted((c for c in prof.columns if c.missing), key=lambda c: -c.missing_pct)
    if not missing:
        st.success("No missing values: every column is filled in every row.")
        return
    shown = pd.DataFrame([{"name": c.name, "missing_pct": c.missing_pct} for c in missing[:MISSING_BARS]])
    title = "Missing values per column (%)" if len(missing) <= MISSING_BARS else \
        f"Missing values (%): the {MISSING_BARS} emptiest of {len(missing):,} columns with gaps"
    st.plotly_chart(px.bar(shown, x="name", y="missing_pct", title=title), width="stretch", key="profile-missing")


def _column_detail(prof: eda.Profile) -> None:
    name = st.selectbox("Column detail", [c.name for c in prof.columns], key="profile-column")
    col = prof.column(name)
    left, right = st.columns(2)
    if col.histogram:
        hist = pd.DataFrame([b.model_dump() for b in col.histogram])
        left.plotly_chart(px.bar(hist, x="start", y="count", title=f"Distribution of {name}"), width="stretch")
    if col.top_values:
        top = pd.DataFrame([v.model_dump() for v in col.top_values])
        top["value"] = top["value"].astype(str)
        right.plotly_chart(px.bar(top, x="count", y="value", orientation="h", title=f"Top values of {name}"),
                           width="stretch")
    facts = {k: v for k, v in col.model_dump(exclude={"histogram", "top_values"}).items() if v not in (None, [], "")}
    st.json(facts, expanded=False)


def _correlations(prof: eda.Profile) -> None:
    found = {c.method for c in prof.correlations}
    methods = [m for m in METHOD_ORDER if m in found] + sorted(found - set(METHOD_ORDER))
    if not methods:
        st.info("No correlations: the data needs two numeric columns, two categorical columns, or one of each.")
        return
    method = st.segmented_control("Correlation", methods, default=methods[0], key="profile-corr",
                                  format_func=lambda m: m.replace("_", " ")) or methods[0]
    matrix = pd.DataFrame(prof.matrix(method))
    title = f"{method.replace('_', ' ')} correlation"
    if len(matrix.columns) > HEATMAP_MAX or len(matrix.index) > HEATMAP_MAX:
        st.caption(f"The {TOP_PAIRS} strongest pairs of {len(matrix.columns)} columns ({title}):")
        pairs = pd.DataFrame([c.model_dump(exclude={"method"}) for c in prof.top_pairs(method, TOP_PAIRS)])
        st.dataframe(pairs, width="stretch", hide_index=True, key="profile-corr-pairs")
    elif not matrix.empty:
        matrix = matrix.reindex(index=matrix.columns)
        size = 120 + 48 * len(matrix.columns)
        st.plotly_chart(px.imshow(matrix, text_auto=".2f", zmin=-1, zmax=1, color_continuous_scale="RdBu_r",
                                  title=title, height=size), width="stretch", key="profile-corr-heatmap")
    if prof.spearman_sample_rows and prof.spearman_sample_rows < prof.rows:
        st.caption(f"Spearman on a sample of {prof.spearman_sample_rows:,} rows; other measures use every row.")
