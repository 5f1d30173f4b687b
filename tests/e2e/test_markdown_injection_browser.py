"""Browser: hostile column names and model replies make Chromium fetch nothing (issue 10 item 7).

A local HTTP server counts every request. A dataset whose column names are a Markdown image
pointing at it (and a backtick that would break out of a code span) is imported and shown on the
Datasets page, in the Analyze schema browser and in the sidebar chat; then a scripted model
reply carrying an image and raw HTML is shown in the sidebar chat. The server must see nothing,
while the page still shows the names as typed.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.conftest import App, start_app, upload_dataset, wait_for_app
from tests.fakes.openai_server import FakeOpenAI

pytestmark = pytest.mark.e2e


class Beacon:
    """An HTTP server that records the path of every request it gets."""

    def __init__(self) -> None:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.seen = seen
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def beacon() -> Iterator[Beacon]:
    server = Beacon()
    yield server
    server.close()


def _stop(app: App) -> None:
    app.proc.terminate()
    try:
        app.proc.wait(10)
    except subprocess.TimeoutExpired:
        app.proc.kill()


def _ask_sidebar(page, text: str) -> None:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stChatInput"] textarea')
    box.fill(text)
    box.press("Enter")


def test_hostile_column_names_load_nothing(app, page, tmp_path: Path, beacon: Beacon) -> None:
    # Given a CSV whose column names are an image pointing at the beacon and a code-span break-out
    image = f"![m]({beacon.url}/x.png)"
    csv = tmp_path / "hostile.csv"
    csv.write_text(f'"{image}","a`b ![n]({beacon.url}/y.png) `",price\n1,2,3.5\n4,5,6.5\n', encoding="utf-8")
    # When it is imported and shown on the Datasets page
    upload_dataset(page, app, csv, shows="6.5")
    page.wait_for_timeout(1000)
    assert beacon.seen == [], "the Datasets page preview fetched the image"
    page.get_by_text("Columns", exact=True).first.click()
    wait_for_app(page)
    page.wait_for_timeout(1000)
    assert beacon.seen == [], "the Datasets page's Columns tab fetched the image"
    # And in the Analyze page's schema browser, opened
    page.goto(app.page_url("Analyze"))
    wait_for_app(page)
    page.get_by_role("tab", name="SQL").click()
    page.locator('[data-testid="stExpander"]', has_text="hostile").first.locator("summary").click()
    page.get_by_text("price", exact=True).first.wait_for()
    schema = page.locator('[data-testid="stExpander"]', has_text="hostile").first.inner_text()
    assert beacon.seen == [], "the schema browser fetched the image"
    # And the sidebar chat answers a question that names the columns
    _ask_sidebar(page, "describe the columns of hostile")
    page.locator('[data-testid="stSidebar"] [data-testid="stChatMessage"]').nth(1).wait_for(timeout=60_000)
    wait_for_app(page)
    page.wait_for_timeout(1000)
    # Then the names are shown as typed, and the beacon was never asked for anything
    assert image in schema and "a`b" in schema
    assert page.locator(f"img[src*='{beacon.url}']").count() == 0
    assert beacon.seen == []


def test_model_reply_with_an_image_loads_nothing(page, tmp_path: Path, beacon: Beacon) -> None:
    # Given an LLM (the fake OpenAI server) that answers every request with an exfiltrating reply
    reply = (f"Done. ![s]({beacon.url}/leak?d=secret) <img src=\"{beacon.url}/leak2\"> "
             f"[details]({beacon.url}/click)")
    with FakeOpenAI() as fake:
        fake.responder = lambda _request: reply
        app = start_app(tmp_path, {"OPENAI_API_KEY": "test", "OPENAI_BASE_URL": fake.base_url,
                                   "LLM_MODEL": "gpt-4o-mini"})
        try:
            page.goto(app.page_url())
            wait_for_app(page)
            # When the analyst asks the sidebar chat
            _ask_sidebar(page, "hello")
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_text("image: s", exact=False).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            text = sidebar.inner_text()
        finally:
            _stop(app)
    # Then the reply is shown with its URLs as text, and the beacon got no request
    assert f"{beacon.url}/leak?d=secret" in text and f"{beacon.url}/click" in text
    assert fake.chat_requests, "the fake LLM was never asked"
    assert beacon.seen == []
