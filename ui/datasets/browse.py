"""The Datasets page's look at one dataset: the caption, the Preview and Columns tabs, and Delete.

Wide data is paged by column as well as by row (COLUMN_PAGE columns at a time), so a 10,000-column
dataset renders as quickly as a narrow one; Delete comes before every tab so it is always reachable.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import datasets, eda
from core.models import Dataset
from ui.cache import per_user
from ui.errors import guard
from ui.safe import escape_markdown, sanitize_reply
from ui.state import Keys

PAGE_SIZES = [50, 100, 500]
COLUMN_PAGE = 50  # columns shown at a time in the preview and the column table


def header(ds: Dataset) -> None:
    st.caption(f"{ds.rows:,} rows × {ds.columns} columns · version {ds.version} · "
               f"{ds.size_bytes / 1024:,.1f} KB as Parquet · {ds.source}: {escape_markdown(ds.source_detail)}")
    for note in ds.notes or []:
        st.info(sanitize_reply(note), icon="ℹ️")


def column_page(names: list[str], *, key: str, where: st.delta_generator.DeltaGenerator | None = None) -> list[str]:
    """The slice of `names` on the chosen page of COLUMN_PAGE columns (all of them when they fit on one)."""
    if len(names) <= COLUMN_PAGE:
        return names
    pages = -(-len(names) // COLUMN_PAGE)
    page = (where or st).number_input(f"Column page (of {pages:,})", min_value=1, max_value=pages, value=1, key=key)
    start = (int(page) - 1) * COLUMN_PAGE
    st.caption(f"Columns {start + 1:,}–{min(start + COLUMN_PAGE, len(names)):,} of {len(names):,}")
    return names[start:start + COLUMN_PAGE]


def preview_tab(ds: Dataset) -> None:
    names = [c["name"] for c in ds.schema_]
    c1, c2, c3, c4, c5 = st.columns([2, 1, 1, 1, 1])
    sort_by = c1.selectbox("Sort by", ["(file order)", *names], key="preview-sort")
    descending = c2.toggle("Descending", key="preview-desc")
    size = c3.selectbox("Rows per page", PAGE_SIZES, index=1, key="preview-size")
    where = st.text_input("Filter rows (expression)", key="preview-where", placeholder="price > 10 AND region = 'north'")
    shown = column_page(names, key="preview-column-page", where=c5)
    total = datasets.count_rows(ds.id, where=where or None)
    pages = max(1, -(-total // size))
    page = c4.number_input("Page", min_value=1, max_value=pages, value=1, key="preview-page")
    frame = datasets.preview(ds.id, offset=(page - 1) * size, limit=size, where=where or None,
                             columns=shown if len(shown) < len(names) else None,
                             sort_by=None if sort_by == "(file order)" else sort_by, descending=descending)
    st.dataframe(frame, width="stretch", hide_index=True, key="preview-table")
    st.caption(f"Rows {(page - 1) * size + 1:,}–{min(page * size, total):,} of {total:,}"
               + (f" matching the filter (of {ds.rows:,})" if where else ""))


@per_user(show_spinner=False, max_entries=32)
def _column_info(dataset_id: str, version: int) -> pd.DataFrame:
    rows = [c.model_dump() for c in eda.column_info(dataset_id)]
    frame = pd.DataFrame(rows)
    frame["examples"] = frame["examples"].map(lambda v: ", ".join(v))
    return frame


def columns_tab(ds: Dataset) -> None:
    info = _column_info(str(ds.id), ds.version)
    if len(info) > COLUMN_PAGE:
        search = st.text_input("Find columns (part of the name)", key="columns-search")
        if search:
            info = info[info["name"].str.contains(search, case=False, regex=False)]
        shown = column_page(list(info["name"]), key="columns-page")
        info = info[info["name"].isin(shown)]
    st.dataframe(info, width="stretch", hide_index=True, key="columns-table",
                 column_config={"missing_pct": st.column_config.ProgressColumn("missing %", min_value=0,
                                                                               max_value=100, format="%.1f")})
    st.caption("Distinct counts are exact; the kind (numeric, categorical, identifier, text, ...) comes from the "
               "storage type and the number of distinct values.")


def delete_section(ds: Dataset) -> None:
    with st.expander("Delete this dataset"):
        st.caption("Removes the dataset, every version and its files.")
        if st.button("Delete", key="delete-dataset"):
            with guard():
                datasets.delete_dataset(ds.id)
                st.session_state.pop(Keys.DATASET_ID, None)
                st.rerun()
