"""Schedules: keep datasets fresh and re-profile them on an interval or a cron, with a time zone."""

import streamlit as st

from ui.errors import guard
from ui.layout import page_setup
from ui.schedules_view import create_form, schedule_list

page_setup("Schedules", "⏰")
st.title("Schedules")
st.caption("Refresh a dataset from its URL, Kaggle or database source, or re-profile it, on a schedule. "
           "A refresh makes a new version only when the content changed, and flags schema changes and new alerts.")

with guard():
    st.subheader("New schedule")
    create_form()
    st.subheader("Schedules")
    schedule_list()
