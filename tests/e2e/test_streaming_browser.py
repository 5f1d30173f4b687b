"""Browser: an LLM answer appears in the sidebar chat piece by piece as the model streams it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import running_app, wait_for_app
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.e2e
ANSWER = "The workbench streams this answer one word at a time so you can read along."


def _responder(request: dict[str, Any]) -> Any:
    if request.get("stream"):
        return {"content": ANSWER, "chunk_delay": 0.12}
    return "data_analyst"  # the router's (non-streamed) choice


def test_a_streamed_answer_appears_token_by_token(browser, tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.responder = _responder
        env = {"OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": fake.base_url, "LLM_MODEL": "fake-model"}
        with running_app(tmp_path, env) as app:
            page = browser.new_page()
            page.goto(app.page_url())
            wait_for_app(page)
            sidebar = page.locator('[data-testid="stSidebar"]')
            box = sidebar.locator('[data-testid="stChatInput"] textarea')
            # When the analyst asks and watches the sidebar while the model streams
            box.fill("tell me about my data")
            box.press("Enter")
            seen: list[str] = []
            deadline = time.time() + 60
            while time.time() < deadline:
                text = sidebar.inner_text()
                words = next((line for line in text.splitlines() if line.startswith("The workbench")), "")
                if words and (not seen or words != seen[-1]):
                    seen.append(words)
                if ANSWER in text and sidebar.get_by_text("Data Analyst").count():
                    break
                time.sleep(0.03)
            page.close()
    # Then the answer grew in several visible steps before it was complete, each a prefix of the next
    partial = [s.rstrip(" ▌") for s in seen if ANSWER not in s]
    assert len(partial) >= 3, seen
    assert all(ANSWER.startswith(p.strip()) for p in partial), seen
    assert any(ANSWER in s for s in seen) or ANSWER in text
