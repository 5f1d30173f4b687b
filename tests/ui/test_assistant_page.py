"""AppTests: the sidebar chat on a page, the Assistant page's conversations, the agent settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents import memory
from agents.specialists import settings_for
from core import datasets
from ui.state import Keys

ROOT = Path(__file__).resolve().parents[2]


def app(path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=60)


@pytest.fixture
def sales(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\nnorth,8,2.0\n")
    return datasets.ingest_file(path, name="sales")


def _charts(at: AppTest) -> list:
    return at.get("plotly_chart")


def test_sidebar_chat_on_a_page_draws_the_requested_chart(sales) -> None:
    # Given the Home page with a selected dataset
    at = app("Home.py")
    at.session_state[Keys.DATASET_ID] = str(sales.id)
    at.run()
    assert not at.exception
    # When the analyst asks the sidebar chat for a scatter plot
    at.chat_input(key="chat-input").set_value("plot units vs price").run()
    # Then the answer and its chart are in the sidebar, and the turn is stored
    assert not at.exception
    assert _charts(at), "no chart rendered"
    assert any("scatter chart of units vs price" in m.value for m in at.sidebar.markdown)
    conv_id = at.session_state[Keys.CHAT_CONVERSATION]
    assert [m.role for m in memory.messages(conv_id)] == ["user", "assistant"]


def test_sidebar_chat_uses_the_selected_dataset_and_a_pinned_agent(sales, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,\n2,3\n")
    datasets.ingest_file(other, name="other")
    at = app("pages/8_Jobs.py")
    at.session_state[Keys.DATASET_ID] = str(sales.id)
    at.run()
    at.selectbox(key="chat-agent").select("data_analyst").run()
    at.chat_input(key="chat-input").set_value("show missing values").run()
    assert not at.exception
    reply = memory.messages(at.session_state[Keys.CHAT_CONVERSATION])[-1]
    assert reply.agent == "data_analyst" and "sales" in reply.content and "units 1" in reply.content


def test_sidebar_chat_refuses_to_delete_data(sales) -> None:
    at = app("Home.py").run()
    at.chat_input(key="chat-input").set_value("delete the sales dataset").run()
    assert not at.exception
    assert any("no tool that deletes" in m.value for m in at.sidebar.markdown)
    assert datasets.get_dataset("sales").rows == 5


def test_assistant_page_starts_from_an_example_then_renames_archives_and_deletes(sales) -> None:
    # Given the Assistant page with no conversation
    at = app("pages/6_Assistant.py").run()
    assert not at.exception
    assert any("Offline mode" in c.value for c in at.caption)
    # When an example prompt is clicked
    at.button(key="assistant-example-1").click().run()
    assert not at.exception
    conv_id = at.session_state[Keys.CHAT_CONVERSATION]
    assert len(memory.messages(conv_id)) == 2
    # When the conversation is renamed
    at.text_input(key=f"assistant-title-{conv_id}").set_value("Missing values review").run()
    at.button(key="assistant-rename").click().run()
    assert memory.get_conversation(conv_id).title == "Missing values review"
    # When it is archived; Then it leaves the active list
    at.button(key="assistant-archive").click().run()
    assert memory.get_conversation(conv_id).archived
    assert memory.list_conversations() == []
    # When it is deleted; Then it is gone
    at.button(key="assistant-delete").click().run()
    assert not at.exception
    assert memory.list_conversations(archived=True) == []


def test_assistant_page_chat_shows_tools_and_the_answering_agent(sales) -> None:
    at = app("pages/6_Assistant.py")
    at.session_state[Keys.DATASET_ID] = str(sales.id)
    at.run()
    at.chat_input(key="assistant-input").set_value("average price by region").run()
    assert not at.exception
    assert any(c.value.startswith("SQL Expert") for c in at.caption)
    assert any('AVG("price")' in c.value for c in at.code)
    assert at.dataframe and set(at.dataframe[0].value["region"]) == {"north", "south", "east", "west"}


def test_agent_settings_are_saved_from_the_form() -> None:
    def page() -> None:
        from ui.agent_settings import render_agent_settings

        render_agent_settings()

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    at.text_input(key="assistant-settings-model-sql_expert").set_value("qwen2.5")
    at.multiselect(key="assistant-settings-tools-sql_expert").set_value(["sql_query"])
    at.button(key="assistant-settings-save-sql_expert").click().run()
    assert not at.exception
    saved = settings_for("sql_expert")
    assert saved.model == "qwen2.5" and saved.enabled_tools == ["sql_query"]


def test_sidebar_chat_in_llm_mode_streams_the_model_answer_with_its_chart(sales, monkeypatch) -> None:
    from tests.fakes.llm_scripts import tool, use_fake
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI() as fake:
        # Given an OpenAI-compatible endpoint that routes to the Visualization Expert, which draws a histogram
        use_fake(fake, monkeypatch)
        fake.script("visualization_expert", tool("create_visualization", dataset="sales", kind="histogram",
                                                 x="price"), "Prices cluster between 2 and 3.")
        at = app("Home.py")
        at.session_state[Keys.DATASET_ID] = str(sales.id)
        at.run()
        # When the analyst asks in the sidebar
        at.chat_input(key="chat-input").set_value("how are prices spread?").run()
        # Then the model's answer, its chart and the LLM badge are shown; the page was named in the context
        assert not at.exception
        assert any("Prices cluster between 2 and 3." in m.value for m in at.sidebar.markdown)
        assert _charts(at)
        assert any(c.value == "Visualization Expert · LLM" for c in at.sidebar.caption)
        assert "The user is on the Home page." in fake.chat_requests[1]["messages"][0]["content"]
