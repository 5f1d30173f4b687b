"""Jobs: every background job with live status, progress, cancel, retry and error text."""

import pandas as pd
import plotly.express as px
import streamlit as st

import jobs
from ui.errors import guard
from ui.jobs import STATUS_ICON
from ui.layout import page_setup
from ui.safe import escape_markdown, sanitize_reply

page_setup("Jobs", "⚙️")
st.title("Jobs")

status = st.segmented_control("Status", ["all", "queued", "running", "succeeded", "failed", "cancelled"],
                              default="all", key="jobs-status")


@st.fragment(run_every=2.0)
def job_list(status: str) -> None:
    rows = jobs.list_jobs(status=None if status in (None, "all") else status, limit=100)
    counts = jobs.counts()
    st.caption(" · ".join(f"{STATUS_ICON[k]} {k}: {v}" for k, v in counts.items()))
    if not rows:
        st.info("No jobs here yet. Profiling a dataset or training a model starts one.")
        return
    for job in rows:
        with st.container(border=True):
            top, actions = st.columns([5, 1])
            top.markdown(f"{STATUS_ICON.get(job.status, '')} **{escape_markdown(job.title or job.kind)}** · `{job.kind}` · "
                         f"{job.status} · created {job.created:%Y-%m-%d %H:%M:%S} · attempts {job.attempts}")
            top.progress(min(max(job.progress, 0.0), 1.0), text=job.message or job.status)
            if job.error:
                top.error(sanitize_reply(job.error))
            if job.metrics and len(job.metrics) > 1:
                numeric = pd.DataFrame(job.metrics).select_dtypes("number")
                if not numeric.empty:
                    top.plotly_chart(px.line(numeric, markers=True, height=220), key=f"metrics-{job.id}")
            with actions, guard():
                if not job.state.finished and st.button("Cancel", key=f"cancel-{job.id}"):
                    jobs.cancel(job.id)
                    st.rerun(scope="fragment")
                if job.status in ("failed", "cancelled") and st.button("Retry", key=f"retry-{job.id}"):
                    jobs.retry(job.id)
                    st.rerun(scope="fragment")


with guard():
    job_list(status)

with st.expander("Housekeeping"):
    if st.button("Delete finished jobs", key="jobs-clear"):
        with guard():
            st.toast(f"Deleted {jobs.delete_finished()} finished job(s).")
            st.rerun()
