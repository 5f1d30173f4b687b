"""Browser fixtures: a real `streamlit run` on a free port and a real headless Chromium (Playwright)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """A running app: its URL, data folder and environment."""

    def __init__(self, url: str, data_dir: Path, env: dict[str, str], proc: subprocess.Popen) -> None:
        self.url, self.data_dir, self.env, self.proc = url, data_dir, env, proc

    def page_url(self, page: str = "") -> str:
        return f"{self.url}/{page}"


def start_app(tmp: Path, extra_env: dict[str, str] | None = None) -> App:
    port = free_port()
    data = tmp / "appdata"
    env = {**os.environ, "DATA_DIR": str(data), "DATABASE_URL": "", "REDIS_URL": "", "OPENAI_API_KEY": "",
           "CHROMA_HOST": "", "PYTHONUNBUFFERED": "1",
           "MODEL_KEY_FILE": str(tmp / "keys" / "model-signing.key"), **(extra_env or {})}
    log = open(tmp / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "Home.py"), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return App(url, data, env, proc)
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()[-2000:]}")


@contextmanager
def running_app(tmp: Path, extra_env: dict[str, str] | None = None) -> Iterator[App]:
    """The app started with `extra_env`, stopped (killed if it lingers) when the block ends."""
    running = start_app(tmp, extra_env)
    try:
        yield running
    finally:
        # The test is over and nothing of the app is read afterwards: a kill spares the seconds Streamlit
        # takes to stop on SIGTERM while its embedded worker's threads wind down
        running.proc.kill()
        running.proc.wait(10)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    """The app on a free port, embedded mode, its own DATA_DIR."""
    with running_app(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module (Playwright's sync API holds an event loop while it lives, so it
    must be closed before later modules run asyncio code of their own)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it with apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run one at a time, on one xdist worker (`--dist loadgroup`).

    Two apps and two Chromiums at once on two cores starve each other's reruns: a click sent while the
    page is still rerunning after the previous widget change can be lost, and the tests (and the last
    stop's code too) failed about one run in two that way. The other worker runs the rest of the suite.
    """
    browser_dir = Path(__file__).resolve().parent
    for item in items:
        if browser_dir in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


CALL_FAILED = pytest.StashKey[bool]()  # set by the hook below: did the test's body fail?


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def page(browser, tmp_path: Path, request: pytest.FixtureRequest):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    try:
        if request.node.stash.get(CALL_FAILED, True):  # what the page showed when the test failed
            pg.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
            print(f"screenshot of the failed page: {tmp_path / 'failed.png'}")
    finally:
        context.close()


SETTLED = """(settle) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
        && !document.querySelector('[data-testid="stStatusWidget"]');
    const now = performance.now();
    if (!idle) { window.__wbIdleSince = undefined; return false; }
    if (window.__wbIdleSince === undefined) { window.__wbIdleSince = now; }
    return now - window.__wbIdleSince >= settle;
}"""


def wait_for_app(pg, settle_ms: int = 300) -> None:
    """Wait until Streamlit has finished running the script and stayed idle for `settle_ms`.

    Idle is the app's own script state ("notRunning") with no 'Running…' indicator. The settle window
    covers the moment after a click, before the rerun it asked for has begun: a check made then saw the
    old page as done, and the next click could land on a widget that the rerun was about to replace.
    """
    pg.wait_for_selector('[data-testid="stApp"]')
    pg.evaluate("() => { window.__wbIdleSince = undefined; }")
    pg.wait_for_function(SETTLED, arg=settle_ms, timeout=60_000, polling=50)


def wait_for_cell(pg, text: str, timeout: float = 30_000) -> None:
    """st.dataframe draws on a canvas; its cells exist in the DOM (hidden) for accessibility."""
    pg.locator('[data-testid="stDataFrame"] [role="gridcell"]').get_by_text(text, exact=True).first.wait_for(
        state="attached", timeout=timeout)


FILE_INPUT = '[data-testid="stFileUploaderDropzoneInput"]:not([accept="application/streamlit,.zip"])'  # the File tab


def import_file(pg, path: Path) -> None:
    """On the Datasets page: choose `path`, wait for its preview to settle, press Import, wait until it is stored.

    Import is pressed only once the preview's rerun is over: pressed while the page still reran after the
    upload, the click could land on a button that the rerun replaced, and nothing was imported.
    """
    pg.locator(FILE_INPUT).set_input_files(str(path))
    pg.get_by_text("Detected: delimiter").first.wait_for(timeout=90_000)  # the server has the file and read it
    wait_for_app(pg)
    pg.get_by_role("button", name="Import", exact=True).click()
    pg.get_by_text(re.compile(f"upload: {re.escape(path.name)}")).first.wait_for(timeout=90_000)
    wait_for_app(pg)


def upload_dataset(pg, app: App, path: Path, *, shows: str) -> None:
    """Import a file through the Datasets page, as an analyst would, and wait for a cell that shows `shows`."""
    pg.goto(app.page_url("Datasets"))
    wait_for_app(pg)
    import_file(pg, path)
    wait_for_cell(pg, shows)
