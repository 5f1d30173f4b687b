"""AppTests: LLM answers stream into the sidebar chat and the Assistant page, tool steps in a status box."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents import memory
from core import datasets
from tests.fakes.llm_scripts import tool, use_fake
from tests.fakes.openai_server import FakeOpenAI
from ui.state import Keys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sales(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\n")
    return datasets.ingest_file(path, name="sales")


def test_assistant_page_streams_an_llm_answer_with_its_tool_step(sales, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI() as fake:
        use_fake(fake, monkeypatch)
        # Given a model that calls a tool, then answers with a hostile image link in its text
        fake.script(tool("eda_analysis", dataset="sales", analysis="missing"),
                    "Units has **one** missing value. ![x](http://evil.example.com/leak.png)")
        at = AppTest.from_file(str(ROOT / "pages/6_Assistant.py"), default_timeout=60)
        at.session_state[Keys.DATASET_ID] = str(sales.id)
        at.run()
        at.selectbox(key="assistant-agent-new").select("data_analyst").run()
        # When the analyst asks on the Assistant page
        at.chat_input(key="assistant-input").set_value("show missing values").run()
    # Then the turn streamed (the stored reply is the model's text) and is rendered sanitised
    assert not at.exception
    conv = at.session_state[Keys.CHAT_CONVERSATION]
    reply = memory.messages(conv)[-1]
    assert reply.content.startswith("Units has **one** missing value.")
    assert reply.tool_calls[0]["name"] == "eda_analysis"
    shown = " ".join(m.value for m in at.markdown)
    assert "Units has **one** missing value." in shown and "![x](" not in shown


def test_sidebar_chat_shows_the_tool_steps_live_in_a_status(sales, monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    from ui.streaming import AnswerStream

    with FakeOpenAI() as fake:
        use_fake(fake, monkeypatch)
        fake.script(tool("sql_query", sql='SELECT count(*) AS n FROM "sales"'), "There are 4 rows.")
        labels: list[str] = []
        notes: list[str] = []

        class Status:  # records what the page's st.status receives, in order
            def update(self, **kw: str) -> None:
                labels.append(kw.get("label", ""))

            def markdown(self, text: str) -> None:
                notes.append(text)

        import agents

        stream = AnswerStream(lambda on_event: agents.ask("sql: SELECT count(*) FROM sales", agent="sql_expert",
                                                          on_event=on_event))
        text = "".join(stream.chunks(Status()))
    assert st is not None and stream.result().text == "There are 4 rows." == text
    assert labels[0] == "SQL Expert runs sql_query…" and labels[-1] == "1 tool step"
    assert notes[0].startswith("▶️ **SQL Expert** runs `sql_query`") and notes[1].startswith("✅ done")
