"""The Assistant page: the conversation list (new, rename, archive, delete) and the full chat."""

from __future__ import annotations

import streamlit as st

from agents import memory
from agents.orchestrator import llm_configured
from agents.planner import examples_for
from core import datasets
from core.config import get_settings
from core.errors import NotFound
from core.models import Dataset
from ui.chat import AGENT_LABELS, AUTO, ChatKeys, pending_choice, render_message, send
from ui.errors import guard
from ui.project_scope import scoped
from ui.safe import escape_markdown, sanitize_reply
from ui.state import Keys


def conversation_list() -> str | None:
    """Sidebar: a New button and the conversations (active or archived); returns the open conversation id."""
    with st.sidebar:
        st.markdown("**Conversations**")
        if st.button("➕ New conversation", key="assistant-new", width="stretch"):
            st.session_state.pop(ChatKeys.CONVERSATION, None)
        archived = st.toggle("Show archived", key="assistant-show-archived")
        current = st.session_state.get(ChatKeys.CONVERSATION)
        for conv in scoped(memory.list_conversations(archived=archived, limit=50), "conversation",
                           what="conversations"):
            marker = "▶ " if str(conv.id) == str(current) else ""
            if st.button(f"{marker}{escape_markdown(conv.title)}", key=f"assistant-open-{conv.id}", width="stretch"):
                st.session_state[ChatKeys.CONVERSATION] = str(conv.id)
                st.rerun()
    return st.session_state.get(ChatKeys.CONVERSATION)


def conversation_actions(conv_id: str) -> None:
    """Rename, pin an agent, archive or delete the open conversation."""
    conv = memory.get_conversation(conv_id)
    with st.expander(f"**{escape_markdown(conv.title)}**" + (" (archived)" if conv.archived else "")):
        title = st.text_input("Title", value=conv.title, key=f"assistant-title-{conv.id}")
        c1, c2, c3 = st.columns(3)
        if c1.button("Rename", key="assistant-rename", width="stretch"):
            with guard():
                memory.rename(conv.id, title)
                st.rerun()
        if c2.button("Unarchive" if conv.archived else "Archive", key="assistant-archive", width="stretch"):
            memory.archive(conv.id, not conv.archived)
            st.rerun()
        if c3.button("Delete", key="assistant-delete", type="primary", width="stretch"):
            memory.delete_conversation(conv.id)
            st.session_state.pop(ChatKeys.CONVERSATION, None)
            st.rerun()


def agent_picker(conv_id: str | None) -> str | None:
    """Auto (routed) or a pinned specialist, stored on the conversation."""
    pinned = memory.get_conversation(conv_id).agent if conv_id else None
    options = list(AGENT_LABELS)
    choice = st.selectbox("Agent", options, index=options.index(pinned or AUTO), format_func=AGENT_LABELS.get,
                          key=f"assistant-agent-{conv_id or 'new'}")
    agent = None if choice == AUTO else choice
    if conv_id and agent != pinned:
        memory.update_conversation(conv_id, agent=agent)
    return agent


def mode_caption() -> None:
    if llm_configured():
        s = get_settings()
        st.caption(f"LLM mode: {s.llm_model} at {s.openai_base_url or 'api.openai.com'} · tools validated, "
                   "nothing the model writes is run as code.")
    else:
        st.caption("Offline mode: no OPENAI_API_KEY, so a rule-based planner maps requests to tools.")


def render_chat(conv_id: str | None, agent: str | None) -> None:
    """The messages and the input; example prompts when the conversation is empty."""
    rows = memory.messages(conv_id) if conv_id else []
    for msg in rows:
        render_message(msg, choices=msg is rows[-1])
    prompt = st.chat_input("Ask the assistant…", key="assistant-input")
    choice = pending_choice()
    if not rows and not prompt:
        st.markdown("**Try:**")
        cols = st.columns(3)
        for i, example in enumerate(examples_for(_selected_dataset())[:9]):
            if cols[i % 3].button(escape_markdown(example), key=f"assistant-example-{i}", width="stretch"):
                prompt = example
    if prompt or choice:
        with st.chat_message("user"):
            st.markdown(sanitize_reply(prompt or choice["label"]))
        with st.chat_message("assistant"), guard():
            send(prompt or choice["label"], page="Assistant", agent=agent, choice=None if prompt else choice)
            st.rerun()


def _selected_dataset() -> Dataset | None:
    """The dataset picked on any page, if it still exists."""
    ref = st.session_state.get(Keys.DATASET_ID)
    if not ref:
        return None
    try:
        return datasets.get_dataset(ref)
    except NotFound:
        return None
