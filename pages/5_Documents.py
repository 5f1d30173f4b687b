"""Documents: upload PDFs, Word, PowerPoint, text and Markdown files, then ask questions with cited answers."""

import streamlit as st

from core import rag
from ui.documents_view import render_ask, render_jobs, render_library, render_upload
from ui.layout import page_setup
from ui.project_scope import scoped

page_setup("Documents", "📄")
st.title("Documents")
st.caption("Ask questions of your PDF, Word, PowerPoint, text and Markdown files; every answer cites its pages.")

render_upload(expanded=rag.count_documents() == 0)
render_jobs()

docs = scoped(rag.list_documents(), "document", what="documents")
if not docs:
    st.info("No documents yet. Upload a PDF, Word, PowerPoint, text or Markdown file above.")
    st.stop()

st.subheader(f"Library ({len(docs)})")
render_library(docs)
st.subheader("Ask")
render_ask(docs)
