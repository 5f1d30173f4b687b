"""AppTest: the Models page's deep-learning section offers fitting architectures, trains a network as a job with a
loss curve, opens it beside the classical models with its test-split evaluation, and predicts with it."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

import jobs
from core import datasets, dl, ml
from tests.unit.test_dl_train import TINY, pixels, store, table
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


def open_network(model_id: str) -> AppTest:
    at = page()
    at.session_state[MLKeys.SECTION] = "Models"
    at.session_state[MLKeys.MODEL] = model_id
    return at.run()


def test_a_trained_network_shows_its_confusion_matrix_roc_and_pr_curves() -> None:
    # Given a small trained classifier network
    ds = store(table(), "rows")
    run = dl.train(ds, architecture="mlp", target="label", epochs=2, batch_size=16, options=TINY)
    # When its page is opened
    at = open_network(run.model_id)
    # Then the evaluation on its test split is drawn beside the loss history
    assert not at.exception, at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert {"Loss per epoch", "Confusion matrix (test split)", "ROC curve (one-vs-rest)",
            "Precision-recall curve"} <= set(titles), titles
    assert any("test split rebuilt" in c.value for c in at.caption)


def test_a_network_whose_dataset_was_deleted_says_so_and_keeps_its_metrics() -> None:
    ds = store(table(), "gone")
    run = dl.train(ds, architecture="mlp", target="label", epochs=1, batch_size=16, options=TINY)
    datasets.delete_dataset(ds)
    at = open_network(run.model_id)
    assert not at.exception, at.exception
    assert any("has been deleted; evaluation needs it" in e.value for e in at.error)
    assert "accuracy" in {m.label for m in at.metric}
    assert [b for b in at.button if b.key == "dl-delete"]  # the model can still be deleted
