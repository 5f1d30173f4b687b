"""Schedules on SQLite: validation at save time, due slots, coalescing, pause/resume, run now, refresh of a
database-imported dataset, and sources whose credentials are gone."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from core import connections, datasets
from core.datasets.store import store_table
from core.errors import ConnectionFailed, IngestError, InvalidInput, NotFound
from core.schedules import triggers
from jobs import schedules


@pytest.fixture
def ds(csv_file: Path):
    return datasets.ingest_file(csv_file, name="sales")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"cron": "61 * * * *"}, "not a valid cron expression"),
    ({"cron": "* * *"}, "Wrong number of fields"),
    ({"cron": "; rm -rf /"}, "not a valid cron expression"),
    ({"cron": "*/5 * * * *", "timezone": "Mars/Olympus"}, "not a time zone"),
    ({"cron": "*/5 * * * *", "timezone": "../../etc/passwd"}, "not a time zone"),
    ({"cron": "*/5 * * * *", "timezone": ""}, "not a time zone"),
    ({"every_minutes": 0}, "too short"),
    ({"every_minutes": -5}, "too short"),
    ({"every_minutes": 0.5}, "whole number"),
    ({"every_minutes": True}, "whole number"),
    ({"every_minutes": "5; DROP TABLE schedule"}, "whole number"),
    ({"cron": "* * * * * " * 40}, "too long"),
    ({"every_minutes": 10**9}, "too long"),
    ({}, "either a cron expression or an interval"),
    ({"cron": "* * * * *", "every_minutes": 5}, "either a cron expression or an interval"),
    ({"every_minutes": 5, "params": {"x": object()}}, "plain values"),
])
def test_bad_timing_is_refused_at_save_time(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):  # checked before the target, so any id will do here
        schedules.create("dataset.profile", "any", **kwargs)


def test_bad_kinds_and_targets_are_refused_and_nothing_is_saved(ds) -> None:
    with pytest.raises(InvalidInput, match="not a valid cron"):
        schedules.create("dataset.profile", ds.id, cron="every day")
    with pytest.raises(InvalidInput, match="not something a schedule can do"):
        schedules.create("shell.exec", ds.id, every_minutes=5)
    with pytest.raises(NotFound):
        schedules.create("dataset.profile", "no-such-dataset", every_minutes=5)
    with pytest.raises(InvalidInput, match="cannot be fetched again"):  # an upload has no source to refresh from
        schedules.create("dataset.refresh", ds.id, every_minutes=5)
    assert schedules.list_schedules() == []


def test_cron_in_a_time_zone_fires_at_local_time() -> None:
    trig = triggers.make_trigger(cron="0 6 * * *", every_minutes=None, timezone="Europe/Paris",
                                 start=datetime(2026, 1, 1, tzinfo=UTC))
    after = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert triggers.next_after(trig, after) == datetime(2026, 7, 2, 4, tzinfo=UTC)  # 06:00 CEST
    assert triggers.latest_due(trig, after, datetime(2026, 7, 9, 5, tzinfo=UTC)) == datetime(2026, 7, 9, 4, tzinfo=UTC)


def test_a_year_of_missed_minutes_is_found_quickly() -> None:
    trig = triggers.make_trigger(cron="* * * * *", every_minutes=None, timezone="UTC", start=datetime(2025, 1, 1, tzinfo=UTC))
    now = datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert triggers.latest_due(trig, datetime(2025, 1, 1, tzinfo=UTC), now) == datetime(2026, 1, 1, tzinfo=UTC)


def test_tick_fires_each_slot_once_and_coalesces_missed_ones(ds) -> None:
    s = schedules.create("dataset.profile", ds.id, every_minutes=1)
    start = triggers.as_utc(s.created)
    assert s.next_run_at == start + timedelta(minutes=1)
    assert schedules.tick(start + timedelta(seconds=30)) == []  # nothing due yet
    first = schedules.tick(start + timedelta(minutes=1, seconds=1))
    assert len(first) == 1 and first[0].params["schedule_id"] == str(s.id)
    assert schedules.tick(start + timedelta(minutes=1, seconds=2)) == []  # same slot: not again
    # the scheduler was down for ten minutes: one run for the latest slot, not ten
    late = schedules.tick(start + timedelta(minutes=11, seconds=5))
    assert len(late) == 1
    runs = schedules.history(s.id)
    assert [triggers.as_utc(r.fire_time) for r in runs] == [start + timedelta(minutes=11), start + timedelta(minutes=1)]
    assert triggers.as_utc(schedules.get_schedule(s.id).next_run_at) > datetime.now(UTC)


def test_pause_stops_firing_and_resume_skips_the_paused_slots(ds) -> None:
    s = schedules.create("dataset.profile", ds.id, every_minutes=1)
    start = triggers.as_utc(s.created)
    schedules.pause(s.id)
    assert schedules.get_schedule(s.id).paused and schedules.get_schedule(s.id).next_run_at is None
    assert schedules.tick(start + timedelta(minutes=5, seconds=1)) == []
    resumed = schedules.resume(s.id)
    assert not resumed.paused
    assert schedules.tick(resumed.anchor_at + timedelta(seconds=1)) == []  # no catching up on paused slots
    assert len(schedules.tick(triggers.as_utc(resumed.anchor_at) + timedelta(minutes=1, seconds=1))) == 1


def test_run_now_runs_the_profile_and_records_it_and_delete_removes_the_history(ds) -> None:
    s = schedules.create("dataset.profile", ds.id, cron="0 6 * * *", timezone="Europe/Paris")
    job = schedules.run_now(s.id)
    from jobs import get_job, wait_idle

    wait_idle(30)
    assert get_job(job.id).status == "succeeded"
    (run,) = schedules.history(s.id)
    assert run.manual and run.status == "succeeded" and run.job_id == job.id
    assert run.result["rows"] == 4 and run.summary.startswith("Profiled version 1")
    schedules.delete(s.id)
    with pytest.raises(NotFound):
        schedules.history(s.id)


def _source_db(path: Path, rows: list[tuple]) -> None:
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE IF EXISTS shop")
        con.execute("CREATE TABLE shop (item TEXT, qty INTEGER)")
        con.executemany("INSERT INTO shop VALUES (?, ?)", rows)


def test_database_refresh_makes_a_version_only_when_the_content_changed(tmp_path: Path) -> None:
    db = tmp_path / "source.sqlite"
    _source_db(db, [("pen", 3), ("ink", 5)])
    conn = connections.save_connection("shopdb", "sqlite", database=str(db))
    ds = datasets.import_database(conn.id, table="shop")
    same = schedules.refresh_dataset(ds.id)
    assert not same.result["changed"] and datasets.get_dataset(ds.id).version == 1
    _source_db(db, [("pen", 3), ("ink", 5), ("nib", 9)])
    grown = schedules.refresh_dataset(ds.id)
    assert grown.result["changed"] and grown.result["version"] == 2
    assert (grown.result["rows_before"], grown.result["rows_after"]) == (2, 3)
    assert not grown.drift and grown.result["schema"] == {"added": [], "removed": [], "retyped": []}
    assert not schedules.refresh_dataset(ds.id).result["changed"]  # compared with the refresh now
    assert len(datasets.versions.history(ds.id)) == 2


def test_refresh_without_credentials_fails_with_the_reason_and_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    table = pa.table({"a": [1, 2]})
    kaggle = store_table(table, name="k", source="kaggle", source_detail="owner/data/file.csv")
    with pytest.raises(IngestError, match="Kaggle credentials are missing"):
        schedules.refresh_dataset(kaggle.id)
    conn = connections.save_connection("gone", "mysql", host="db.invalid", database="shop", user="u",
                                       password_env="GONE_DB_PASSWORD")
    monkeypatch.delenv("GONE_DB_PASSWORD", raising=False)
    mysql = store_table(table, name="m", source="database", source_detail=f"mysql://db.invalid/shop table {conn.name}")
    with pytest.raises(ConnectionFailed, match=r"\$GONE_DB_PASSWORD, which is not set"):
        schedules.refresh_dataset(mysql.id)
    connections.delete_connection(conn.id)
    with pytest.raises(NotFound, match="no longer exists"):
        schedules.refresh_dataset(mysql.id)
    assert [datasets.get_dataset(d.id).version for d in (kaggle, mysql)] == [1, 1]


def test_a_run_whose_job_was_cancelled_before_it_started_shows_as_failed(ds) -> None:
    s = schedules.create("dataset.profile", ds.id, every_minutes=1)
    (job,) = schedules.tick(triggers.as_utc(s.created) + timedelta(minutes=1, seconds=1))
    from jobs import store

    store.request_cancel(job.id)  # as the Jobs page's Cancel does; the handler never runs if it wins the race
    from jobs import wait_idle

    wait_idle(30)
    (run,) = schedules.history(s.id)
    assert run.status == "failed" and "cancel" in run.error
