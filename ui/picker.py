"""Dataset picker shared by the pages: remembers the choice in session state.

The choice lives in `Keys.DATASET_ID`, which imports and deletes set; the picker's own widget state is
set from it before the widget is created on every run, so the picker follows an import at once, and
the browser is sent the label computed from this run's rows (a label such as "48 × 7" changes with
every new version or rollback, and a browser left to itself keeps showing the old one).
"""

from __future__ import annotations

import streamlit as st

from core import datasets
from core.models import Dataset
from ui.layout import link as page_link
from ui.project_scope import scoped
from ui.state import Keys


def pick_dataset(label: str = "Dataset", *, key: str = "dataset_picker", link: bool = True) -> Dataset | None:
    """A selectbox of datasets; None (with a link to the Datasets page) when there are none."""
    every = datasets.list_datasets()
    rows = scoped(every, "dataset", what="datasets")
    if not rows:
        st.info("No datasets in this project yet. Import one, or turn off *Only this project* in the sidebar."
                if every else "No datasets yet. Import one first.")
        if link:
            page_link("pages/1_Datasets.py", "Go to Datasets", "📁")
        return None
    by_id = {str(r.id): r for r in rows}
    current = st.session_state.get(Keys.DATASET_ID)
    chosen = current if current in by_id else str(rows[0].id)
    st.session_state[Keys.DATASET_ID] = chosen
    st.session_state[key] = chosen  # before the widget: it shows this choice with a fresh label
    st.selectbox(label, list(by_id), format_func=lambda i: dataset_label(by_id[i]), key=key,
                 on_change=_remember, args=(key,))
    return by_id[chosen]


def dataset_label(ds: Dataset) -> str:
    """The picker's label of a dataset: its name and current shape."""
    return f"{ds.name}  ({ds.rows:,} × {ds.columns})"


def _remember(key: str) -> None:
    """The analyst picked a dataset: it becomes the choice of every page."""
    st.session_state[Keys.DATASET_ID] = st.session_state[key]
