"""The assistant in the UI: the compact sidebar chat on every page, and message rendering shared with the
Assistant page. Nothing heavy runs at page load: `agents` is imported only when there is a conversation
to show or a message to send, and the LLM is called only when a message is sent.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from ui.errors import guard
from ui.safe import code_span, escape_markdown, sanitize_reply
from ui.state import Keys

SIDEBAR_MESSAGES = 4
AUTO = "auto"
AGENT_LABELS = {
    AUTO: "🧭 Auto (router picks)", "data_analyst": "🔎 Data Analyst", "data_scientist": "🧪 Data Scientist",
    "sql_expert": "🗄️ SQL Expert", "visualization_expert": "📈 Visualization Expert",
    "rag_assistant": "📚 RAG Assistant", "ml_engineer": "🤖 ML Engineer",
}


class ChatKeys:
    """Session-state keys of the assistant (the conversation id is shared with the Assistant page)."""

    CONVERSATION = Keys.CHAT_CONVERSATION
    AGENT = Keys.CHAT_AGENT
    CHOICE = Keys.CHAT_CHOICE


def send(prompt: str, *, page: str, agent: str | None, choice: dict[str, Any] | None = None) -> None:
    """Ask the assistant, streaming its text and tool steps where the caller is; remember the conversation.
    `choice` is a button the assistant offered (a reading of an unclear request, or "run this plan"): it runs
    as offered."""
    import agents
    from agents import memory
    from agents.reply import Choice
    from core.errors import NotFound
    from ui.streaming import stream_answer

    conv_id = st.session_state.get(ChatKeys.CONVERSATION)
    try:
        if conv_id:
            memory.get_conversation(conv_id)
    except NotFound:  # deleted meanwhile (another tab, the Assistant page): start a new one
        conv_id = None
    dataset_id = st.session_state.get(Keys.DATASET_ID)
    picked = Choice.model_validate(choice) if choice else None
    reply = stream_answer(lambda on_event: agents.ask(prompt, conversation_id=conv_id, dataset_id=dataset_id,
                                                      agent=agent, page=page, on_event=on_event, choice=picked))
    st.session_state[ChatKeys.CONVERSATION] = reply.conversation_id


def sidebar_chat(*, page: str) -> None:
    """Render the compact assistant chat in the sidebar: the last few messages, an agent picker, an input."""
    with st.sidebar:
        st.markdown("**💬 Assistant**")
        history = st.container()
        agent = st.selectbox("Agent", list(AGENT_LABELS), format_func=AGENT_LABELS.get, key="chat-agent",
                             label_visibility="collapsed")
        prompt = st.chat_input("Ask about your data…", key="chat-input")
        choice = pending_choice()
        conv_id = st.session_state.get(ChatKeys.CONVERSATION)
        with history:
            if prompt or choice:
                live, answered = st.empty(), False
                with guard(), live.container():
                    send(prompt or choice["label"], page=page, agent=None if agent == AUTO else agent,
                         choice=None if prompt else choice)
                    answered = True
                if answered:  # the stored message below shows it from now on
                    live.empty()
                conv_id = st.session_state.get(ChatKeys.CONVERSATION)
            if conv_id:
                _sidebar_history(str(conv_id))
        left, right = st.columns(2)
        if conv_id and left.button("New chat", key="chat-new", width="stretch"):
            st.session_state.pop(ChatKeys.CONVERSATION, None)
            st.rerun()
        with right:
            _link_assistant()


def _link_assistant() -> None:
    from streamlit.errors import StreamlitPageNotFoundError

    try:
        st.page_link("pages/6_Assistant.py", label="Open", icon="🤖")
    except StreamlitPageNotFoundError:
        pass


def _sidebar_history(conv_id: str) -> None:
    from agents import memory
    from core.errors import NotFound

    try:
        rows = memory.messages(conv_id, limit=SIDEBAR_MESSAGES)
    except NotFound:
        st.session_state.pop(ChatKeys.CONVERSATION, None)
        return
    for msg in rows:
        render_message(msg, compact=True, choices=msg is rows[-1])


def pending_choice() -> dict[str, Any] | None:
    """The offered button clicked on the previous run, once."""
    return st.session_state.pop(ChatKeys.CHOICE, None)


def _choices(msg: Any, key: str) -> None:
    """The readings or the plan the assistant offered, as buttons; a click runs it on the next script run."""
    for i, choice in enumerate((msg.meta or {}).get("choices") or []):
        if st.button(escape_markdown(str(choice.get("label", ""))[:200]), key=f"{key}-choice-{i}",
                     type="primary" if choice.get("confirm") else "secondary"):
            st.session_state[ChatKeys.CHOICE] = choice
            st.rerun()


def render_message(msg: Any, *, compact: bool = False, choices: bool = False) -> None:
    """One stored message: its text, then each tool's table, chart, job link and SQL; the tools in an expander;
    with `choices`, the buttons it offered."""
    from agents.specialists import SPECIALISTS

    spec = SPECIALISTS.get(msg.agent or "")
    with st.chat_message(msg.role, avatar=spec.icon if spec and msg.role == "assistant" else None):
        if spec and msg.role == "assistant":
            st.caption(f"{spec.name}" + (" · LLM" if (msg.meta or {}).get("mode") == "llm" else ""))
        st.markdown(sanitize_reply(msg.content))
        for i, call in enumerate(msg.tool_calls or []):
            _render_result(call, key=f"{'chat' if compact else 'assistant'}-{msg.id}-{i}", compact=compact)
        if choices and msg.role == "assistant":
            _choices(msg, key=f"{'chat' if compact else 'assistant'}-{msg.id}")
        if msg.tool_calls:
            with st.expander(f"Tools run ({len(msg.tool_calls)})"):
                for call in msg.tool_calls:
                    ok = "✅" if call.get("ok", True) else "⚠️"
                    st.markdown(f"{ok} {code_span(call.get('name'))}")
                    st.code(json.dumps(call.get("arguments", {}), indent=1, default=str), language="json")


def _render_result(call: dict[str, Any], *, key: str, compact: bool) -> None:
    import pandas as pd

    if call.get("sql"):
        st.code(call["sql"], language="sql")
    if call.get("figure"):
        import plotly.io as pio

        fig = pio.from_json(call["figure"])
        if compact:
            fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False)
        st.plotly_chart(fig, key=f"{key}-fig", width="stretch")
    if call.get("table"):
        table = call["table"]
        frame = pd.DataFrame(table["data"], columns=table["columns"])
        st.dataframe(frame, key=f"{key}-table", width="stretch", hide_index=True, height=180 if compact else "auto")
    if call.get("job_id"):
        _job_link(call["job_id"])


def _job_link(job_id: str) -> None:
    from streamlit.errors import StreamlitPageNotFoundError

    import jobs

    with guard():
        job = jobs.get_job(job_id)
        st.markdown(f"⚙️ Job **{escape_markdown(job.title or job.kind)}** — {job.status} · {job.progress:.0%}")
        try:
            st.page_link("pages/8_Jobs.py", label="Follow it on the Jobs page", icon="⚙️")
        except StreamlitPageNotFoundError:
            st.caption(f"Job id {job_id} (see the Jobs page)")
