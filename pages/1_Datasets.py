"""Datasets: import from files, URLs, Kaggle and databases; preview, profile, clean with versions, export.

Delete is laid out before the tabs, so a dataset whose views are slow or failing can still be removed."""

import streamlit as st

from core import datasets
from ui import datasets as view
from ui.errors import guard
from ui.layout import page_setup
from ui.picker import pick_dataset

page_setup("Datasets", "📁")
st.title("Datasets")

view.import_section(expanded=not datasets.count_datasets())

ds = pick_dataset(link=False)
if ds is None:
    st.stop()

view.header(ds)
view.delete_section(ds)
preview_tab, profile_tab, columns_tab, clean_tab, export_tab = st.tabs(
    ["Preview", "Profile", "Columns", "Clean & versions", "Export"])
with preview_tab, guard():
    view.preview_tab(ds)
with profile_tab, guard():
    view.profile_tab(ds)
with columns_tab, guard():
    view.columns_tab(ds)
with clean_tab, guard():
    view.clean_tab(ds)
with export_tab, guard():
    view.export_tab(ds)
