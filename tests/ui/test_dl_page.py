"""AppTest: the Models page's deep-learning section offers fitting architectures, trains a network as a job with a
loss curve, opens it beside the classical models and predicts with it."""

from __future__ import annotations

from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

import jobs
from core import ml
from tests.unit.test_dl_train import pixels, store, table
from ui.ml_view import MLKeys

ROOT = Path(__file__).resolve().parents[2]
torch.set_num_threads(1)


def page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/4_Models.py"), default_timeout=90)
    at.session_state[MLKeys.SECTION] = "Deep learning"
    return at


def test_only_fitting_architectures_are_offered_with_reasons_for_the_others() -> None:
    store(table(), "rows")
    at = page().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="dl-arch").options == ["MLP", "Transformer", "ResNet", "Custom"]
    at.selectbox(key="dl-task").select("sequence_prediction").run()
    assert at.selectbox(key="dl-arch").options == ["CNN", "RNN", "LSTM", "GRU", "Transformer", "Custom"]
    reasons = " ".join(m.value for m in at.markdown)
    assert "MLP" in reasons and "unordered feature vector" in reasons


def test_train_a_small_cnn_watch_the_curve_open_and_predict() -> None:
    # Given a table of 4x4 pixel columns
    store(pixels(), "pixels")
    at = page().run()
    # When a small CNN is trained through the form
    at.selectbox(key="dl-task").select("image_classification").run()
    at.text_input(key="dl-shape").input("4x4")
    at.selectbox(key="dl-target").select("digit")
    at.number_input(key="dl-epochs").set_value(3)
    at.number_input(key="dl-batch").set_value(16)
    at.number_input(key="dl-hidden").set_value(8)
    at.number_input(key="dl-layers-n").set_value(1)
    at.button(key="dl-train").click().run()
    jobs.wait_idle(90)
    at.run()
    # Then the job's loss curve is drawn and the model opens on the Models section with its metrics
    assert not at.exception, at.exception
    assert at.get("plotly_chart"), "no loss curve"
    at.button(key="dl-open").click().run()
    assert not at.exception, at.exception
    assert at.radio(key=MLKeys.SECTION).value == "Models"
    assert {"accuracy", "f1"} <= {m.label for m in at.metric}
    model = ml.list_models()[0]
    assert model.algorithm == "dl.pytorch.cnn"
    # and the Predict section predicts with it
    at.radio(key=MLKeys.SECTION).set_value("Predict").run()
    assert not at.exception, at.exception


def test_a_custom_layer_list_that_is_not_json_shows_an_error_and_offers_no_training() -> None:
    store(table(), "rows")
    at = page().run()
    at.selectbox(key="dl-arch").select("custom").run()
    at.text_area(key="dl-layers").input("__import__('os')").run()
    assert any("not valid JSON" in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "dl-train"] and not jobs.list_jobs()


def test_an_unknown_custom_layer_fails_the_job_with_the_reason_and_stores_nothing() -> None:
    store(table(), "rows")
    at = page().run()
    at.selectbox(key="dl-arch").select("custom").run()
    at.text_area(key="dl-layers").input('[{"type": "exec", "code": "print(1)"}]').run()
    at.button(key="dl-train").click().run()
    jobs.wait_idle(60)
    job = jobs.list_jobs()[0]
    assert job.status == "failed" and "unknown layer type" in job.error
    assert not ml.list_models()
