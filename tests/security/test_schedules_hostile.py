"""A hostile source cannot make Home load anything: a column name written as a Markdown image, reported
in a refresh's drift summary, is shown as text."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import connections, datasets
from jobs import schedules

ROOT = Path(__file__).resolve().parents[2]
TRACKER = "![pixel](http://evil.example/track.png)"


def test_a_hostile_column_name_in_a_drift_banner_loads_nothing(tmp_path: Path) -> None:
    db = tmp_path / "source.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        con.execute("INSERT INTO t VALUES (1)")
    ds = datasets.import_database(connections.save_connection("src", "sqlite", database=str(db)).id, table="t")
    with sqlite3.connect(db) as con:
        con.execute(f'ALTER TABLE t ADD COLUMN "{TRACKER}" TEXT')
    s = schedules.create("dataset.refresh", ds.id, every_minutes=5)
    run = schedules.refresh_dataset(ds.id)
    assert run.drift and TRACKER in run.summary
    schedules.finish_run(schedules.claim(s, s.created, manual=True).id, summary=run.summary, result=run.result,
                         drift=run.drift)
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    assert not at.exception
    (banner,) = [w.value for w in at.warning if "drifted" in w.value]
    assert "evil.example" in banner and "![" not in banner
