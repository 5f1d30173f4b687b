"""Sign-in (SIGN_IN on): Streamlit's own `st.login` with any OpenID Connect provider, and who acts.

Every page calls `require_user()` from `page_setup`. Off sign-in it does nothing (one local user).
On, a visitor who has not signed in sees only the sign-in button; a signed-in one is mapped to a
`core.users` user (created on first sign-in) and every `core` call of the session acts as them, through
the resolver registered here, callbacks included. An identity whose token has expired is signed out.
"""

from __future__ import annotations

import time
import uuid

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import users
from core.config import get_settings
from ui.safe import escape_markdown

SESSION_USER = "signed_in_user"  # (subject, user id) of this browser session


def _session_user() -> uuid.UUID | None:
    """The acting user of the Streamlit session running now; None outside a session (workers, jobs)."""
    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    if not get_settings().sign_in:
        return None
    remembered = st.session_state.get(SESSION_USER)
    if not st.user.is_logged_in or remembered is None or remembered[0] != st.user.get("sub"):
        return users.NOBODY
    return remembered[1]


users.register_resolver(_session_user)


def _expired() -> bool:
    exp = st.user.get("exp")
    return isinstance(exp, int | float) and exp < time.time()


def require_user() -> None:
    """Stop the page with a sign-in screen unless someone is signed in (sign-in mode only)."""
    if not get_settings().sign_in:
        return
    if st.user.is_logged_in and _expired():
        st.session_state.pop(SESSION_USER, None)
        st.logout()
    if not st.user.is_logged_in:
        st.session_state.pop(SESSION_USER, None)
        st.title("Sign in")
        st.write("This workbench is shared by a team: sign in to see your own work and what was shared with you.")
        st.button("Sign in", type="primary", on_click=st.login, key="auth-sign-in")
        st.stop()
    subject = str(st.user.get("sub") or "")
    remembered = st.session_state.get(SESSION_USER)
    if remembered is None or remembered[0] != subject:
        user = users.get_or_create(subject, name=str(st.user.get("name") or ""), email=str(st.user.get("email") or ""))
        st.session_state[SESSION_USER] = (subject, user.id)
        with users.acting_as(user.id):
            users.record_sign_in(user, issued_at=st.user.get("iat"))
    with st.sidebar:
        who = st.user.get("name") or st.user.get("email") or subject
        st.caption(f"Signed in as {escape_markdown(who)}")
        st.button("Sign out", on_click=_sign_out, key="auth-sign-out")


def _sign_out() -> None:
    st.session_state.pop(SESSION_USER, None)
    st.logout()
