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


def test_jobs_page_shows_a_cancel_at_once_while_the_job_runs_on() -> None:
    import time

    from core.models import JobStatus

    # Given a job between two slow checkpoints (like a model fit): it sees the cancel only seconds later
    job = jobs.submit("diagnostics.sleep", steps=50, interval=1.5)
    deadline = time.time() + 30
    while jobs.get_job(job.id).status != JobStatus.running and time.time() < deadline:
        time.sleep(0.05)
    at = app("pages/8_Jobs.py").run()
    assert not at.exception
    # When the analyst clicks Cancel
    at.button(key=f"cancel-{job.id}").click().run()
    # Then the page says so in the same rerun, before the worker has stopped, and offers no second cancel
    assert not at.exception
    assert jobs.get_job(job.id).status == JobStatus.running, "the job stopped too soon to test this"
    card = " ".join(m.value for m in at.markdown)
    assert "cancelling" in card
    assert any("Cancelling" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key == f"cancel-{job.id}"]
    jobs.wait_idle(30)
    assert jobs.get_job(job.id).status == JobStatus.cancelled


def test_jobs_page_shows_training_scores_per_model_duration_and_a_link_to_the_model() -> None:
    import json

    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from ui.ml_view import MLKeys

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "z": rng.normal(size=60)})
    frame["y"] = np.where(frame["x"] + rng.normal(0, 0.3, 60) > 0, "yes", "no")
    ds = datasets.store_table(pa.Table.from_pandas(frame), name="toy", source="test")
    job = jobs.submit("ml.train", dataset_id=str(ds.id), target="y", models=["logistic_regression", "decision_tree"],
                      cv=3)
    jobs.wait_idle(120)
    done = jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    at = app("pages/8_Jobs.py").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "per model" in spec["layout"]["title"]["text"]
    assert set(spec["data"][0]["x"]) == {"logistic_regression", "decision_tree"}
    assert any("took" in m.value for m in at.markdown)
    at.button(key=f"open-model-{job.id}").click().run()
    assert not at.exception
    assert at.session_state[MLKeys.MODEL] == done.result["best_model_id"]


def _panel_script(job_id: str) -> None:
    from ui.jobs import job_panel

    job_panel(job_id, key="t")


def test_job_panel_shows_a_cancel_at_once() -> None:
    import time

    job = jobs.submit("diagnostics.sleep", steps=50, interval=1.5)
    deadline = time.time() + 30
    while jobs.get_job(job.id).status != "running" and time.time() < deadline:
        time.sleep(0.05)
    at = AppTest.from_function(_panel_script, args=(str(job.id),), default_timeout=60).run()
    assert not at.exception
    at.button(key=f"cancel-t-{job.id}").click().run()
    assert not at.exception
    assert jobs.get_job(job.id).status == "running", "the job stopped too soon to test this"
    assert any("cancelling" in m.value for m in at.markdown)
    assert not [b for b in at.button if b.key == f"cancel-t-{job.id}"]
    jobs.wait_idle(30)
    assert jobs.get_job(job.id).status == "cancelled"
