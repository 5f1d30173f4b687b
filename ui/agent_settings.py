"""Agent settings (shown on the Settings page): model, temperature and enabled tools of each specialist."""

from __future__ import annotations

import streamlit as st

from ui.errors import guard


def render_agent_settings() -> None:
    """One form per specialist; saved settings apply to the next message."""
    from agents.orchestrator import llm_configured
    from agents.specialists import SPECIALISTS, save_settings, settings_for
    from agents.tools import available

    st.subheader("Assistant agents")
    st.caption("LLM mode is on: each agent uses its model and temperature." if llm_configured() else
               "No OPENAI_API_KEY: the offline planner answers; enabled tools still apply.")
    usable = set(available())
    for key, spec in SPECIALISTS.items():
        current = settings_for(key)
        with st.expander(f"{spec.icon} {spec.name}"), st.form(f"assistant-settings-{key}", border=False):
            model = st.text_input("Model", value=current.model, key=f"assistant-settings-model-{key}")
            temperature = st.slider("Temperature", 0.0, 2.0, float(current.temperature), 0.1,
                                    key=f"assistant-settings-temp-{key}")
            tools = st.multiselect("Enabled tools", list(spec.tools), default=current.enabled_tools,
                                   format_func=lambda t: t if t in usable else f"{t} (unavailable)",
                                   key=f"assistant-settings-tools-{key}")
            if st.form_submit_button("Save", key=f"assistant-settings-save-{key}"):
                with guard():
                    save_settings(key, model=model, temperature=temperature, enabled_tools=tools)
                    st.toast(f"Saved the {spec.name}'s settings.")
