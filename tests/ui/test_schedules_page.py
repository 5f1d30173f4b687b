"""AppTests of the Schedules page and the Home banner, with real datasets, schedules and runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from streamlit.testing.v1 import AppTest

import jobs
from core import datasets
from core.datasets.store import store_table
from jobs import schedules

ROOT = Path(__file__).resolve().parents[2]


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "8_Schedules.py"), default_timeout=60)


def _create(at: AppTest, *, how: str, every: int = 60, cron: str = "0 6 * * *", tz: str = "UTC") -> AppTest:
    at.radio(key="schedule-how").set_value(how)
    at.number_input(key="schedule-every").set_value(every)
    at.text_input(key="schedule-cron").set_value(cron)
    at.text_input(key="schedule-tz").set_value(tz)
    return at.button[0].click().run()  # the form's submit button


def test_create_refuses_bad_input_with_clear_messages_then_saves_and_acts(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    assert not at.exception
    for kwargs, message in [({"how": "Cron", "cron": "every day"}, "not a valid cron expression"),
                            ({"how": "Cron", "tz": "Atlantis/Capital"}, "not a time zone"),
                            ({"how": "Interval", "every": 0}, "too short")]:
        at = _create(at, **kwargs)
        assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert schedules.list_schedules() == []
    at = _create(at, how="Cron", cron="30 7 * * mon-fri", tz="Europe/Paris")
    assert not at.exception and any("Scheduled: Re-profile of sales" in s.value for s in at.success)
    (row,) = schedules.list_schedules()
    assert row.cron == "30 7 * * mon-fri" and row.timezone == "Europe/Paris"
    assert any("cron `30 7 * * mon-fri` (Europe/Paris)" in m.value for m in at.markdown), [m.value for m in at.markdown]
    at.button(key=f"schedule-pause-{row.id}").click().run()
    assert schedules.get_schedule(row.id).paused and any("paused" in m.value for m in at.markdown)
    at.button(key=f"schedule-resume-{row.id}").click().run()
    assert not schedules.get_schedule(row.id).paused
    at.button(key=f"schedule-run-{row.id}").click().run()
    jobs.wait_idle(30)
    at.run()
    assert any("succeeded" in c.value for c in at.caption), [c.value for c in at.caption]
    at.button(key=f"schedule-delete-{row.id}").click().run()
    assert schedules.list_schedules() == [] and not at.exception


def test_a_failed_refresh_keeps_its_history_is_flagged_on_home_and_shown_on_the_jobs_page() -> None:
    # Given a dataset from Kaggle whose credentials are gone, and a schedule that refreshes it
    ds = store_table(pa.table({"a": [1, 2]}), name="kaggle_data", source="kaggle", source_detail="owner/data/f.csv")
    s = schedules.create("dataset.refresh", ds.id, every_minutes=60)
    # When it runs, Then the run fails with the reason and the schedule keeps it in its history
    job = schedules.run_now(s.id)
    jobs.wait_idle(30)
    (run,) = schedules.history(s.id)
    assert jobs.get_job(job.id).status == "failed" and run.status == "failed"
    assert "Kaggle credentials are missing" in run.error and datasets.get_dataset(ds.id).version == 1
    # And Home shows a banner, and the Jobs page says the job was started by a schedule
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
    assert not at.exception
    banner = [w.value for w in at.warning]
    assert any("kaggle_data" in w and "failed" in w and "Kaggle credentials are missing" in w for w in banner), banner
    at = AppTest.from_file(str(ROOT / "pages" / "8_Jobs.py"), default_timeout=60).run()
    assert not at.exception
    assert any("Started by a schedule" in c.value for c in at.caption)
