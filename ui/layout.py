"""Page set-up shared by every page: config, background services, logging, the sidebar chat."""

from __future__ import annotations

import logging

import streamlit as st

from core.config import get_settings
from ui.state import Keys


@st.cache_resource(show_spinner=False)
def _start_services(_data_dir: str, _db: str, _redis: str) -> bool:
    """Start the in-process worker (embedded mode) and the maintenance thread, once per server."""
    import jobs

    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    jobs.ensure_started()
    from jobs import scheduler

    scheduler.start_in_app()  # embedded mode only: the schedules fire from this process
    return True


def page_setup(title: str, icon: str = "📊", *, chat: bool = True) -> None:
    """Call first on every page."""
    st.set_page_config(page_title=f"{title} · Workbench", page_icon=icon, layout="wide")
    settings = get_settings()
    _start_services(str(settings.data_dir), settings.resolved_database_url, settings.redis_url)
    from ui.auth import require_user

    require_user()
    st.session_state[Keys.PAGE_NAME] = title
    from ui.project_picker import project_picker

    project_picker()
    if chat:
        from ui.chat import sidebar_chat

        sidebar_chat(page=title)


def link(page: str, label: str, icon: str | None = None) -> None:
    """`st.page_link`, degrading to plain text when the page is not registered (a page run on its own)."""
    from streamlit.errors import StreamlitPageNotFoundError

    try:
        st.page_link(page, label=label, icon=icon)
    except StreamlitPageNotFoundError:
        st.markdown(f"{icon or ''} {label} (open it from the navigation)")
