"""The Datasets page's Clean & versions tab: one cleaning step at a time (previewed, then applied as a new
version), the version history, rollback and the diff between two versions."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core import cleaning
from core.datasets import versions
from core.models import Dataset
from ui.errors import guard
from ui.safe import escape_markdown
from ui.state import DatasetKeys

OPS = {"drop": "Drop columns", "rename": "Rename a column", "cast": "Change a column's type",
       "fill": "Fill missing values", "drop_missing": "Drop rows with missing values", "filter": "Filter rows",
       "dedupe": "Remove duplicate rows", "derive": "New column from an expression", "one_hot": "One-hot encode",
       "bin": "Bin a numeric column"}
DIFF_MAX_COLUMNS = 200  # versions.diff compares column statistics in one query: wider data is compared by schema

ROLLED_BACK = "datasets-rolled-back"  # the message of a rollback, shown once after its rerun


def clean_tab(ds: Dataset) -> None:
    names = [c["name"] for c in ds.schema_]
    op = st.selectbox("Step", list(OPS), format_func=OPS.get, key="clean-op")
    step = {"op": op, **_step_form(op, names)}
    c1, c2 = st.columns(2)
    if c1.button("Preview step", key="clean-preview"):
        with guard():
            st.session_state[DatasetKeys.STEP_PREVIEW] = cleaning.preview_step(ds.id, step)
    if c2.button("Apply step (new version)", type="primary", key="clean-apply"):
        with guard():
            new = cleaning.apply_step(ds.id, step)
            st.session_state.pop(DatasetKeys.STEP_PREVIEW, None)
            st.toast(f"Version {new.version}: {new.rows:,} rows × {new.columns} columns")
            st.rerun()
    preview = st.session_state.get(DatasetKeys.STEP_PREVIEW)
    if isinstance(preview, pd.DataFrame):
        st.dataframe(preview, width="stretch", hide_index=True, key="clean-preview-table")
    _history(ds)


def _step_form(op: str, names: list[str]) -> dict[str, Any]:
    key = f"clean-{op}"
    if op == "drop":
        return {"columns": st.multiselect("Columns to drop", names, key=f"{key}-columns")}
    if op == "rename":
        old = st.selectbox("Column", names, key=f"{key}-column")
        return {"mapping": {old: st.text_input("New name", key=f"{key}-name")}}
    if op == "cast":
        return {"column": st.selectbox("Column", names, key=f"{key}-column"),
                "to": st.selectbox("New type", list(cleaning.CAST_TYPES), key=f"{key}-to"),
                "on_error": "null" if st.checkbox("Set values that do not convert to empty", key=f"{key}-null")
                else "fail"}
    if op == "fill":
        column = st.selectbox("Column", names, key=f"{key}-column")
        method = st.selectbox("With", cleaning.FILL_METHODS, key=f"{key}-method")
        value = st.text_input("Value", key=f"{key}-value") if method == "value" else None
        return {"column": column, "method": method, "value": value}
    return _row_step_form(op, names, key)


def _row_step_form(op: str, names: list[str], key: str) -> dict[str, Any]:
    if op == "drop_missing":
        return {"columns": st.multiselect("Missing in (empty: any column)", names, key=f"{key}-columns"),
                "how": st.radio("Drop when", ["any", "all"], horizontal=True, key=f"{key}-how")}
    if op == "filter":
        return {"expression": st.text_input("Keep rows where", key=f"{key}-expr", placeholder="price > 0")}
    if op == "dedupe":
        return {"columns": st.multiselect("Compare (empty: all columns)", names, key=f"{key}-columns")}
    if op == "derive":
        return {"name": st.text_input("New column", key=f"{key}-name"),
                "expression": st.text_input("Expression (DuckDB)", key=f"{key}-expr", placeholder="price * quantity")}
    if op == "one_hot":
        return {"column": st.selectbox("Column", names, key=f"{key}-column"),
                "max_categories": st.number_input("Most categories", 1, 200, 20, key=f"{key}-max")}
    return {"column": st.selectbox("Column", names, key=f"{key}-column"),
            "bins": st.number_input("Bins", 2, 100, 5, key=f"{key}-bins"),
            "method": st.radio("Bins of", ["width", "quantile"], horizontal=True, key=f"{key}-method")}


def _history(ds: Dataset) -> None:
    st.subheader("History")
    rows = versions.history(ds.id)
    table = pd.DataFrame([{"version": v.version, "current": "✅" if v.version == ds.version else "",
                           "step": v.summary, "rows": v.rows, "columns": v.columns, "from": v.parent,
                           "created": v.created} for v in rows])
    st.dataframe(table, width="stretch", hide_index=True, key="history-table")
    numbers = [v.version for v in rows]
    if len(numbers) < 2:
        return
    c1, c2 = st.columns(2)
    done = st.session_state.pop(ROLLED_BACK, None)
    if done:  # said after the rerun, where it stays: a toast raised just before a rerun could be gone unseen
        c1.success(done)
    target = c1.selectbox("Roll back to version", numbers, index=0, key="rollback-version")
    if c1.button("Roll back", key="rollback-run", disabled=target == ds.version):
        with guard():
            versions.rollback(ds.id, target)
            st.session_state[ROLLED_BACK] = f"Version {target} is current again."
            st.rerun()
    a, b = _diff_versions(ds, numbers, c2)
    with guard():
        if ds.columns > DIFF_MAX_COLUMNS:
            _schema_diff(ds, a, b)
        else:
            _diff(versions.diff(ds.id, a, b))


def _schema_diff(ds: Dataset, a: int, b: int) -> None:
    """Rows and added, removed and retyped columns from the version records alone (no scan of the data)."""
    va, vb = versions.get_version(ds.id, a), versions.get_version(ds.id, b)
    types_a = {c["name"]: c["dtype"] for c in va.schema_}
    types_b = {c["name"]: c["dtype"] for c in vb.schema_}
    retyped = [f"{c} ({types_a[c]} → {types_b[c]})" for c in types_a if c in types_b and types_a[c] != types_b[c]]
    added, removed = [c for c in types_b if c not in types_a], [c for c in types_a if c not in types_b]
    st.markdown(f"**Rows** {va.rows:,} → {vb.rows:,} · **added** {', '.join(added[:20]) or '—'} · "
                f"**removed** {', '.join(removed[:20]) or '—'} · **retyped** {', '.join(retyped[:20]) or '—'}")
    st.caption(f"Column statistics are compared for datasets of up to {DIFF_MAX_COLUMNS} columns; this one has "
               f"{ds.columns:,}, so only its columns and rows are compared.")


def _diff_versions(ds: Dataset, numbers: list[int], where: Any) -> tuple[int, int]:
    """The two versions to compare: the latest two whenever the list of versions has changed, else the
    analyst's choice (widget state set before the widgets exist, so the defaults show)."""
    seen = (str(ds.id), tuple(numbers))
    if st.session_state.get(DatasetKeys.DIFF_VERSIONS) != seen:
        st.session_state[DatasetKeys.DIFF_VERSIONS] = seen
        st.session_state["diff-a"], st.session_state["diff-b"] = numbers[-2], numbers[-1]
    a = where.selectbox("Compare version", numbers, key="diff-a")
    b = where.selectbox("with version", numbers, key="diff-b")
    return a, b


def _diff(d: versions.VersionDiff) -> None:
    retyped = ", ".join(f"{escape_markdown(r['column'])} ({r['before']} → {r['after']})" for r in d.retyped) or "—"
    added, removed = ", ".join(map(escape_markdown, d.added)), ", ".join(map(escape_markdown, d.removed))
    st.markdown(f"**Rows** {d.rows_a:,} → {d.rows_b:,} · **added** {added or '—'} · "
                f"**removed** {removed or '—'} · **retyped** {retyped}")
    if d.changes:
        st.dataframe(pd.DataFrame([c.model_dump() for c in d.changes]).astype(str), width="stretch", hide_index=True,
                     key="diff-table")
