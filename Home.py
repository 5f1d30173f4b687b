"""Home: what is in the workbench, what is running, where to go next."""

import streamlit as st

import jobs
from core import datasets
from ui.jobs import status_line
from ui.layout import link, page_setup

page_setup("Home", "🏠")
st.title("Data-science workbench")
st.caption("Import data, explore it, test hypotheses, query it with SQL, train models, ask your documents.")

counts = jobs.counts()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Datasets", datasets.count_datasets())
c2.metric("Jobs running", counts["running"] + counts["queued"])
c3.metric("Jobs failed", counts["failed"])
c4.metric("Jobs finished", counts["succeeded"])

st.subheader("Quick actions")
q1, q2, q3 = st.columns(3)
with q1:
    link("pages/1_Datasets.py", "Import a dataset", "📁")
with q2:
    link("pages/8_Jobs.py", "Follow background jobs", "⚙️")
with q3:
    link("pages/9_Settings.py", "Check the system", "🩺")

left, right = st.columns(2)
with left:
    st.subheader("Recent datasets")
    recent = datasets.list_datasets()[:5]
    if not recent:
        st.info("No datasets yet: upload a CSV on the Datasets page.")
    for ds in recent:
        st.markdown(f"**{ds.name}** — {ds.rows:,} rows × {ds.columns} columns · {ds.created:%Y-%m-%d %H:%M}")
with right:
    st.subheader("Recent jobs")
    recent_jobs = jobs.list_jobs(limit=5)
    if not recent_jobs:
        st.info("No jobs yet.")
    for job in recent_jobs:
        st.markdown(status_line(job))
