"""Live job panels: poll the Job row with a fragment and rerun the page once it finishes."""

from __future__ import annotations

import uuid

import streamlit as st

import jobs
from core.models import Job, JobStatus
from ui.errors import guard
from ui.job_charts import format_duration
from ui.safe import escape_markdown, sanitize_reply

STATUS_ICON = {"queued": "⏳", "running": "🔄", "cancelling": "⏹️", "succeeded": "✅", "failed": "❌",
               "cancelled": "⏹️"}


def status_line(job: Job) -> str:
    took = f" · {format_duration(job.duration_s)}" if job.started else ""
    return (f"{STATUS_ICON.get(job.shown_status, '')} **{escape_markdown(job.title or job.kind)}** — {job.shown_status} · "
            f"{job.progress:.0%}{took}")


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
    st.progress(min(max(job.progress, 0.0), 1.0), text=escape_markdown(job.message or job.status))
    if job.status == JobStatus.failed and job.error:
        st.error(sanitize_reply(job.error))
    with guard():
        if cancel_button(job, key=f"cancel-{key}-{job.id}"):
            st.rerun()


def cancel_button(job: Job, *, key: str) -> bool:
    """A Cancel button for an unfinished job; True when it was just cancelled (the caller reruns).

    From the click on, the job shows as `cancelling` (a running job stops at its next progress
    report, which can be a model fit away) and the button gives way to a note saying so.
    """
    if job.state.finished:
        return False
    if job.cancel_requested:
        st.caption("Cancelling: the job stops at its next checkpoint.")
        return False
    if not st.button("Cancel", key=key):
        return False
    jobs.cancel(job.id)
    return True
