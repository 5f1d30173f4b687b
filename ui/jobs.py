"""Live job panels: poll the Job row with a fragment and rerun the page once it finishes."""

from __future__ import annotations

import uuid

import streamlit as st

import jobs
from core.models import Job, JobStatus
from ui.errors import guard
from ui.safe import escape_markdown, sanitize_reply

STATUS_ICON = {"queued": "⏳", "running": "🔄", "succeeded": "✅", "failed": "❌", "cancelled": "⏹️"}


def status_line(job: Job) -> str:
    return f"{STATUS_ICON.get(job.status, '')} **{escape_markdown(job.title or job.kind)}** — {job.status} · {job.progress:.0%}"


def job_panel(job_id: uuid.UUID | str, *, key: str) -> Job:
    """Show a job's progress; while it runs, poll every second and rerun the page when it ends."""
    job = jobs.get_job(job_id)
    if job.state.finished:
        _render(job, key=key)
        return job
    _live(str(job_id), key)
    return jobs.get_job(job_id)


@st.fragment(run_every=1.0)
def _live(job_id: str, key: str) -> None:
    job = jobs.get_job(job_id)
    _render(job, key=key)
    if job.state.finished:
        st.rerun(scope="app")


def _render(job: Job, *, key: str) -> None:
    st.markdown(status_line(job))
    st.progress(min(max(job.progress, 0.0), 1.0), text=job.message or job.status)
    if job.status == JobStatus.failed and job.error:
        st.error(sanitize_reply(job.error))
    if not job.state.finished and st.button("Cancel", key=f"cancel-{key}-{job.id}"):
        with guard():
            jobs.cancel(job.id)
            st.rerun()
