"""The assistant's side of deep learning: the offline planner's mapping, the train_dl_model tool and its owners."""

from __future__ import annotations

import pytest

import jobs
from agents import planner
from agents.planner import Schema
from agents.specialists import SPECIALISTS
from agents.tools import available, run_tool
from tests.unit.test_dl_train import TINY, series, store

SALES = Schema("33333333-3333-3333-3333-333333333333", "sales", {"date": "categorical", "sales": "numeric",
                                                                 "store": "categorical"})
DIGITS = Schema("44444444-4444-4444-4444-444444444444", "digits", {"digit": "numeric", "p0": "numeric"})


@pytest.mark.parametrize(("message", "expected"), [
    ("train an LSTM in tensorflow to forecast sales from the last 30 days",
     {"architecture": "lstm", "framework": "tensorflow", "target": "sales", "task": "sequence_prediction",
      "window": 30, "dataset": "sales"}),
    ("train a CNN on the digits images", {"architecture": "cnn", "framework": "pytorch",
                                          "task": "image_classification", "dataset": "digits"}),
    ("find anomalies in sales with an autoencoder", {"architecture": "autoencoder", "task": "anomaly_detection"}),
    ("generate synthetic rows of sales with a GAN in keras", {"architecture": "gan", "framework": "tensorflow"}),
    ("build a GRU to predict sales", {"architecture": "gru", "target": "sales"}),
])
def test_planner_maps_deep_learning_requests(message: str, expected: dict) -> None:
    ctx = planner.context(message, dataset_id=None, schemas=[SALES, DIGITS])
    calls = planner.plan(ctx)
    assert calls and calls[0].name == "train_dl_model", calls
    for key, value in expected.items():
        assert calls[0].arguments.get(key) == value, (key, calls[0].arguments)


def test_plain_model_requests_still_go_to_classical_training() -> None:
    calls = planner.plan(planner.context("train a random forest to predict sales", dataset_id=None,
                                         schemas=[SALES]))
    assert calls[0].name == "train_ml_model"


def test_tool_is_offered_to_the_data_scientist_and_ml_engineer_and_starts_a_job() -> None:
    assert "train_dl_model" in available()  # the MCP server lists exactly these
    assert {"data_scientist", "ml_engineer"} <= {k for k, s in SPECIALISTS.items() if "train_dl_model" in s.tools}
    ds = store(series(), "monthly")
    result = run_tool("train_dl_model", {"dataset": "monthly", "architecture": "gru", "target": "sales",
                                          "window": 6, "epochs": 2, "batch_size": 8})
    assert result.ok and result.job_id, result.text
    job = jobs.get_job(result.job_id)
    assert job.kind == "dl.train" and job.params["options"] == {"window": 6} and job.params["dataset_id"] == ds


@pytest.mark.parametrize(("arguments", "words"), [
    ({"dataset": "monthly", "architecture": "capsnet"}, "architecture"),
    ({"dataset": "monthly", "architecture": "lstm", "epochs": 5000}, "epochs"),
    ({"dataset": "monthly", "architecture": "lstm", "target": "nope"}, "nope"),
    ({"dataset": "monthly", "architecture": "custom"}, "architecture"),  # layer lists are not for the assistant
])
def test_bad_tool_arguments_come_back_as_text(arguments: dict, words: str) -> None:
    store(series(), "monthly")
    result = run_tool("train_dl_model", arguments)
    assert not result.ok and words in result.text
    assert not jobs.list_jobs()


def test_the_predict_tool_uses_a_network_like_a_classical_model() -> None:
    from core import dl

    ds = store(series(), "monthly")
    run = dl.train(ds, architecture="gru", target="sales", epochs=1, batch_size=8, options={**TINY, "window": 6})
    result = run_tool("predict", {"dataset": "monthly", "model": run.model_id})
    assert result.ok, result.text
    assert result.table.columns[0] == "prediction" and len(result.table) == 72
