"""Visualize: build a chart from a dataset, save it to the gallery, reopen and export it."""

import streamlit as st

from core import charts
from ui.charts_view import build_chart, chart_controls, download_buttons, render_gallery, save_controls
from ui.errors import guard
from ui.layout import page_setup
from ui.picker import pick_dataset
from ui.safe import sanitize_reply

page_setup("Visualize", "📈")
st.title("Visualize")
build_tab, gallery_tab = st.tabs(["Build a chart", "Gallery"])

with build_tab:
    ds = pick_dataset(key="viz-dataset")
    if ds is not None:
        with guard():
            kind, spec = chart_controls(ds)
            fig = build_chart(kind, ds, spec)
            st.plotly_chart(fig, width="stretch", key="viz-chart")
            info = charts.chart_info(fig)
            if info["sampled"]:
                st.caption("Drawn from " + sanitize_reply("; ".join(info["notes"])) + " (computed in DuckDB).")
            download_buttons(fig, key="viz-current", name=fig.layout.title.text or kind)
            save_controls(fig, ds, kind, spec)

with gallery_tab, guard():
    render_gallery()
