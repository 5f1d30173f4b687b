"""AppTests of sign-in mode: the gate on every page, who the page acts as, administrators' Settings.

`AppTest.user` stands in for what `st.login` leaves in `st.user` (the browser test signs in for real).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import datasets, users
from core.config import reload_settings

ROOT = Path(__file__).resolve().parents[2]
ALICE = {"is_logged_in": True, "sub": "sub-alice", "name": "Alice", "email": "alice@example.org"}
BOB = {"is_logged_in": True, "sub": "sub-bob", "name": "Bob <b>", "email": "bob@example.org"}


@pytest.fixture(autouse=True)
def sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGN_IN", "true")
    reload_settings()


def app(path: str, user: dict | None) -> AppTest:
    at = AppTest.from_file(str(ROOT / path), default_timeout=60)
    at.user = dict(user) if user is not None else {"is_logged_in": False}
    return at


@pytest.mark.parametrize("page", ["Home.py", "pages/1_Datasets.py", "pages/3_Analyze.py", "pages/9_Settings.py"])
def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_button(page: str, csv_file: Path) -> None:
    alice = users.get_or_create("sub-alice")
    with users.acting_as(alice.id):
        datasets.ingest_file(csv_file, name="alice_sales")
    at = app(page, None).run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.metric and not at.dataframe
    assert "alice_sales" not in str([m.value for m in at.markdown])


def test_each_signed_in_user_sees_their_own_counts(csv_file: Path) -> None:
    at = app("Home.py", ALICE).run()
    assert not at.exception
    alice = users.get_or_create("sub-alice")
    with users.acting_as(alice.id):
        datasets.ingest_file(csv_file, name="sales")
    at.run()
    assert {m.label: m.value for m in at.metric}["Datasets"] == "1"
    bob = app("Home.py", BOB).run()
    assert {m.label: m.value for m in bob.metric}["Datasets"] == "0"
    assert any("Signed in as Bob \\<b\\>" in c.value or "Signed in as Bob" in c.value for c in bob.sidebar.caption)


def test_settings_are_for_administrators_only() -> None:
    first = app("pages/9_Settings.py", ALICE).run()  # the first user to sign in is an administrator
    assert not first.exception and any("Health" in h.value for h in first.subheader)
    bob = app("pages/9_Settings.py", BOB).run()
    assert not bob.exception
    assert not bob.subheader and any("Only administrators" in i.value for i in bob.info)


def test_an_identity_whose_token_has_expired_is_signed_out() -> None:
    at = app("Home.py", {**ALICE, "exp": int(time.time()) - 60}).run()
    assert not at.exception
    assert not at.metric  # nothing of the workbench is shown to an expired identity
    assert at.user.get("is_logged_in") is False


def test_sign_in_is_recorded_once_per_session_in_the_audit() -> None:
    at = app("Home.py", ALICE).run()
    at.run()
    alice = users.get_or_create("sub-alice")
    with users.acting_as(alice.id):
        sign_ins = [e for e in users.audit_log() if e.action == "sign_in"]
    assert len(sign_ins) == 1 and sign_ins[0].user_id == alice.id


def test_cached_page_results_are_kept_per_user() -> None:
    from ui.cache import per_user

    calls: list[object] = []

    @per_user(max_entries=4)
    def rows_of(dataset_id: str) -> tuple[object, str]:
        calls.append(users.current_id())
        return users.current_id(), dataset_id

    alice, bob = users.get_or_create("sub-alice"), users.get_or_create("sub-bob")
    with users.acting_as(alice.id):
        assert rows_of("same-id") == (alice.id, "same-id")
        assert rows_of("same-id") == (alice.id, "same-id")  # Alice's second call is served from the cache
    with users.acting_as(bob.id):
        assert rows_of("same-id") == (bob.id, "same-id")  # not Alice's cached result
    assert calls == [alice.id, bob.id]


def test_a_reload_is_no_new_sign_in_but_a_new_identity_token_is() -> None:
    issued = int(time.time())
    app("Home.py", {**ALICE, "iat": issued}).run()
    app("Home.py", {**ALICE, "iat": issued}).run()  # another tab or a reload: a new session, the same cookie
    app("Home.py", {**ALICE, "iat": issued + 5}).run()  # signed in again: a new token
    alice = users.get_or_create("sub-alice")
    with users.acting_as(alice.id):
        stamps = [e.detail.get("iat") for e in users.audit_log() if e.action == "sign_in"]
    assert sorted(stamps) == [str(issued), str(issued + 5)]


@pytest.mark.parametrize("page", ["pages/1_Datasets.py", "pages/2_Visualize.py", "pages/3_Analyze.py"])
def test_a_guessed_dataset_id_in_the_session_shows_nothing_of_its_owner(page: str, csv_file: Path) -> None:
    from ui.state import Keys

    alice = users.get_or_create("sub-alice")
    with users.acting_as(alice.id):
        theirs = datasets.ingest_file(csv_file, name="alice_private")
    at = app(page, BOB)
    at.session_state[Keys.DATASET_ID] = str(theirs.id)  # as if Bob had planted Alice's id in his session
    at.run()
    assert not at.exception
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.info, *at.warning, *at.error])
    assert "alice_private" not in shown and not at.dataframe
