"""AppTest: the assistant's offered buttons. An unclear request shows the likeliest readings as buttons and a
click runs the chosen one (the "Run this plan" button of a data-changing plan is the same mechanism; its
execution is tested in tests/unit/test_planner_grounded.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents import memory
from core import datasets
from ui.state import Keys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sales(tmp_path: Path):
    path = tmp_path / "sales.csv"
    path.write_text("region,units,price\nnorth,10,2.5\nsouth,7,3.0\neast,,4.25\nwest,3,1.0\nnorth,8,2.0\n")
    return datasets.ingest_file(path, name="sales")


def _buttons(at: AppTest) -> dict[str, object]:
    return {b.label: b for b in at.sidebar.button if "-choice-" in (b.key or "")}


def test_an_unclear_request_offers_readings_and_a_click_runs_the_chosen_one(sales) -> None:
    # Given the sidebar chat with a dataset selected
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.session_state[Keys.DATASET_ID] = str(sales.id)
    at.run()
    # When the request names two columns but no analysis
    at.chat_input(key="chat-input").set_value("units and price?").run()
    assert not at.exception
    # Then what was understood is said and the readings are buttons, nothing ran
    buttons = _buttons(at)
    assert {"correlation between units and price", "plot price vs units"} <= set(buttons), list(buttons)
    conv = at.session_state[Keys.CHAT_CONVERSATION]
    assert memory.messages(conv)[-1].tool_calls in (None, [])
    # When the analyst clicks one reading; Then it runs and its chart is drawn
    buttons["plot price vs units"].click().run()
    assert not at.exception
    last = memory.messages(conv)[-1]
    assert [c["name"] for c in last.tool_calls] == ["create_visualization"] and at.get("plotly_chart")
