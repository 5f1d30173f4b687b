"""Text fields whose default follows what the page shows: the gallery name of the chart on screen,
the title of the test result on screen."""

from __future__ import annotations

import streamlit as st


def follow_default(key: str, default: str, *, shown: str) -> None:
    """Call before drawing the text widget `key`: give it `default` whenever `shown` changes.

    `shown` identifies what the field names (e.g. the chart's kind, dataset and spec as JSON). A value
    the user typed stays while the same thing is shown; something new gets its own default instead of
    the previous one's name.
    """
    marker = f"{key}--shown"
    if st.session_state.get(marker) != shown or key not in st.session_state:
        st.session_state[marker] = shown
        st.session_state[key] = default
