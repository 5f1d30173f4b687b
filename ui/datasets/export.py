"""The Datasets page's Export tab: a version, optionally filtered and with chosen columns, as CSV, Excel,
JSON or Parquet (text cells that spreadsheets would run are neutralised by `core.datasets.export`)."""

from __future__ import annotations

import streamlit as st

from core.datasets import export, versions
from core.models import Dataset
from ui.errors import guard
from ui.state import DatasetKeys

EXPORT_LABELS = {"csv": "CSV", "xlsx": "Excel", "json": "JSON", "parquet": "Parquet"}


def export_tab(ds: Dataset) -> None:
    numbers = [v.version for v in versions.history(ds.id)]
    c1, c2 = st.columns(2)
    version = c1.selectbox("Version", numbers, index=numbers.index(ds.version), key="export-version")
    fmt = c2.segmented_control("Format", list(EXPORT_LABELS), default="csv", format_func=EXPORT_LABELS.get,
                               key="export-format") or "csv"
    where = st.text_input("Only rows where (optional)", key="export-where")
    names = [c["name"] for c in versions.get_version(ds.id, version).schema_]
    columns = st.multiselect("Columns (empty: all)", names, key="export-columns")
    if st.button("Prepare download", key="export-prepare"):
        with guard(), st.spinner("Preparing…"):
            st.session_state[DatasetKeys.EXPORT] = (str(ds.id), export.export(
                ds.id, fmt, version=version, where=where or None, columns=columns or None))
    ready = st.session_state.get(DatasetKeys.EXPORT)
    if ready and ready[0] == str(ds.id):
        file = ready[1]
        st.download_button(f"Download {file.filename} ({file.rows:,} rows)", file.data, file_name=file.filename,
                           mime=file.mime, key="export-download", type="primary", on_click="ignore")
        st.caption("Text cells starting with =, +, - or @ are neutralised so spreadsheets do not run them.")
