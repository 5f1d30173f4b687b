"""Archive: finished projects kept read-only, restored, turned into templates and re-run on new data."""

import streamlit as st

from ui.archive_view import render_archive
from ui.layout import page_setup

page_setup("Archive", "🗄️")
st.title("Archive")
render_archive()
