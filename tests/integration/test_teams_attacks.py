"""Teams, an attacker's pass: B tries to reach A's unshared items by the side doors, and to escalate a
read-only share. Each test is one hole found (now closed) or one family of doors checked shut.

A's items come from `make_team` (tests/integration/test_teams.py): a project "Alice's study" holding the
dataset "sales", a chart and a test; the private dataset "customers", a document, a connection, a schedule,
a job and a token.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select, update

import jobs
from core import cleaning, connections, datasets, projects, rag, schedules, sql, storage, users
from core.db import session
from core.errors import InvalidInput, InvalidSql, NotFound
from core.models.user import ProjectShare
from core.rag import fts


def test_b_cannot_link_as_hidden_item_into_his_own_project_and_share_it_to_himself(team: dict) -> None:
    # Given B's own project
    with users.acting_as(team["b"].id):
        mine = projects.create("B's study")
        # When B links A's private dataset (a guessed id) into it, the item is not found
        with pytest.raises(NotFound):
            projects.link(mine.id, ("dataset", team["private_ds"].id))
        with pytest.raises(NotFound):
            projects.link(mine.id, ("document", team["doc"].id))
        # and sharing a project with oneself is refused (it would only serve such tricks)
        with pytest.raises(InvalidInput):
            projects.share(mine.id, team["b"].id)
        projects.share(mine.id, projects.EVERYONE)
        # Then nothing of A's became visible
        assert projects.items(mine.id) == []
        with pytest.raises(NotFound):
            datasets.get_dataset(team["private_ds"].id)
        with pytest.raises(InvalidSql):
            sql.query("SELECT * FROM customers")


def test_an_item_shared_read_only_cannot_be_re_shared_by_linking_it_into_ones_own_project(team1: dict) -> None:
    carol = users.get_or_create("sub-carol", name="Carol")
    with users.acting_as(team1["a"].id):
        projects.share(team1["project"].id, team1["b"].id)  # read-only, to B only
    with users.acting_as(team1["b"].id):
        mine = projects.create("B's copy")
        with pytest.raises(users.ReadOnly):  # B sees "sales", so he is told why, not "not found"
            projects.link(mine.id, ("dataset", team1["shared_ds"].id))
        projects.share(mine.id, carol.id)
    with users.acting_as(carol.id), pytest.raises(NotFound):
        datasets.get_dataset(team1["shared_ds"].id)


def test_bs_document_search_leaves_as_keyword_index_alone(team1: dict, tmp_path: Path) -> None:
    # Given B has a document of his own (so his search reaches the keyword index's clean-up)
    memo = tmp_path / "bob.txt"
    memo.write_text("Bob's plan: ship the dashboard in March.\n" * 3)
    with users.acting_as(team1["b"].id):
        rag.add_document(memo, name="bob.txt")
        # When B searches
        assert rag.search("dashboard", k=3, mode="keyword")
    # Then A's document is still in the keyword index (B's view is not "every document there is")
    assert str(team1["doc"].id) in fts.documents()
    with users.acting_as(team1["a"].id):
        assert any("BLUEHERON" in h.text for h in rag.search("BLUEHERON", k=3, mode="keyword"))


def test_sql_does_not_name_as_datasets_whose_file_is_missing(team1: dict) -> None:
    with users.acting_as(team1["a"].id):
        storage.absolute(datasets.get_dataset(team1["private_ds"].id).path).unlink()
        sql.query("SELECT * FROM sales")  # A's query notices the missing file
        assert sql.unavailable() == ["customers"]
    with users.acting_as(team1["b"].id):
        assert sql.unavailable() == []


def test_b_cannot_grant_himself_a_share_through_the_orm(team: dict) -> None:
    with users.acting_as(team["b"].id):
        with pytest.raises(NotFound), session() as s:  # A's project, unseen: not found, as everywhere
            s.add(ProjectShare(project_id=team["project"].id, user_id=team["b"].id, can_edit=True))
        with pytest.raises(NotFound):
            projects.get_project(team["project"].id)
    with users.acting_as(team["a"].id):
        projects.share(team["project"].id, team["b"].id)  # read-only
    with users.acting_as(team["b"].id):
        with pytest.raises(users.ReadOnly), session() as s:
            s.execute(update(ProjectShare).values(can_edit=True))
        with pytest.raises(users.ReadOnly), session() as s:
            row = s.execute(select(ProjectShare).where(ProjectShare.project_id == team["project"].id)).scalars().one()
            row.can_edit = True
        assert not users.access(team["project"].id).can_edit


def test_b_reaches_nothing_of_as_by_the_side_doors(team: dict, tmp_path: Path) -> None:
    from agents.mcp_server import read_dataset
    from agents.tools import run_tool
    from core import activity, eda
    from jobs import schedules as fire

    ds, pid, job = team["private_ds"].id, team["project"].id, team["job"].id
    with users.acting_as(team["a"].id):
        note = projects.add_note(pid, "A's secret note")
        archive = projects.archive(pid)
        template = projects.make_template(archive.id, name="A's template")
        sql.query("SELECT * FROM customers")  # into A's query history
    not_found = {
        "versions": lambda: datasets.versions.history(ds), "diff": lambda: datasets.versions.diff(ds, 1, 1),
        "rollback": lambda: datasets.versions.rollback(ds, 1), "export": lambda: datasets.export.export(ds, "csv"),
        "clean": lambda: cleaning.apply_step(ds, {"op": "dedupe"}),
        "preview clean": lambda: cleaning.preview_step(ds, {"op": "dedupe"}),
        "profile": lambda: eda.profile(ds), "cached profile": lambda: eda.cached_profile(ds),
        "page": lambda: rag.get_page(team["doc"].id, 1), "note": lambda: projects.update_note(note.id, text="x"),
        "delete note": lambda: projects.delete_note(note.id), "archive": lambda: projects.get_archive(archive.id),
        "restore": lambda: projects.restore(archive.id), "delete archive": lambda: projects.delete_archive(archive.id),
        "template": lambda: projects.plan_template(template.id, team["shared_ds"].id),
        "export project": lambda: projects.export(pid), "run schedule now": lambda: fire.run_now(team["schedule"].id),
        "schedule runs": lambda: schedules.history(team["schedule"].id), "retry job": lambda: jobs.retry(job),
        "import from A's connection": lambda: connections.import_database(team["conn"].id, table="x"),
        "MCP resource": lambda: read_dataset("dataset://customers/preview"),
        "access": lambda: users.access(pid), "unshare": lambda: users.unshare(pid, team["b"].id),
    }
    with users.acting_as(team["b"].id):
        leaked = []
        for what, call in not_found.items():
            try:
                call()
                leaked.append(what)
            except NotFound:
                pass  # the same answer as for an id that does not exist
        assert leaked == []
        assert sql.history() == [] and projects.list_archives() == [] and projects.list_templates() == []
        assert activity.recent() == [] and set(activity.summary().model_dump().values()) == {0}
        assert set(jobs.counts().values()) == {0} and jobs.delete_finished() == 0 and schedules.last_runs() == {}
        assert rag.find_duplicate(tmp_path / "memo.txt") is None
        for tool, args in [("get_dataset_info", {"dataset": "customers"}), ("eda_analysis", {"dataset": str(ds)}),
                           ("get_job_status", {"job": str(job)}), ("summarize_project", {"project": str(pid)}),
                           ("add_note", {"project": str(pid), "text": "x"}), ("search_documents", {"query": "codename"})]:
            result = run_tool(tool, args)
            shown = result.text + ("" if result.table is None else result.table.to_csv())
            assert "BLUEHERON" not in shown and "north" not in shown and "secret" not in shown, (tool, shown)
    with users.acting_as(team["a"].id):
        assert [n.text for n in projects.notes(pid)] == ["A's secret note"]
        assert projects.get_archive(archive.id).id == archive.id and jobs.get_job(job).id == job


def test_a_read_only_share_cannot_be_escalated(team1: dict, tmp_path: Path) -> None:
    from agents.tools import run_tool

    pid, sales = team1["project"].id, team1["shared_ds"].id
    with users.acting_as(team1["a"].id):
        projects.share(pid, team1["b"].id)
    csv = tmp_path / "bob.csv"
    pd.DataFrame({"x": [1, 2]}).to_csv(csv, index=False)
    with users.acting_as(team1["b"].id):
        mine = datasets.ingest_file(csv, name="bobs")
        with pytest.raises(users.ReadOnly):
            cleaning.apply_step(sales, {"op": "dedupe"})  # a new version of A's dataset
        with pytest.raises(users.ReadOnly):
            projects.link(pid, mine)  # B's item into A's read-only project
        with pytest.raises(users.ReadOnly):
            projects.add_note(pid, "via an item", item=mine)
        with pytest.raises(users.ReadOnly), projects.use(pid):
            datasets.ingest_file(csv, name="joins A project")
        assert not run_tool("add_note", {"project": str(pid), "text": "x"}).ok
        with pytest.raises(users.ReadOnly):
            users.unshare(pid, team1["b"].id)
    with users.acting_as(team1["a"].id):
        assert projects.notes(pid) == [] and {i.item_id for i in projects.items(pid)} >= {sales}
        assert mine.id not in {i.item_id for i in projects.items(pid)}
        assert datasets.get_dataset(sales).version == 1
