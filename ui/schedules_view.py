"""The Schedules page body: the create form, every schedule with its next and last run and its history,
and the banner Home shows when a refresh failed or the data drifted."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core import datasets, projects
from core.models.schedule import Schedule, ScheduleRun
from jobs import schedules
from ui.errors import guard
from ui.layout import link
from ui.safe import code_span, escape_markdown, sanitize_reply

RUN_ICON = {"queued": "⏳", "running": "🔄", "succeeded": "✅", "failed": "❌"}
KIND_LABEL = {"dataset.refresh": "Refresh from its source", "dataset.profile": "Re-profile",
              "template.apply": "Run a template"}


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def create_form() -> None:
    """Kind, dataset, interval or cron with a time zone; checked by `schedules.create` when saved."""
    options = list(datasets.list_datasets())
    if not options:
        st.info("Import a dataset first: a schedule refreshes or profiles one.")
        link("pages/1_Datasets.py", "Go to Datasets", "📁")
        return
    kind = st.selectbox("What to do", schedules.kinds(), format_func=lambda k: KIND_LABEL.get(k, k),
                        key="schedule-kind")
    templates = projects.list_templates() if kind == "template.apply" else []
    if kind == "template.apply" and not templates:
        st.info("No template yet: archive a finished project and make a template of it on the Archive page.")
        link("pages/7_Archive.py", "Go to the Archive", "🗄️")
        return
    with st.form("schedule-create", border=True):
        names = {str(d.id): f"{d.name} ({d.source})" for d in options}
        params: dict[str, str] = {}
        if kind == "template.apply":
            labels = {str(t.id): t.name for t in templates}
            target = st.selectbox("Template", list(labels), format_func=labels.__getitem__, key="schedule-template")
            params["dataset_id"] = st.selectbox("On the latest version of", list(names), format_func=names.__getitem__,
                                                key="schedule-target")
        else:
            target = st.selectbox("Dataset", list(names), format_func=names.__getitem__, key="schedule-target")
        how = st.radio("When", ["Interval", "Cron"], horizontal=True, key="schedule-how")
        every = st.number_input("Every (minutes)", min_value=0, value=60, step=1, key="schedule-every")
        cron = st.text_input("Cron expression (minute hour day month weekday)", value="0 6 * * *", key="schedule-cron")
        timezone = st.text_input("Time zone", value="UTC", key="schedule-tz",
                                 help="An IANA name: UTC, Europe/Paris, America/New_York…")
        if st.form_submit_button("Create schedule", type="primary"):
            with guard():
                row = schedules.create(kind, target, timezone=timezone, cron=cron if how == "Cron" else None,
                                       every_minutes=int(every) if how == "Interval" else None, params=params)
                st.success(f"Scheduled: {KIND_LABEL.get(row.kind, row.kind)} of {row.target_label}, {row.every}; "
                           f"next run {_when(row.next_run_at)}.")


@st.fragment(run_every=3.0)
def schedule_list() -> None:
    """One card per schedule, redrawn every three seconds so runs appear as they happen."""
    rows = schedules.list_schedules()
    if not rows:
        st.info("No schedules yet. Create one above to keep a dataset fresh.")
        return
    latest = schedules.last_runs()
    for row in rows:
        with st.container(border=True), guard():
            _card(row, latest.get(row.id))


def _card(row: Schedule, last: ScheduleRun | None) -> None:
    info, actions = st.columns([5, 1])
    status = "⏸️ paused" if row.paused else "▶️ active"
    with info:
        when = f"cron {code_span(row.cron)} ({escape_markdown(row.timezone)})" if row.cron else row.every
        st.markdown(f"**{escape_markdown(KIND_LABEL.get(row.kind, row.kind))}** · {escape_markdown(row.target_label)} · "
                    f"{when} · {status}")
        st.caption(f"Next run: {_when(None if row.paused else row.next_run_at)} · Last run: "
                   + (f"{RUN_ICON.get(last.status, '')} {last.status} {_when(last.created)}" if last else "never"))
        if last is not None and last.status == "failed" and last.error:
            st.error(sanitize_reply(last.error))
        elif last is not None and last.summary:
            (st.warning if last.drift else st.caption)(sanitize_reply(last.summary))
        with st.expander("History"):
            _history(row)
    with actions:
        _actions(row)


def _history(row: Schedule) -> None:
    runs = schedules.history(row.id)
    if not runs:
        st.caption("No runs yet.")
        return
    frame = pd.DataFrame([{"started": r.created, "slot": r.fire_time, "how": "by hand" if r.manual else "scheduled",
                           "status": f"{RUN_ICON.get(r.status, '')} {r.status}", "drift": r.drift,
                           "outcome": r.error or r.summary} for r in runs])
    st.dataframe(frame, hide_index=True, key=f"schedule-history-{row.id}")


def _actions(row: Schedule) -> None:
    if row.paused:
        if st.button("Resume", key=f"schedule-resume-{row.id}"):
            schedules.resume(row.id)
            _redraw()
    elif st.button("Pause", key=f"schedule-pause-{row.id}"):
        schedules.pause(row.id)
        _redraw()
    if st.button("Run now", key=f"schedule-run-{row.id}"):
        schedules.run_now(row.id)
        st.toast("Run queued; it appears below and on the Jobs page.")
        _redraw()
    if st.button("Delete", key=f"schedule-delete-{row.id}"):
        schedules.delete(row.id)
        _redraw()


def _redraw() -> None:
    from streamlit.errors import StreamlitInvalidLayoutContextError

    try:
        st.rerun(scope="fragment")
    except StreamlitInvalidLayoutContextError:  # a full run (first load, tests): rerun the page
        st.rerun()


def home_banner() -> None:
    """On Home: one warning per schedule whose newest run failed or found drifted data."""
    flagged = schedules.attention()
    for row, run in flagged:
        what = f"{KIND_LABEL.get(row.kind, row.kind)} of **{escape_markdown(row.target_label)}**"
        if run.status == "failed":
            st.warning(f"{what} failed {_when(run.finished or run.created)}: {sanitize_reply(run.error or '')}", icon="⏰")
        else:
            st.warning(f"{what}: the data drifted. {sanitize_reply(run.summary)}", icon="📉")
    if flagged:
        link("pages/8_Schedules.py", "See the schedules", "⏰")
