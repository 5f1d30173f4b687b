"""Lists filtered by the current project: while a project is current and "Only this project" is on (the
sidebar toggle under the project picker), every page's lists show only the items linked to it.

Pages call `scoped(rows, item_type)` on the rows they list; nothing changes when no project is current.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import streamlit as st

from core import projects
from ui.safe import escape_markdown
from ui.state import ProjectKeys

Row = TypeVar("Row")


def active() -> str | None:
    """The current project's id when lists are filtered by it, else None."""
    current = st.session_state.get(ProjectKeys.CURRENT) or None
    if current and st.session_state.get(ProjectKeys.SCOPE, True):
        return str(current)
    return None


def scoped(rows: Sequence[Row], item_type: str, *, what: str = "items") -> list[Row]:
    """`rows` (stored items with an `id`) linked to the current project when lists are filtered by it.

    When the filter hides something, a caption says so and how to see everything.
    """
    project_id = active()
    if project_id is None:
        return list(rows)
    linked = {str(i) for i in projects.item_ids(project_id, item_type)}
    kept = [r for r in rows if str(_id(r)) in linked]
    if len(kept) < len(rows):
        name = projects.get_project(project_id).name
        st.caption(f"Showing the {len(kept)} {what} of project **{escape_markdown(name)}** "
                   f"({len(rows) - len(kept)} more outside it: turn off *Only this project* in the sidebar "
                   "to see them).")
    return kept


def _id(row: Any) -> Any:
    return getattr(row, "id", None)
