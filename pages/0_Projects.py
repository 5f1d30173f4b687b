"""Projects: organise work into projects with notes, findings, a methodology and a summary."""

import streamlit as st

from ui.layout import page_setup
from ui.projects_view import render_projects

page_setup("Projects", "🗂️")
st.title("Projects")
render_projects()
