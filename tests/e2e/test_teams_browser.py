"""Browser (sign-in on): two analysts sign in through a real OpenID Connect flow, one shares a project read-only.

A local provider (`oidc_provider.py`) speaks the protocol on loopback, so Streamlit's own `st.login`, Authlib
and the signed identity cookie all run for real. Alice (the first to sign in: an administrator) keeps one
dataset private and imports another into a project; Bob sees nothing of hers until she shares the project,
then sees it and its dataset, read-only, and never her private dataset or the Settings page. A visitor with
a forged identity cookie gets the sign-in screen.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest

from tests.e2e.conftest import import_file, running_app, wait_for_app, wait_for_cell
from tests.e2e.oidc_provider import OidcProvider
from tests.projects_data import sales_csv

pytestmark = pytest.mark.e2e

CLIENT_ID = "workbench"


def _secrets(path: Path, idp: OidcProvider, client_secret: str, cookie_secret: str) -> Path:
    path.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{client_secret}"\n'
        f'server_metadata_url = "{idp.metadata_url}"\n'
    )
    return path


@pytest.fixture
def team_app(tmp_path: Path):
    """The app with SIGN_IN on, pointed at a local provider that knows its callback exactly."""
    client_secret = secrets.token_urlsafe(24)
    with OidcProvider(client_id=CLIENT_ID, client_secret=client_secret) as idp:
        cookie_secret = secrets.token_hex(32)
        toml = _secrets(tmp_path / "secrets.toml", idp, client_secret, cookie_secret)
        with running_app(tmp_path, {"SIGN_IN": "true", "ADMINS": "", "STREAMLIT_SECRETS_FILES": str(toml)}) as app:
            idp.allow_redirect(f"{app.url}/oauth2callback")
            yield app, cookie_secret  # the secret: the test's control, a cookie Streamlit itself would sign


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(30_000)
    return ctx


def _sign_in(pg, app, username: str) -> None:
    """The whole flow: the app's sign-in button, the provider's form, back to the app signed in."""
    pg.goto(app.page_url("Projects"))
    wait_for_app(pg)
    pg.get_by_role("button", name="Sign in").click(timeout=90_000)  # the first run imports a lot
    pg.get_by_label("Username").fill(username)  # the provider's page
    pg.get_by_role("button", name="Sign in").click()
    pg.wait_for_url(re.compile(re.escape(app.url)))
    pg.get_by_text(f"Signed in as {username.title()}").wait_for(timeout=60_000)
    wait_for_app(pg)


def _go(pg, name: str) -> None:
    pg.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True).click()
    wait_for_app(pg)


def _upload(pg, path: Path, *, first: bool) -> None:
    _go(pg, "Datasets")
    if not first:  # with datasets stored, the import form is folded away
        pg.get_by_text("Import data", exact=True).click()
    import_file(pg, path)


def _identity_cookie(app, subject: str, secret: str) -> dict[str, str]:
    """Streamlit's identity cookie, in its exact format, for `subject`, signed with `secret`."""
    from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

    claims = {
        "sub": subject,
        "name": "Alice",
        "email": "alice@example.org",
        "origin": app.url,
        "is_logged_in": True,
        "provider": "default",
    }
    value = create_signed_value(secret, "_streamlit_user", json.dumps(claims)).decode()
    return {"name": "_streamlit_user", "value": value, "url": app.url}


def _dataset_choices(pg) -> list[str]:
    pg.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").first.click()
    options = pg.get_by_role("option").all_inner_texts()
    pg.keyboard.press("Escape")
    return options


def test_two_analysts_sign_in_and_see_only_what_is_shared(team_app, browser, tmp_path: Path) -> None:
    app, cookie_secret = team_app
    forged, alice_ctx, bob_ctx = _context(browser), _context(browser), _context(browser)
    try:
        # A forged identity cookie is refused: the sign-in screen, nothing else
        forged.add_cookies(
            [{"name": "_streamlit_user", "value": "2|1:0|10:1700000000|15:_streamlit_user|8:e30=|abc", "url": app.url}]
        )
        visitor = forged.new_page()
        visitor.goto(app.page_url("Projects"))
        wait_for_app(visitor)
        visitor.get_by_role("heading", name="Sign in").wait_for(timeout=90_000)
        assert visitor.get_by_role("heading", name="Projects").count() == 0
        # Alice signs in first (an administrator), keeps one dataset private, imports another into a project
        alice = alice_ctx.new_page()
        _sign_in(alice, app, "alice")
        _upload(alice, sales_csv(tmp_path / "private_customers.csv"), first=True)
        _go(alice, "Projects")
        alice.get_by_role("textbox", name="Name", exact=True).fill("Alice's study")
        alice.get_by_role("button", name="Create project").click()
        wait_for_app(alice)
        _upload(alice, sales_csv(tmp_path / "sales.csv"), first=False)
        # Bob signs in: no project, no dataset
        bob = bob_ctx.new_page()
        _sign_in(bob, app, "bob")
        bob.get_by_text("No projects yet").first.wait_for()
        _go(bob, "Datasets")
        bob.get_by_text("No datasets yet. Import one first.").wait_for()
        # Alice shares the project with Bob, read-only
        _go(alice, "Projects")
        alice.get_by_role("tab", name="Share").click()
        alice.locator('[data-testid="stSelectbox"]').filter(has_text="Share with").click()
        alice.get_by_role("option", name="Bob (bob@example.org)").click()
        alice.get_by_role("button", name="Share", exact=True).click()
        alice.get_by_text("Bob (bob@example.org) · read-only").wait_for()
        # Bob reloads: the project and its dataset, read-only (no rename), never Alice's private dataset
        bob.reload()
        wait_for_app(bob)
        _go(bob, "Projects")
        bob.get_by_text("Shared with you by Alice (alice@example.org) (read-only).").wait_for()
        wait_for_cell(bob, "sales")
        assert bob.get_by_role("button", name=re.compile("^Edit")).count() == 0
        assert bob.get_by_role("tab", name="Share").count() == 0
        _go(bob, "Datasets")
        assert [o.split()[0] for o in _dataset_choices(bob)] == ["sales"]
        # A well-formed identity cookie claiming to be Alice, signed with another secret, is refused as well
        forged.clear_cookies()
        forged.add_cookies([_identity_cookie(app, "sub-alice", secrets.token_hex(32))])
        visitor.goto(app.page_url("Settings"))
        wait_for_app(visitor)
        visitor.get_by_role("heading", name="Sign in").wait_for()
        assert visitor.get_by_role("heading", name="Settings and health").count() == 0
        # (the control: the same cookie signed with the app's own secret is accepted, so the signature refused it)
        forged.clear_cookies()
        forged.add_cookies([_identity_cookie(app, "sub-alice", cookie_secret)])
        visitor.goto(app.page_url("Settings"))
        visitor.get_by_text("Signed in as Alice").wait_for()
        # Settings: nothing for Bob; for Alice the users and the audit, with the share and both sign-ins
        _go(bob, "Settings")
        bob.get_by_text("Only administrators see the system's settings").wait_for()
        assert bob.get_by_role("heading", name="Audit").count() == 0
        _go(alice, "Settings")
        alice.get_by_role("heading", name="Audit").wait_for()
        wait_for_cell(alice, "share")
        wait_for_cell(alice, "Bob (bob@example.org)")
        grid = alice.locator('[data-testid="stDataFrame"] [role="gridcell"]')
        assert grid.get_by_text("sign_in", exact=True).count() >= 2
    finally:
        for ctx in (forged, alice_ctx, bob_ctx):
            ctx.close()
