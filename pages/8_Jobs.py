"""Jobs: every background job with live status, its chart, duration and outputs, cancel and retry."""

import streamlit as st

import jobs
from ui.errors import guard
from ui.jobs_view import STATUSES, job_list
from ui.layout import page_setup

page_setup("Jobs", "⚙️")
st.title("Jobs")

status = st.segmented_control("Status", STATUSES, default="all", key="jobs-status")

with guard():
    job_list(status)

with st.expander("Housekeeping"):
    if st.button("Delete finished jobs", key="jobs-clear"):
        with guard():
            st.toast(f"Deleted {jobs.delete_finished()} finished job(s).")
            st.rerun()
