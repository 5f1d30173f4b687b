"""Settings: health of the database, broker, workers, vector store, LLM and GPU; the configuration."""

import streamlit as st

import jobs
from core import system, users
from core.config import Settings, get_settings
from ui.admin_view import render_audit, render_users
from ui.agent_settings import render_agent_settings
from ui.errors import guard
from ui.jobs import job_panel
from ui.layout import page_setup

page_setup("Settings", "🩺")
if not users.is_admin():
    st.title("Settings and health")
    st.info("Only administrators see the system's settings and health. Ask one if something is wrong.")
    st.stop()
st.title("Settings and health")

if get_settings().sign_in:
    st.subheader("Users")
    with guard():
        render_users()
    st.subheader("Audit")
    st.caption("Sign-ins, shares and deletions, newest first.")
    with guard():
        render_audit()

st.subheader("Health")
for run_check in system.CHECKS:
    with st.spinner(f"Checking {run_check.__name__.removeprefix('check_').replace('_', ' ')}…"):
        check = run_check()
    st.markdown(f"{'✅' if check.ok else '⚠️'} **{check.name}** — {check.detail}")

with st.container(border=True):
    st.markdown("**Worker self-test**: sends a short job through the broker and shows it run.")
    if st.button("Run self-test", key="selftest-run"):
        with guard():
            st.session_state["selftest-job"] = str(jobs.submit("diagnostics.sleep", steps=5, interval=0.2).id)
    if st.session_state.get("selftest-job"):
        with guard():
            job_panel(st.session_state["selftest-job"], key="selftest")

st.subheader("Assistant")
with guard():
    render_agent_settings()

st.subheader("Configuration")
st.caption("Read from the environment and `.env`; secrets are shown only as set or not set.")
settings = get_settings()
rows = []
for name, field in Settings.model_fields.items():
    value = getattr(settings, name)
    secret = "key" in name
    shown = ("set" if value else "not set") if secret else str(value)
    rows.append({"setting": name.upper(), "value": shown, "meaning": field.description})
st.dataframe(rows, width="stretch", hide_index=True)
