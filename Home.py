"""Home: what is in the workbench, what is running, where to go next."""

import streamlit as st

from core import activity
from ui.errors import guard
from ui.layout import link, page_setup
from ui.projects_view import recent_projects
from ui.safe import sanitize_reply
from ui.schedules_view import home_banner

page_setup("Home", "🏠")
st.title("Data-science workbench")
st.caption("Import data, explore it, test hypotheses, query it with SQL, train models, ask your documents — "
           "and ask the assistant in the sidebar on any page.")

with guard():
    home_banner()
    counts = activity.summary()
    cols = st.columns(6)
    cols[0].metric("Datasets", counts.datasets)
    cols[1].metric("Models", counts.models)
    cols[2].metric("Documents", counts.documents)
    cols[3].metric("Charts saved", counts.charts)
    cols[4].metric("Jobs running", counts.jobs_active)
    cols[5].metric("Jobs failed", counts.jobs_failed)

    st.subheader("Quick actions")
    actions = [("pages/1_Datasets.py", "Import a dataset", "📁"), ("pages/2_Visualize.py", "Build a chart", "📈"),
               ("pages/3_Analyze.py", "Test a hypothesis or run SQL", "🧪"), ("pages/4_Models.py", "Train a model", "🤖"),
               ("pages/5_Documents.py", "Ask your documents", "📄"), ("pages/6_Assistant.py", "Talk to the assistant", "💬"),
               ("pages/8_Jobs.py", "Follow background jobs", "⚙️"), ("pages/8_Schedules.py", "Schedule refreshes", "⏰"),
               ("pages/9_Settings.py", "Check the system", "🩺")]
    grid = st.columns(4)
    for i, (page, label, icon) in enumerate(actions):
        with grid[i % 4]:
            link(page, label, icon)

    st.subheader("Recent projects")
    recent_projects()
    link("pages/0_Projects.py", "All projects", "🗂️")

    st.subheader("Recent activity")
    events = activity.recent()
    if not events:
        st.info("Nothing yet. Start by importing a dataset — a CSV, Excel or Parquet file, a URL, Kaggle or a database.")
    for event in events:
        st.markdown(f"{event.icon} {sanitize_reply(event.what)} · {event.when:%Y-%m-%d %H:%M}")
