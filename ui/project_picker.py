"""The current-project picker in the sidebar of every page.

The choice lives in `ProjectKeys.CURRENT`; each run makes it the current project of this session's
thread (`core.project_context`), so whatever the page creates joins it, and submitted jobs carry it.
"""

from __future__ import annotations

import streamlit as st

from core import project_context, projects
from ui.share_view import access_of
from ui.state import ProjectKeys

NONE = ""


def project_picker() -> str | None:
    """A sidebar selectbox of active projects; returns the current project id (None: no project).

    A project shared with this user read-only is not offered: what they make could not join it.
    """
    rows = [p for p in projects.list_projects() if access_of(p).can_edit]
    by_id = {str(p.id): p.name for p in rows}
    current = st.session_state.get(ProjectKeys.CURRENT) or NONE
    if current not in by_id:
        current = NONE
    st.session_state[ProjectKeys.CURRENT] = current
    st.session_state[ProjectKeys.PICKER] = current
    st.sidebar.selectbox("Current project", [NONE, *by_id], key=ProjectKeys.PICKER,
                         format_func=lambda i: by_id.get(i, "(no project)"), on_change=_remember,
                         help="What you create on any page joins this project.")
    if current:
        st.sidebar.toggle("Only this project", value=True, key=ProjectKeys.SCOPE,
                          help="Lists on every page show only the items linked to the current project.")
    project_context.set_current(current or None)
    return current or None


def set_current(project_id: str | None) -> None:
    """Make a project current for this session (from the Projects page)."""
    st.session_state[ProjectKeys.CURRENT] = project_id or NONE
    project_context.set_current(project_id or None)


def _remember() -> None:
    st.session_state[ProjectKeys.CURRENT] = st.session_state[ProjectKeys.PICKER]
