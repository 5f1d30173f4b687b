"""AppTests (sign-in on): the owner shares a project on the Projects page; the user it is shared with sees who
shared it and, read-only, no edit controls; a share narrowed while a page is open is refused with a clear
message; administrators see the users and the audit on Settings, others see neither.

AppTest seeds `st.user` (`at.user`), so the real sign-in gate of `ui/auth.py` maps each run to its user.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import datasets, projects, users
from core.config import reload_settings
from ui.state import ProjectKeys

ROOT = Path(__file__).resolve().parents[2]


def claims(user: users.User) -> dict[str, object]:
    return {"is_logged_in": True, "sub": user.subject, "name": user.name, "email": user.email}


def page(name: str, user: users.User) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=90)
    at.user = claims(user)
    return at.run()


def keys(at: AppTest) -> set[str]:
    return {w.key for kind in ("button", "text_input", "text_area", "selectbox") for w in getattr(at, kind) if w.key}


@pytest.fixture
def team(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """Sign-in on; Alice (the first, so an administrator) owns a project holding a dataset; Bob and a user
    whose name is Markup have signed in."""
    monkeypatch.setenv("SIGN_IN", "true")
    reload_settings()
    alice = users.get_or_create("sub-alice", name="Alice", email="alice@example.org")
    bob = users.get_or_create("sub-bob", name="Bob", email="bob@example.org")
    mallory = users.get_or_create("sub-mallory", name="<b>Mal</b> *lory*", email="m@example.org")
    csv = tmp_path / "sales.csv"
    csv.write_text("region,units\nnorth,3\nsouth,5\n")
    with users.acting_as(alice.id):
        project = projects.create("Alice's study")
        with projects.use(project.id):
            datasets.ingest_file(csv, name="sales")
    return {"alice": alice, "bob": bob, "mallory": mallory, "project": project}


def test_the_owner_shares_read_only_and_the_other_user_sees_it_without_edit_controls(team: dict) -> None:
    alice, bob, project = team["alice"], team["bob"], team["project"]
    # Given Bob's Projects page before any share: no project
    at_bob = page("0_Projects.py", bob)
    assert not at_bob.exception and any("No projects yet" in i.value for i in at_bob.info)
    # When Alice opens her project: the Share tab offers everyone and the users who signed in, herself excepted
    at = page("0_Projects.py", alice)
    assert not at.exception
    assert [t.label for t in at.tabs][-1] == "Share"
    share_to = at.selectbox(key="project-share-user")
    assert share_to.options == ["Everyone", "<b>Mal</b> *lory* (m@example.org)", "Bob (bob@example.org)"]
    assert any("Not shared" in c.value for c in at.caption)
    # And shares it with Bob, read-only
    share_to.select(str(bob.id))
    at.radio(key="project-share-access").set_value("read-only")
    at.button(key="project-share-submit").click().run()
    assert not at.exception and not at.error
    with users.acting_as(alice.id):
        assert [(s.user_id, s.can_edit) for s in projects.shares_of(project.id)] == [(bob.id, False)]
    assert any(m.value == "Bob (bob@example.org) · read-only" for m in at.markdown)
    # Then Bob sees the project, who shared it and how, and no control that would change it
    at_bob = page("0_Projects.py", bob)
    assert not at_bob.exception
    assert at_bob.subheader[0].value == "Alice's study"
    assert at_bob.info[0].value == "Shared with you by Alice (alice@example.org) (read-only)."
    assert "Share" not in [t.label for t in at_bob.tabs]
    changes = {
        "project-share-user",
        "project-note-text",
        "project-note-submit",
        "project-link",
        "project-archive",
        "project-make-current",
        "project-edit-save",
        f"project-edit-name-{project.id}",
        "project-delete",
    }
    assert not keys(at_bob) & changes
    assert at_bob.dataframe[0].value["name"].tolist() == ["sales"]  # the linked dataset is visible through it
    assert at_bob.sidebar.selectbox(key=ProjectKeys.PICKER).options == ["(no project)"]  # not his to add to


def test_a_hostile_name_is_shown_as_text_and_stop_sharing_closes_the_project_again(team: dict) -> None:
    alice, mallory, project = team["alice"], team["mallory"], team["project"]
    at = page("0_Projects.py", alice)
    at.selectbox(key="project-share-user").select(str(mallory.id))
    at.radio(key="project-share-access").set_value("can edit")
    at.button(key="project-share-submit").click().run()
    assert not at.exception
    assert any(m.value == r"\<b\>Mal\</b\> \*lory\* (m@example.org) · can edit" for m in at.markdown)
    (row,) = (b for b in at.button if b.key and b.key.startswith("project-unshare-"))
    row.click().run()
    assert not at.exception
    with users.acting_as(alice.id):
        assert projects.shares_of(project.id) == []
    assert any("No projects yet" in i.value for i in page("0_Projects.py", mallory).info)


def test_a_share_narrowed_while_the_page_is_open_drops_the_edit_controls_and_changes_nothing(team: dict) -> None:
    alice, bob, project = team["alice"], team["bob"], team["project"]
    with users.acting_as(alice.id):
        projects.share(project.id, bob.id, can_edit=True)
    # Given Bob's page with an editable share: he may rename it, not delete it
    at = page("0_Projects.py", bob)
    assert not at.exception
    assert "Shared with you by Alice (alice@example.org) (can edit)." in [i.value for i in at.info]
    assert "project-edit-save" in keys(at) and "project-delete" not in keys(at)
    assert at.sidebar.selectbox(key=ProjectKeys.PICKER).options == ["(no project)", "Alice's study"]
    # When Alice narrows the share to read-only before Bob saves his rename
    with users.acting_as(alice.id):
        projects.share(project.id, bob.id, can_edit=False)
    at.text_input(key=f"project-edit-name-{project.id}").input("Bob's now")
    at.button(key="project-edit-save").click().run()
    # Then the rerun shows the share as read-only, without the edit controls, and the name stays
    assert not at.exception
    assert "Shared with you by Alice (alice@example.org) (read-only)." in [i.value for i in at.info]
    assert "project-edit-save" not in keys(at)
    with users.acting_as(alice.id):
        assert projects.get_project(project.id).name == "Alice's study"


def _rename_as(user_id: str, project_id: str) -> None:
    from core import projects, users
    from ui.errors import guard

    with users.acting_as(user_id), guard():
        projects.update_project(project_id, name="Bob's now")


def test_a_read_only_refusal_shows_as_its_message_through_the_error_guard(team: dict) -> None:
    alice, bob, project = team["alice"], team["bob"], team["project"]
    with users.acting_as(alice.id):
        projects.share(project.id, bob.id, can_edit=False)
    # When a change to a read-only project reaches core from a page (here straight through the guard)
    at = AppTest.from_function(_rename_as, args=(str(bob.id), str(project.id)), default_timeout=30).run()
    # Then the user reads the ReadOnly message and its hint, never a traceback
    assert not at.exception
    (error,) = at.error
    assert "shared with you read-only" in error.value and "Ask its owner" in error.value


def test_settings_show_users_and_the_audit_to_an_administrator_only(team: dict) -> None:
    alice, bob, project = team["alice"], team["bob"], team["project"]
    with users.acting_as(alice.id):
        projects.share(project.id, bob.id)
    at = page("9_Settings.py", bob)
    assert not at.exception
    assert any("Only administrators" in i.value for i in at.info) and not at.dataframe
    at = page("9_Settings.py", alice)
    assert not at.exception
    people = at.dataframe[0].value
    assert people.set_index("e-mail")["admin"].to_dict() == {
        "alice@example.org": True,
        "bob@example.org": False,
        "m@example.org": False,
    }
    audit = at.dataframe[1].value
    assert ("share", "Alice (alice@example.org)", "project · Alice's study") in set(
        zip(audit["action"], audit["who"], audit["item"], strict=True)
    )
    assert "with: Bob (bob@example.org), can_edit: False" in audit["detail"].tolist()
    assert ("sign_in", "Alice (alice@example.org)") in set(zip(audit["action"], audit["who"], strict=True))
