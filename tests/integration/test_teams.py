"""Teams (sign-in on): what one analyst makes is invisible to another, by every path, until shared.

The isolation matrix runs on SQLite and PostgreSQL (`backend`). A is the owner; B guesses A's ids and
names through core calls, SQL, RAG, the assistant, jobs and tokens, and must get "not found" (never
"forbidden"), then sees exactly what A shares, read-only or editable.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import select

import jobs
from core import charts, connections, datasets, projects, rag, schedules, sql, stats, tokens, users
from core.config import reload_settings
from core.db import session
from core.errors import InvalidInput, InvalidSql, NotFound
from core.models import Dataset
from core.models.base import LOCAL_USER_ID
from core.models.user import AuditEvent


def test_the_first_user_to_sign_in_is_an_administrator_and_the_second_is_not(team1: dict) -> None:
    assert users.get(team1["a"].id).is_admin and not users.get(team1["b"].id).is_admin
    assert users.get_or_create("sub-alice").id == team1["a"].id  # the provider's subject is the key


GETTERS = {
    "dataset": lambda t: datasets.get_dataset(t["private_ds"].id),
    "dataset by name": lambda t: datasets.get_dataset("customers"),
    "shared dataset before sharing": lambda t: datasets.get_dataset(t["shared_ds"].id),
    "frame": lambda t: datasets.load_frame(t["private_ds"].id),
    "project": lambda t: projects.get_project(t["project"].id),
    "chart": lambda t: charts.get_chart(t["chart"].id),
    "test": lambda t: stats.get_result(t["test"].id),
    "document": lambda t: rag.get_document(t["doc"].id),
    "connection": lambda t: connections.get_connection(t["conn"].id),
    "schedule": lambda t: schedules.get_schedule(t["schedule"].id),
    "job": lambda t: jobs.get_job(t["job"].id),
}


def not_refused(actions: dict, *, error: type[Exception] = NotFound, quiet: frozenset[str] = frozenset()) -> list[str]:
    """The actions that did not raise `error` (those in `quiet` may also return without effect)."""
    through = []
    for what, act in actions.items():
        try:
            act()
        except error:
            continue  # refused: for NotFound, the same answer as for an id that does not exist
        if what not in quiet:
            through.append(what)
    return through


def test_b_guessing_an_id_or_name_of_as_gets_not_found_by_every_getter(team: dict) -> None:
    with users.acting_as(team["b"].id):
        assert not_refused({what: lambda get=get: get(team) for what, get in GETTERS.items()}) == []


CHANGERS = {
    "delete dataset": lambda t: datasets.delete_dataset(t["private_ds"].id),
    "delete shared dataset before sharing": lambda t: datasets.delete_dataset(t["shared_ds"].id),
    "delete chart": lambda t: charts.delete_chart(t["chart"].id),
    "delete test": lambda t: stats.delete_result(t["test"].id),
    "delete document": lambda t: rag.delete_document(t["doc"].id),
    "delete connection": lambda t: connections.delete_connection(t["conn"].id),
    "delete schedule": lambda t: schedules.delete(t["schedule"].id),
    "pause schedule": lambda t: schedules.pause(t["schedule"].id),
    "delete project": lambda t: projects.delete_project(t["project"].id),
    "rename project": lambda t: projects.update_project(t["project"].id, name="mine now"),
    "note on project": lambda t: projects.add_note(t["project"].id, "hello"),
    "share project": lambda t: projects.share(t["project"].id, t["b"].id, can_edit=True),
    "cancel job": lambda t: jobs.cancel(t["job"].id),
}
QUIET = {"delete test"}  # deleting a result that is not there is no error (it may be gone already): it stays A's


def test_b_changing_or_deleting_as_items_gets_not_found_and_nothing_changes(team: dict) -> None:
    with users.acting_as(team["b"].id):
        changed = not_refused({what: lambda change=change: change(team) for what, change in CHANGERS.items()},
                              quiet=frozenset(QUIET))
    assert changed == []
    with users.acting_as(team["a"].id):  # everything of A's is as it was, files included
        assert datasets.load_frame(team["private_ds"].id).shape == (20, 2)
        assert datasets.load_frame(team["shared_ds"].id).shape == (20, 2)
        assert projects.get_project(team["project"].id).name == "Alice's study"
        assert projects.notes(team["project"].id) == []
        assert charts.get_chart(team["chart"].id).id == team["chart"].id
        assert stats.get_result(team["test"].id).p_value is not None
        assert rag.get_document(team["doc"].id).chunks > 0
        assert connections.get_connection(team["conn"].id).name == "warehouse"
        assert not schedules.get_schedule(team["schedule"].id).paused
        assert jobs.get_job(team["job"].id).status != "cancelled"
        assert any("BLUEHERON" in hit.text for hit in rag.search("secret launch codename", k=5))


def test_b_lists_nothing_of_as(team: dict) -> None:
    with users.acting_as(team["b"].id):
        assert datasets.list_datasets() == []
        assert projects.list_projects() == []
        assert charts.list_charts() == []
        assert stats.list_results() == []
        assert rag.list_documents() == []
        assert connections.list_connections() == []
        assert schedules.list_schedules() == []
        assert jobs.list_jobs() == []
    with users.acting_as(team["a"].id):
        assert {d.name for d in datasets.list_datasets()} == {"sales", "customers"}
        assert len(jobs.list_jobs()) == 1


QUERIES = ["SELECT * FROM customers", 'SELECT * FROM "customers"', "SELECT * FROM sales",
           "SELECT * FROM read_parquet('*/**/*.parquet')"]


def test_b_cannot_read_as_datasets_through_sql(team: dict) -> None:
    with users.acting_as(team["b"].id):  # an unknown table, or a file function that is refused
        assert not_refused({q: lambda q=q: sql.query(q) for q in QUERIES}, error=InvalidSql) == []
    with users.acting_as(team["a"].id):
        assert [len(sql.query(q)) for q in QUERIES[:3]] == [20, 20, 20]


def test_b_s_document_search_and_answers_never_cite_as_document(team: dict) -> None:
    with users.acting_as(team["b"].id):
        assert rag.search("secret launch codename", k=5) == []
        assert "BLUEHERON" not in rag.ask("What is the secret launch codename?").text
    with users.acting_as(team["a"].id):
        assert any("BLUEHERON" in hit.text for hit in rag.search("secret launch codename", k=5))


def test_the_assistant_acting_for_b_does_not_find_as_data_by_name(team1: dict) -> None:
    import agents

    def seen(reply: object) -> str:
        return reply.text + " ".join(t.to_csv() for t in reply.tables)

    with users.acting_as(team1["b"].id):
        reply = agents.ask("SELECT region, price FROM customers")
        assert "north" not in seen(reply) and "customers" not in {d.name for d in datasets.list_datasets()}
        assert agents.ask("show the first rows", dataset_id=str(team1["private_ds"].id)).tables == []
    with users.acting_as(team1["a"].id):
        assert "north" in seen(agents.ask("SELECT region, price FROM customers"))


def test_b_can_use_the_same_names_as_a_without_clash_or_leak(team1: dict, tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    pd.DataFrame({"x": [1, 2, 3]}).to_csv(csv, index=False)
    with users.acting_as(team1["b"].id):
        mine = datasets.ingest_file(csv, name="customers")  # A has a "customers": neither blocks nor shows
        assert datasets.get_dataset("customers").id == mine.id
        assert len(sql.query("SELECT * FROM customers")) == 3
    with users.acting_as(team1["a"].id):
        assert datasets.get_dataset("customers").id == team1["private_ds"].id


def test_a_read_only_share_shows_the_project_and_its_items_but_refuses_changes(team: dict) -> None:
    with users.acting_as(team["a"].id):
        projects.share(team["project"].id, team["b"].id)
    with users.acting_as(team["b"].id):
        assert [p.name for p in projects.list_projects()] == ["Alice's study"]
        assert {d.name for d in datasets.list_datasets()} == {"sales"}  # the linked one, not "customers"
        assert charts.get_chart(team["chart"].id).id == team["chart"].id
        assert stats.get_result(team["test"].id).p_value is not None  # A's saved test opens for B
        assert [r.id for r in stats.list_results()] == [team["test"].id]
        assert len(sql.query("SELECT * FROM sales")) == 20
        with pytest.raises(users.ReadOnly):
            projects.update_project(team["project"].id, name="taken over")
        with pytest.raises(users.ReadOnly):
            projects.add_note(team["project"].id, "a note")
        with pytest.raises(users.ReadOnly):
            datasets.delete_dataset(team["shared_ds"].id)
        with pytest.raises(users.ReadOnly):
            projects.share(team["project"].id, "everyone")
        with pytest.raises(NotFound):
            datasets.get_dataset(team["private_ds"].id)
    with users.acting_as(team["a"].id):
        assert projects.get_project(team["project"].id).name == "Alice's study"
        assert datasets.load_frame(team["shared_ds"].id).shape == (20, 2)  # nothing was half-deleted


def test_an_editable_share_lets_b_add_notes_but_only_the_owner_deletes(team: dict) -> None:
    with users.acting_as(team["a"].id):
        projects.share(team["project"].id, team["b"].id, can_edit=True)
    with users.acting_as(team["b"].id):
        note = projects.add_note(team["project"].id, "B was here", kind="finding")
        assert note.text == "B was here"
        with pytest.raises(users.ReadOnly):
            projects.delete_project(team["project"].id)
    with users.acting_as(team["a"].id):
        assert [n.text for n in projects.notes(team["project"].id)] == ["B was here"]
        projects.unshare(team["project"].id, team["b"].id)
    with users.acting_as(team["b"].id), pytest.raises(NotFound):
        projects.get_project(team["project"].id)


def test_sharing_with_everyone_reaches_a_user_who_signs_in_later(team1: dict) -> None:
    with users.acting_as(team1["a"].id):
        projects.share(team1["project"].id, projects.EVERYONE)
    carol = users.get_or_create("sub-carol", name="Carol")
    with users.acting_as(carol.id):
        assert [p.name for p in projects.list_projects()] == ["Alice's study"]
    with users.acting_as(team1["b"].id), pytest.raises(NotFound):
        users.get(uuid.uuid4())


def test_a_job_runs_as_its_submitter_and_what_it_makes_is_theirs(team: dict) -> None:
    with users.acting_as(team["b"].id):
        job = jobs.submit("profile", dataset_id=str(team["private_ds"].id))  # A's id, guessed
    jobs.wait_idle(60)
    with users.acting_as(team["b"].id):
        failed = jobs.get_job(job.id)
    assert failed.status == "failed" and "No dataset" in (failed.error or "")
    with users.acting_as(team["a"].id), pytest.raises(NotFound):
        jobs.get_job(job.id)


def test_a_token_acts_as_its_user_and_a_revoked_one_stops_at_once(team1: dict) -> None:
    principal = tokens.verify(team1["token"])
    assert principal is not None and principal.user == str(team1["a"].id)
    with users.acting_as(team1["b"].id):
        with pytest.raises(NotFound):
            tokens.revoke(team1["token_row"].id)  # B cannot even see A's token
        assert tokens.list_tokens() == []
    with users.acting_as(team1["a"].id):
        tokens.revoke(team1["token_row"].id)
    assert tokens.verify(team1["token"]) is None


def test_nobody_signed_in_sees_and_saves_nothing(team1: dict) -> None:
    with users.acting_as(users.NOBODY):
        assert datasets.list_datasets() == []
        with pytest.raises(users.ReadOnly):
            projects.create("sneaky")


def test_deletions_and_shares_are_audited_for_administrators_only(team1: dict) -> None:
    with users.acting_as(team1["a"].id):
        projects.share(team1["project"].id, team1["b"].id)
        datasets.delete_dataset(team1["private_ds"].id)
        actions = [(e.action, e.item_type) for e in users.audit_log()]
    assert ("share", "project") in actions and ("delete", "dataset") in actions
    with users.acting_as(team1["b"].id), pytest.raises(NotFound):
        users.audit_log()


def test_the_first_user_adopts_what_the_local_user_made_before_sign_in(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    csv = tmp_path / "old.csv"
    pd.DataFrame({"x": [1]}).to_csv(csv, index=False)
    old = datasets.ingest_file(csv, name="before sign-in")  # sign-in off: the local user's
    assert old.owner_id == LOCAL_USER_ID
    monkeypatch.setenv("SIGN_IN", "true")
    reload_settings()
    first = users.get_or_create("sub-first")
    second = users.get_or_create("sub-second")
    with users.acting_as(first.id):
        assert datasets.get_dataset(old.id).owner_id == first.id
    with users.acting_as(second.id), pytest.raises(NotFound):
        datasets.get_dataset(old.id)


def test_sign_in_off_is_one_local_user_with_nothing_filtered(tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    pd.DataFrame({"x": [1]}).to_csv(csv, index=False)
    ds = datasets.ingest_file(csv, name="local")
    with users.acting_as(uuid.uuid4()):  # off sign-in nothing is cut, whoever is named
        assert datasets.get_dataset(ds.id).id == ds.id
    with session() as s:
        assert s.exec(select(Dataset.owner_id)).all() == [LOCAL_USER_ID]
        assert s.exec(select(AuditEvent)).all() == []


@pytest.mark.parametrize("subject", ["", " ", "local", "x" * 301])
def test_a_bad_subject_is_refused(monkeypatch: pytest.MonkeyPatch, subject: str) -> None:
    monkeypatch.setenv("SIGN_IN", "true")
    reload_settings()
    with pytest.raises(InvalidInput, match="subject"):
        users.get_or_create(subject)


def test_over_a2a_each_users_token_sees_only_that_users_data(team1: dict) -> None:
    import anyio
    import httpx

    from tests.integration.a2a_helpers import client, collect, request, serving

    _, bob_token = tokens.issue("bob laptop", user=str(team1["b"].id))

    async def ask(base: str, token: str) -> str:
        async with httpx.AsyncClient(timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
            c = await client(http, f"{base}/agents/sql_expert/", streaming=False)
            events = await collect(c, request("SELECT region, price FROM customers"))
        return str(events)

    with serving() as base:
        as_bob = anyio.run(ask, base, bob_token)
        as_alice = anyio.run(ask, base, team1["token"])
    assert "north" in as_alice
    assert "north" not in as_bob and "customers" in as_bob  # B is told the table is unknown, nothing more


def test_over_mcp_http_each_users_token_sees_only_that_users_data(team1: dict, tmp_path: Path) -> None:
    import anyio
    import httpx2
    from mcp.client.client import Client
    from mcp.client.streamable_http import streamable_http_client

    from tests.integration.mcp_helpers import mcp_http_server

    _, bob_token = tokens.issue("bob laptop", user=str(team1["b"].id))

    async def ask(url: str, token: str) -> tuple[list[str], str]:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
        async with Client(streamable_http_client(url, http_client=http)) as client:
            listed = await client.list_resources()
            result = await client.call_tool("sql_query", {"sql": "SELECT region FROM customers"})
        return sorted({str(r.uri) for r in listed.resources}), result.content[0].text

    with mcp_http_server(tmp_path) as url:
        alice_uris, alice_rows = anyio.run(ask, url, team1["token"])
        bob_uris, bob_rows = anyio.run(ask, url, bob_token)
    assert "dataset://customers/preview" in alice_uris and "north" in alice_rows
    assert bob_uris == [] and "north" not in bob_rows


def test_over_mcp_a_tool_call_acts_as_the_tokens_user(team1: dict) -> None:
    from types import SimpleNamespace

    from agents import mcp_server

    def ctx(owner: str) -> SimpleNamespace:  # what the SDK hands a handler: the request, its user, the token
        token = SimpleNamespace(client_id=owner)
        return SimpleNamespace(request=SimpleNamespace(scope={"user": SimpleNamespace(access_token=token)}))

    principal = tokens.verify(team1["token"])
    assert mcp_server.caller(ctx(principal.owner)) == str(team1["a"].id)
    import anyio

    async def names(owner: str) -> list[str]:
        listed = await mcp_server.list_resources(ctx(owner), None)
        return sorted({r.name.split(" ")[0] for r in listed.resources})

    assert anyio.run(names, principal.owner) == ["customers", "sales"]
    assert anyio.run(names, f"user:{team1['b'].id}") == []
    assert anyio.run(names, "token:service") == []  # a token of nobody's acts as the local user: nothing here


def test_the_sidebar_answer_thread_acts_as_the_pages_user_not_as_the_system(team1: dict) -> None:
    from ui.streaming import AnswerStream

    class Status:  # the st.status container the steps are written into
        def update(self, **_kwargs: object) -> None: ...
        def markdown(self, *_args: object) -> None: ...

    seen: list[object] = []
    stream = AnswerStream(lambda _sink: seen.append((users.filtering_for(), len(datasets.list_datasets()))))
    with users.acting_as(team1["b"].id):
        list(stream.chunks(Status()))
    assert seen == [(team1["b"].id, 0)]  # a thread of its own, yet Bob's view: none of Alice's datasets


@pytest.mark.integration
def test_on_postgresql_and_redis_a_worker_process_acts_as_the_submitter(postgres: str, redis_url: str,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    from tests.integration.workers import start_worker, stop_worker, wait_until

    monkeypatch.setenv("SIGN_IN", "true")
    reload_settings()
    a, b = users.get_or_create("sub-alice"), users.get_or_create("sub-bob")
    memo = tmp_path / "bob-notes.txt"
    memo.write_text("Bob's private note: the churn model uses tenure and plan.\n" * 3)
    with users.acting_as(b.id):
        job = jobs.submit("rag.index", path=str(memo), name="bob-notes.txt")
    worker = start_worker(tmp_path, queues=("analysis_tasks",))
    try:
        def done() -> bool:
            with users.acting_as(b.id):
                return jobs.get_job(job.id).status in ("succeeded", "failed")

        wait_until(done, 120, interval=0.2, what="the worker to index Bob's document")
    finally:
        stop_worker(worker)
    with users.acting_as(b.id):
        finished = jobs.get_job(job.id)
        assert finished.status == "succeeded", finished.error
        doc = rag.get_document(finished.result["document_id"])
        assert doc.owner_id == b.id  # made by the worker process, owned by the one who asked
    with users.acting_as(a.id):
        assert rag.list_documents() == [] and jobs.list_jobs() == []
        with pytest.raises(NotFound):
            rag.get_document(doc.id)
