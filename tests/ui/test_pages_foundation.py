"""AppTests: every foundation page runs without exception and its key widgets work."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import jobs
from core import datasets

ROOT = Path(__file__).resolve().parents[2]


def app(path: str) -> AppTest:
    return AppTest.from_file(str(ROOT / path), default_timeout=60)


def test_home_shows_counts_with_a_dataset(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = app("Home.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Datasets"] == "1"


def test_datasets_page_without_data_guides_to_upload() -> None:
    at = app("pages/1_Datasets.py").run()
    assert not at.exception
    assert any("No datasets yet" in i.value for i in at.info)
    assert not any("Go to Datasets" in m.value for m in at.markdown), "the Datasets page links to itself"


def test_other_pages_without_data_link_to_datasets() -> None:
    at = app("pages/2_Visualize.py").run()
    assert not at.exception
    assert any("Go to Datasets" in m.value for m in at.markdown)


def test_datasets_page_previews_sorts_and_profiles(csv_file: Path) -> None:
    ds = datasets.ingest_file(csv_file, name="sales")
    at = app("pages/1_Datasets.py").run()
    assert not at.exception
    assert at.dataframe[0].value.shape == (4, 3)
    at.selectbox(key="preview-sort").select("units").run()
    at.toggle(key="preview-desc").set_value(True).run()
    assert at.dataframe[0].value["units"].tolist()[0] == 10
    at.button(key="profile-run").click().run()
    jobs.wait_idle(30)
    at.run()
    assert not at.exception
    profile = at.dataframe[1].value
    assert set(profile["name"]) == {"region", "units", "price"}
    assert profile.set_index("name").loc["units", "missing"] == 1
    assert datasets.get_dataset(ds.id).rows == 4


def test_jobs_page_lists_and_retries_a_failed_job() -> None:
    job = jobs.submit("diagnostics.sleep", steps=2, interval=0.01, fail_at=0)
    jobs.wait_idle(30)
    at = app("pages/8_Jobs.py").run()
    assert not at.exception
    assert any("fail at step 0" in e.value for e in at.error)
    at.button(key=f"retry-{job.id}").click().run()
    assert jobs.get_job(job.id).attempts >= 1
    jobs.wait_idle(30)
    assert jobs.get_job(job.id).attempts == 2


def test_settings_page_shows_health_and_runs_self_test() -> None:
    at = app("pages/9_Settings.py").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for part in ("Database", "Broker", "Workers", "Vector store", "LLM", "GPU"):
        assert part in text
    at.button(key="selftest-run").click().run()
    jobs.wait_idle(30)
    at.run()
    assert not at.exception
    assert any("succeeded" in m.value for m in at.markdown)
