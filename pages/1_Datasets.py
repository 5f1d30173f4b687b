"""Datasets: upload, list, preview and profile."""

import pandas as pd
import plotly.express as px
import streamlit as st

import jobs
from core import datasets
from ui.errors import guard
from ui.jobs import job_panel
from ui.picker import pick_dataset
from ui.state import Keys
from ui.layout import page_setup

page_setup("Datasets", "📁")
st.title("Datasets")

with st.expander("Upload a file", expanded=not datasets.count_datasets()):
    nonce = st.session_state.setdefault(Keys.UPLOAD_NONCE, 0)
    upload = st.file_uploader("CSV file", type=["csv", "tsv", "txt"], key=f"upload-{nonce}")
    name = st.text_input("Dataset name (optional)", key="upload-name")
    if upload is not None and st.button("Import", type="primary", key="upload-import"):
        with guard(), st.spinner("Importing…"):
            ds = datasets.ingest_upload(upload.getvalue(), upload.name, name=name or None)
            st.session_state[Keys.DATASET_ID] = str(ds.id)
            st.session_state[Keys.UPLOAD_NONCE] = nonce + 1
            st.toast(f"Imported {ds.name}: {ds.rows:,} rows")
            st.rerun()

ds = pick_dataset()
if ds is None:
    st.stop()

st.caption(f"{ds.rows:,} rows × {ds.columns} columns · {ds.size_bytes / 1024:,.1f} KB as Parquet · source {ds.source_detail}")
preview_tab, profile_tab = st.tabs(["Preview", "Profile"])

with preview_tab, guard():
    names = [c["name"] for c in ds.schema_]
    c1, c2, c3 = st.columns([2, 1, 1])
    sort_by = c1.selectbox("Sort by", ["(file order)", *names], key="preview-sort")
    descending = c2.toggle("Descending", key="preview-desc")
    pages = max(1, -(-ds.rows // 100))
    page = c3.number_input("Page", min_value=1, max_value=pages, value=1, key="preview-page")
    frame = datasets.preview(ds.id, offset=(page - 1) * 100, limit=100,
                             sort_by=None if sort_by == "(file order)" else sort_by, descending=descending)
    st.dataframe(frame, width="stretch", hide_index=True)
    st.caption(f"Rows {(page - 1) * 100 + 1:,}–{min(page * 100, ds.rows):,} of {ds.rows:,}")

with profile_tab, guard():
    job_key = f"{Keys.PROFILE_JOB}-{ds.id}"
    if st.button("Profile", type="primary", key="profile-run"):
        st.session_state[job_key] = str(jobs.submit("profile", title=f"Profile {ds.name}", dataset_id=str(ds.id)).id)
    job_id = st.session_state.get(job_key)
    if job_id:
        job = job_panel(job_id, key="profile")
        if job.status == "succeeded" and job.result:
            cols = pd.DataFrame(job.result["columns"])
            st.success(f"Profiled {job.result['rows']:,} rows and {len(cols)} columns.")
            st.dataframe(cols, width="stretch", hide_index=True, key="profile-table")
            st.plotly_chart(px.bar(cols, x="name", y="missing_pct", title="Missing values per column (%)"),
                            width="stretch")
    else:
        st.info("Run a profile to see each column's type, missing values, distinct values, min, max and mean.")

with st.expander("Delete this dataset"):
    if st.button("Delete", key="delete-dataset"):
        with guard():
            datasets.delete_dataset(ds.id)
            st.session_state.pop(Keys.DATASET_ID, None)
            st.rerun()
