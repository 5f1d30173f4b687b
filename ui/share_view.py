"""Sharing a project (sign-in mode): the owner's Share section, and what a user it is shared with sees."""

from __future__ import annotations

import streamlit as st

from core import projects, users
from core.config import get_settings
from core.models.user import User
from ui.errors import guard
from ui.safe import escape_markdown

ACCESS = {"read-only": False, "can edit": True}


def access_of(p: projects.Project) -> users.Access:
    """The acting user's access to `p`; off sign-in everything is one's own."""
    if not get_settings().sign_in:
        return users.Access(owner=None, own=True, can_edit=True)
    return users.access(p.id)


def who(user: User | None) -> str:
    """A user as shown to people: name and e-mail (plain text: escape it for Markdown)."""
    if user is None:
        return "someone"
    if user.name and user.email:
        return f"{user.name} ({user.email})"
    return user.name or user.email or user.subject


def shared_with_you(access: users.Access) -> None:
    """The line a user sees on a project someone else shared with them."""
    mode = "can edit" if access.can_edit else "read-only"
    st.info(f"Shared with you by {escape_markdown(who(access.owner))} ({mode}).", icon="🤝")


def share_section(p: projects.Project) -> None:
    """The owner's controls: share with a user who has signed in, or everyone; the current shares."""
    me = users.current_id()
    people = {str(u.id): u for u in users.list_users() if u.id != me}
    choices = {projects.EVERYONE: "Everyone"} | {k: who(u) for k, u in people.items()}
    with st.form("project-share-form"):
        target = st.selectbox("Share with", list(choices), key="project-share-user", format_func=choices.__getitem__)
        mode = st.radio("Access", list(ACCESS), key="project-share-access", horizontal=True)
        if st.form_submit_button("Share", key="project-share-submit"):
            with guard():
                projects.share(p.id, target, can_edit=ACCESS[mode])
                st.success(f"Shared with {escape_markdown(choices[target])} ({mode}).")
    _current_shares(p, people)


def _current_shares(p: projects.Project, people: dict[str, User]) -> None:
    rows = projects.shares_of(p.id)
    if not rows:
        st.caption("Not shared: only you see this project and what is linked to it.")
        return
    st.markdown("**Shared with**")
    for row in rows:
        name = "Everyone" if row.user_id is None else who(people.get(str(row.user_id)))
        c1, c2 = st.columns([4, 1])
        c1.markdown(f"{escape_markdown(name)} · {'can edit' if row.can_edit else 'read-only'}")
        if c2.button("Stop sharing", key=f"project-unshare-{row.id}"):
            with guard():
                projects.unshare(p.id, projects.EVERYONE if row.user_id is None else row.user_id)
                st.rerun()
