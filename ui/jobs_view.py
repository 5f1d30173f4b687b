"""The Jobs page body: every job with live status, its chart, duration, outputs, cancel and retry."""

from __future__ import annotations

import streamlit as st

import jobs
from core.config import get_settings
from core.db import utcnow
from core.models import Job
from ui.errors import guard
from ui.job_charts import Output, format_duration, job_figure, job_outputs
from ui.jobs import STATUS_ICON, cancel_button
from ui.ml_view import MLKeys
from ui.safe import escape_markdown, sanitize_reply
from ui.state import Keys

STATUSES = ["all", "queued", "running", "succeeded", "failed", "cancelled"]
OUTPUT_PAGES = {"model": "pages/4_Models.py", "dataset": "pages/1_Datasets.py", "document": "pages/5_Documents.py"}


@st.fragment(run_every=2.0)
def job_list(status: str | None) -> None:
    """Counts and one card per job, refreshed every two seconds."""
    rows = jobs.list_jobs(status=None if status in (None, "all") else status, limit=100)
    counts = jobs.counts()
    st.caption(" · ".join(f"{STATUS_ICON[k]} {k}: {v}" for k, v in counts.items()))
    if not rows:
        st.info("No jobs here yet. Profiling a dataset or training a model starts one.")
        return
    for job in rows:
        with st.container(border=True), guard():
            _card(job)


def _card(job: Job) -> None:
    top, actions = st.columns([5, 1])
    with top:
        st.markdown(f"{STATUS_ICON.get(job.shown_status, '')} **{escape_markdown(job.title or job.kind)}** · `{job.kind}` · "
                    f"{job.shown_status} · created {job.created:%Y-%m-%d %H:%M:%S} · "
                    f"took {format_duration(job.duration_s)} · attempts {job.attempts}")
        if job.params.get("schedule_id"):
            st.caption("⏰ Started by a schedule (see the Schedules page for its history)")
        st.progress(min(max(job.progress, 0.0), 1.0), text=escape_markdown(job.message or job.status))
        if job.error:
            st.error(sanitize_reply(job.error))
        figure = job_figure(job)
        if figure is not None:
            st.plotly_chart(figure, key=f"metrics-{job.id}")
        _outputs(job)
    with actions:
        _actions(job)


def _actions(job: Job) -> None:
    if cancel_button(job, key=f"cancel-{job.id}"):
        _rerun_list()
    help_text = ("Send the job again: its queue message seems lost" if job.status == "queued"
                 else "Queue the job again")
    if _retryable(job) and st.button("Retry", key=f"retry-{job.id}", help=help_text):
        jobs.retry(job.id)
        _rerun_list()


def _rerun_list() -> None:
    """Redraw the list with the new state: the fragment alone after a click in it, else the whole page."""
    from streamlit.errors import StreamlitInvalidLayoutContextError

    try:
        st.rerun(scope="fragment")
    except StreamlitInvalidLayoutContextError:  # a full run (first load, tests): rerun the page
        st.rerun()


def _retryable(job: Job) -> bool:
    """Failed and cancelled jobs, and queued ones waiting longer than a lost message would take to be found."""
    if job.status in ("failed", "cancelled"):
        return True
    if job.status != "queued" or job.enqueued_at is None:
        return False
    return (utcnow() - job.enqueued_at).total_seconds() > get_settings().job_requeue_grace_s


def _outputs(job: Job) -> None:
    for output in job_outputs(job):
        if st.button(output.label, key=f"open-{output.target}-{job.id}", icon="➡️",
                     on_click=_remember, args=(output,)):
            _go(OUTPUT_PAGES[output.target])


def _remember(output: Output) -> None:
    """Button callback: select what the job produced on the page that shows it."""
    if output.target == "model":
        st.session_state[MLKeys.SECTION] = "Models"
        st.session_state[MLKeys.MODEL] = output.ref
    elif output.target == "dataset":
        st.session_state[Keys.DATASET_ID] = output.ref


def _go(page: str) -> None:
    from streamlit.errors import StreamlitPageNotFoundError

    try:
        st.switch_page(page)
    except StreamlitPageNotFoundError:  # the page runs on its own (no navigation): say where to go
        st.info(f"Open {page.split('_', 1)[-1].removesuffix('.py')} from the navigation.")
