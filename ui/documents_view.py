"""The Documents page's parts: upload, library, ask box, answer with expandable cited sources."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

import jobs
from core import rag
from core.config import get_settings
from core.models.documents import Document
from ui import project_scope
from ui.errors import guard
from ui.jobs import job_panel
from ui.safe import escape_markdown

UPLOAD_TYPES = ["pdf", "docx", "pptx", "txt", "md", "markdown"]
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:])")
_CITATION = re.compile(r"\\\[(\d{1,2})\\\]")  # an escaped [n]


class DocKeys:
    """Session-state keys of the Documents page."""

    UPLOAD_NONCE = "docs_upload_nonce"
    JOBS = "docs_index_jobs"
    ANSWER = "docs_answer"


# -- upload ---------------------------------------------------------------------------------
def render_upload(*, expanded: bool) -> None:
    """Upload several files; small ones are indexed at once, large ones as background jobs."""
    with st.expander("Upload documents", expanded=expanded, icon="📤"):
        nonce = st.session_state.setdefault(DocKeys.UPLOAD_NONCE, 0)
        files = st.file_uploader("PDF, Word, PowerPoint, text or Markdown files", type=UPLOAD_TYPES,
                                 accept_multiple_files=True, key=f"docs-upload-{nonce}",
                                 max_upload_size=get_settings().max_upload_mb)
        if files and st.button("Add documents", type="primary", key="docs-add"):
            for upload in files:
                with guard():
                    _add_upload(upload.name, upload.getvalue())
            st.session_state[DocKeys.UPLOAD_NONCE] = nonce + 1


def _add_upload(filename: str, data: bytes) -> None:
    path = rag.stage_upload(data, filename)
    try:
        duplicate = rag.find_duplicate(path)
        if duplicate is not None:
            st.info(f"{escape_markdown(filename)} is already in the library as **{escape_markdown(duplicate.name)}**.", icon="♻️")
        elif rag.needs_background(path):
            job = jobs.submit("rag.index", title=f"Index {filename}", path=str(path), name=filename, staged=True)
            st.session_state.setdefault(DocKeys.JOBS, []).append(str(job.id))
            path = None  # the job owns the staged file now
            st.info(f"{escape_markdown(filename)} is large: it is being indexed in the background.", icon="⏳")
        else:
            with st.spinner(f"Indexing {filename}…"):
                doc = rag.add_document(path, name=filename)
            st.success(f"Added **{escape_markdown(doc.name)}**: {doc.pages} {_unit(doc)}, {doc.chunks} chunks.", icon="✅")
            _warn_missing_text(doc)
    finally:
        if path is not None:
            rag.discard_upload(path)


def _unit(doc: Document) -> str:
    return {"pdf": "pages", "pptx": "slides"}.get(doc.type, "sections")


def _warn_missing_text(doc: Document) -> None:
    missing = doc.meta.get("pages_without_text")
    if missing:
        st.warning(f"{missing} of {doc.pages} pages of {escape_markdown(doc.name)} have no text layer and were skipped "
                   "(scanned pages need OCR).")


def render_jobs() -> None:
    """Progress of the indexing jobs started from this session."""
    job_ids = st.session_state.get(DocKeys.JOBS, [])
    for job_id in job_ids[-5:]:
        with guard():
            job = job_panel(job_id, key=f"docs-job-{job_id}")
            if job.status == "succeeded" and job.result:
                st.success(f"Indexed **{escape_markdown(job.result['name'])}**: {job.result['pages']} pages, "
                           f"{job.result['chunks']} chunks.")


# -- library --------------------------------------------------------------------------------
def _status(doc: Document) -> str:
    if rag.stalled(doc):
        return "stalled (upload again or delete)"
    return str(doc.status)


def render_library(docs: list[Document]) -> None:
    """The document table and a delete control."""
    table = pd.DataFrame([{
        "name": d.name, "type": d.type.upper(), "pages": d.pages, "chunks": d.chunks,
        "embedding model": d.embedding_model, "status": _status(d), "size (KB)": round(d.size_bytes / 1024, 1),
        "added": d.created, "hash": d.hash[:12],
    } for d in docs])
    st.dataframe(table, width="stretch", hide_index=True, key="docs-table", column_config={
        "added": st.column_config.DatetimeColumn("added", format="YYYY-MM-DD HH:mm"),
        "hash": st.column_config.TextColumn("hash", help="SHA-256 of the file: the same file is stored once."),
    })
    with st.expander("Delete a document", icon="🗑️"):
        names = {str(d.id): d.name for d in docs}
        chosen = st.selectbox("Document", list(names), format_func=names.get, key="docs-delete-pick")
        if st.button("Delete", key="docs-delete"):
            with guard():
                rag.delete_document(chosen)
                st.session_state.pop(DocKeys.ANSWER, None)
                st.rerun()


# -- ask ------------------------------------------------------------------------------------
def render_ask(docs: list[Document]) -> None:
    """The question box, an optional document filter, and the last answer."""
    ready = {str(d.id): d.name for d in docs if d.status == "ready"}
    with st.form("docs-ask-form", border=True):
        question = st.text_input("Question", key="docs-question",
                                 placeholder="What does the report say about revenue?")
        chosen = st.multiselect("Only in these documents (empty: all)", list(ready), format_func=ready.get,
                                key="docs-filter")
        asked = st.form_submit_button("Ask", type="primary", key="docs-ask")
    if asked:
        with guard(), st.spinner("Searching the documents…"):
            scope = list(ready) if project_scope.active() else None  # a current project: ask its documents only
            st.session_state[DocKeys.ANSWER] = rag.ask(question, documents=chosen or scope)
    answer = st.session_state.get(DocKeys.ANSWER)
    if answer is not None:
        render_answer(answer)


def render_answer(answer: rag.Answer) -> None:
    """The answer text, how it was made, and one expander per cited source."""
    if answer.warning:
        st.warning(answer.warning)
    with st.container(border=True, key="docs-answer"):
        st.markdown(f"**Q: {_escape(answer.question)}**")
        if answer.found:
            st.markdown(_escape(answer.text, keep_citations=True))
        else:
            st.info(answer.text)
        st.caption(_how(answer))
    cited = {c.number for c in answer.citations}
    if answer.citations:
        st.markdown("**Sources**")
        for citation in answer.citations:
            _source(citation.number, citation.hit, answer)
    others = [(n, h) for n, h in enumerate(answer.hits, start=1) if n not in cited]
    if others:
        with st.expander(f"Other retrieved passages ({len(others)})", key="docs-other-passages"):
            for n, hit in others:
                st.markdown(f"**[{n}] {_escape(hit.citation)}** · score {hit.score:.4f}")
                st.text(hit.text)


def _how(answer: rag.Answer) -> str:
    if answer.mode == "llm":
        return f"Written by {answer.model} from {len(answer.hits)} retrieved passages, citing them as [n]."
    return ("Offline answer: the best-matching sentences, quoted. "
            "Set OPENAI_API_KEY for written answers.")


def _source(number: int, hit: rag.Hit, answer: rag.Answer) -> None:
    with st.expander(f"[{number}] {escape_markdown(hit.citation)}", key=f"docs-source-{number}"):
        with guard():
            page = rag.get_page(hit.document_id, hit.page)
            spans = highlight_spans(page.text, hit, answer)
            st.markdown(highlighted(page.text, spans))
            st.caption(f"Characters {hit.start}–{hit.end} of {escape_markdown(hit.page_label)}; relevance {hit.score:.4f}.")


def highlight_spans(page_text: str, hit: rag.Hit, answer: rag.Answer) -> list[tuple[int, int]]:
    """What to highlight: the quoted sentences when they are on the page, else the retrieved chunk."""
    spans = []
    if answer.mode == "extractive":
        for sentence in re.split(r"\[\d+\]", answer.text):
            at = page_text.find(sentence.strip(), max(hit.start - 1, 0)) if sentence.strip() else -1
            if at >= 0 and at < hit.end:
                spans.append((at, at + len(sentence.strip())))
    return spans or [(hit.start, min(hit.end, len(page_text)))]


def highlighted(text: str, spans: list[tuple[int, int]]) -> str:
    """Markdown of `text` (escaped, line breaks kept) with `spans` on an orange background."""
    parts, cursor = [], 0
    for start, end in sorted(spans):
        if start < cursor:
            continue
        parts += [_escape(text[cursor:start]), _mark(text[start:end])]
        cursor = end
    parts.append(_escape(text[cursor:]))
    return "".join(parts)


def _mark(text: str) -> str:
    lines = [f":orange-background[{_escape(line)}]" if line.strip() else "" for line in text.split("\n")]
    return "  \n".join(lines)


def _escape(text: str, *, keep_citations: bool = False) -> str:
    """Document and model text shown as typed (every Markdown character escaped), line breaks kept;
    [n] citations in bold if asked."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    if keep_citations:
        escaped = _CITATION.sub(r"**[\1]**", escaped)
    return escaped.replace("\n", "  \n")
