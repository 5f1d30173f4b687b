"""The administrators' part of Settings in sign-in mode: who has signed in, and the audit trail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import users
from ui.share_view import who


def render_users() -> None:
    rows = users.list_users()
    if not rows:
        st.info("Nobody has signed in yet.")
        return
    frame = pd.DataFrame(
        [
            {"name": u.name, "e-mail": u.email, "admin": u.is_admin, "last seen": u.last_seen, "subject": u.subject}
            for u in rows
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="admin-users",
        column_config={"last seen": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )


def render_audit() -> None:
    events = users.audit_log()
    if not events:
        st.info("Nothing recorded yet: sign-ins, shares and deletions appear here.")
        return
    people = {str(u.id): who(u) for u in users.list_users()}
    frame = pd.DataFrame(
        [
            {
                "when": e.created,
                "who": people.get(str(e.user_id), "local user") if e.user_id else "system",
                "action": e.action,
                "item": f"{e.item_type} · {e.label}" if e.item_type else e.label,
                "detail": _detail(e.detail, people),
            }
            for e in events
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="admin-audit",
        column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")},
    )


def _detail(detail: dict, people: dict[str, str]) -> str:
    """A share's detail, the user's id replaced by who they are."""
    return ", ".join(f"{k}: {people.get(str(v), v) if k == 'with' else v}" for k, v in detail.items())
