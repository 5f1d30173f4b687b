"""Dataset picker shared by the pages: remembers the choice in session state."""

from __future__ import annotations

import streamlit as st

from core import datasets
from core.models import Dataset
from ui.layout import link as page_link
from ui.state import Keys


def pick_dataset(label: str = "Dataset", *, key: str = "dataset_picker", link: bool = True) -> Dataset | None:
    """A selectbox of datasets; None (with a link to the Datasets page) when there are none."""
    rows = datasets.list_datasets()
    if not rows:
        st.info("No datasets yet. Import one first.")
        if link:
            page_link("pages/1_Datasets.py", "Go to Datasets", "📁")
        return None
    ids = [str(r.id) for r in rows]
    current = st.session_state.get(Keys.DATASET_ID)
    index = ids.index(current) if current in ids else 0
    names = {str(r.id): f"{r.name}  ({r.rows:,} × {r.columns})" for r in rows}
    chosen = st.selectbox(label, ids, index=index, format_func=names.get, key=key)
    st.session_state[Keys.DATASET_ID] = chosen
    return next(r for r in rows if str(r.id) == chosen)
