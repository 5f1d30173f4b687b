"""The team the isolation tests share: sign-in on, Alice owning a project and private items, Bob, and tokens."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import jobs
from core import charts, connections, datasets, projects, rag, schedules, stats, tokens, users
from core.config import reload_settings


@pytest.fixture
def team(backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """The team on SQLite and on PostgreSQL: the isolation matrix runs on both."""
    return make_team(monkeypatch, tmp_path)


@pytest.fixture
def team1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """The team on SQLite only, for the tests of one path each."""
    return make_team(monkeypatch, tmp_path)


def make_team(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """Sign-in on; A owns a project holding a dataset, a chart, a test and a document, plus private items."""
    monkeypatch.setenv("SIGN_IN", "true")
    reload_settings()
    a = users.get_or_create("sub-alice", name="Alice", email="alice@example.org")
    b = users.get_or_create("sub-bob", name="Bob", email="bob@example.org")
    csv = tmp_path / "sales.csv"
    pd.DataFrame({"region": ["north", "south"] * 10, "price": [float(i) for i in range(20)]}).to_csv(csv, index=False)
    doc_file = tmp_path / "memo.txt"
    doc_file.write_text("The secret launch codename is BLUEHERON. Revenue grew in the north region.\n" * 3)
    with users.acting_as(a.id):
        project = projects.create("Alice's study")
        with projects.use(project.id):
            shared_ds = datasets.ingest_file(csv, name="sales")
            chart = charts.save_chart(charts.make_chart("histogram", shared_ds.id, x="price"), name="prices")
            frame = datasets.load_frame(shared_ds.id)
            test = stats.save_result(stats.run_test("ttest_ind", frame, value="price", group="region"),
                                     dataset_id=shared_ds.id)
        private_ds = datasets.ingest_file(csv, name="customers")
        doc = rag.add_document(doc_file, name="memo.txt")
        conn = connections.save_connection("warehouse", "postgresql", host="127.0.0.1", database="x")
        schedule = schedules.create("dataset.profile", str(private_ds.id), every_minutes=60)
        job = jobs.submit("diagnostics.sleep", steps=1, interval=0.01)
        token_row, token = tokens.issue("alice laptop", user=str(a.id))
    return {"a": a, "b": b, "project": project, "shared_ds": shared_ds, "private_ds": private_ds, "chart": chart,
            "test": test, "doc": doc, "conn": conn, "schedule": schedule, "job": job, "token_row": token_row,
            "token": token}
