"""Analyze: hypothesis tests and SQL over the stored datasets."""

import streamlit as st

from ui.layout import page_setup
from ui.sql_view import render_sql
from ui.stats_view import render_stats

page_setup("Analyze", "🧪")
st.title("Analyze")
stats_tab, sql_tab = st.tabs(["Hypothesis tests", "SQL"])
with stats_tab:
    render_stats()
with sql_tab:
    render_sql()
