"""Assistant: conversations with the six specialist agents, offline or with an LLM."""

import streamlit as st

from ui.assistant_view import agent_picker, conversation_actions, conversation_list, mode_caption, render_chat
from ui.errors import guard
from ui.layout import page_setup

page_setup("Assistant", "🤖", chat=False)
st.title("Assistant")
mode_caption()

with guard():
    conv_id = conversation_list()
    if conv_id:
        conversation_actions(conv_id)
    agent = agent_picker(conv_id)
    render_chat(conv_id, agent)
