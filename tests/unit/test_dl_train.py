"""Every architecture in both frameworks learns on tiny data, is stored, reloaded and predicts; parity of the two."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch

from core import datasets, dl, ml
from core.dl.spec import FRAMEWORKS

torch.set_num_threads(1)
TINY = {"hidden": 8, "layers": 1, "filters": 4, "heads": 2, "embedding": 8, "latent": 2, "patience": 0,
        "dropout": 0.0}


def store(frame: pd.DataFrame, name: str) -> str:
    return str(datasets.store_table(pa.Table.from_pandas(frame, preserve_index=False), name=name, source="test").id)


def table(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.normal(size=rows), "c": rng.choice(["x", "y"], rows)})
    frame["label"] = np.where(frame["a"] + frame["b"] > 0, "hi", "lo")
    return frame


def pixels(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, rows)
    grid = rng.random((rows, 4, 4)) * 0.2
    grid[labels == 1, :, :2] += 0.8  # class 1: bright left half
    frame = pd.DataFrame(grid.reshape(rows, 16), columns=[f"p{i}" for i in range(16)])
    frame["digit"] = labels
    return frame


def texts(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    good, bad = ["good", "great", "fine"], ["bad", "awful", "poor"]
    labels = ["pos" if i % 2 else "neg" for i in range(rows)]
    body = [" ".join(rng.choice(good if lab == "pos" else bad, 4)) for lab in labels]
    return pd.DataFrame({"review": body, "sentiment": labels})


def series(rows: int = 72) -> pd.DataFrame:
    t = np.arange(rows)
    return pd.DataFrame({"month": pd.date_range("2000-01-01", periods=rows, freq="MS"),
                         "sales": 10 + 3 * np.sin(2 * np.pi * t / 12) + 0.05 * t})


CASES = [  # architecture, data, target, task, options
    ("mlp", table, "label", None, {}),
    ("resnet", table, "label", None, {}),
    ("transformer", table, "label", None, {}),
    ("cnn", pixels, "digit", "image_classification", {"image_shape": [4, 4]}),
    ("rnn", series, "sales", None, {"window": 6}),
    ("lstm", texts, "sentiment", "text_classification", {"sequence_length": 6}),
    ("gru", series, "sales", None, {"window": 6}),
    ("autoencoder", table, None, None, {}),
    ("gan", table, None, None, {"hidden": 16, "latent": 4}),
    ("custom", pixels, "digit", "image_classification",
     {"image_shape": [4, 4], "layers": [{"type": "conv2d", "filters": 4}, {"type": "activation", "fn": "relu"},
                                        {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "dropout", "rate": 0.1}]}),
]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize(("architecture", "make", "target", "task", "options"), CASES, ids=[c[0] for c in CASES])
def test_architecture_learns_is_stored_and_predicts(framework, architecture, make, target, task, options) -> None:
    # Given a tiny dataset fitting the architecture
    frame = make()
    ds = store(frame, f"{architecture}-{framework}")
    # When it trains for a few short epochs
    gan = architecture == "gan"  # a GAN's two players need more, smaller steps to show a trend
    epochs = 10 if gan else 2
    run = dl.train(ds, architecture=architecture, framework=framework, task=task, target=target, epochs=epochs,
                   batch_size=8 if gan else 16, learning_rate=0.003 if gan else 0.01, options={**TINY, **options})
    # Then it learned something measurable: the loss fell (a GAN: its generated rows moved toward the real ones)
    losses = [p["val_loss" if architecture == "gan" else "train_loss"] for p in run.history]
    assert len(run.history) == epochs and min(losses[1:]) < losses[0], losses
    assert run.framework == framework and run.device == "cpu" and run.parameters > 0
    # and the stored model reloads (verified file) and answers in core.ml's format
    model = ml.get_model(run.model_id)
    assert model.algorithm == f"dl.{framework}.{architecture}" and model.metrics["history"] == run.history
    if run.task == "generative":
        synthetic = dl.generate(run.model_id, 5)
        assert list(synthetic.columns) == ["a", "b", "c", "label"] and len(synthetic) == 5
        assert set(synthetic["c"]) <= {"x", "y"}
        return
    out = dl.predict(run.model_id, frame.head(12))
    assert out.columns[0] == "prediction" and len(out) == 12
    if run.task in ("classification", "image_classification", "text_classification"):
        assert run.metrics["accuracy"] is not None and {"f1", "roc_auc", "log_loss"} <= set(run.metrics)
        probs = out.filter(like="probability_")
        assert probs.shape[1] == len(model.feature_schema["classes"])
        assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    elif run.task == "anomaly_detection":
        assert "anomaly_score" in out.columns and (out["anomaly_score"] >= 0).all()
    elif run.task == "sequence_prediction":
        assert {"mase", "naive_mase", "mae", "r2"} <= set(run.metrics)
        assert out["prediction"].iloc[:6].isna().all() and out["prediction"].iloc[7:].notna().all()


def test_same_spec_in_both_frameworks_has_similar_size_and_beats_the_majority_class() -> None:
    # Given one dataset and one MLP spec
    ds = store(table(160), "parity")
    runs = {fw: dl.train(ds, architecture="mlp", framework=fw, target="label", epochs=8, batch_size=16,
                         learning_rate=0.01, options={"hidden": 16, "layers": 2, "patience": 0}) for fw in FRAMEWORKS}
    # Then both networks have the same number of parameters and both beat the trivial baseline on the same split
    assert runs["pytorch"].parameters == runs["tensorflow"].parameters
    for run in runs.values():
        assert run.metrics["accuracy"] > run.baseline["accuracy"] + 0.15, (run.framework, run.metrics)
    models = [ml.get_model(r.model_id) for r in runs.values()]
    assert models[0].metrics["n_test"] == models[1].metrics["n_test"]
    # and both appear in the dataset's leaderboard for that target
    board = dl.leaderboard(ds, "label")
    assert {r["model_id"] for r in board} == {r.model_id for r in runs.values()}
    assert all(r["kind"] == "deep" for r in board)


def without_times(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in point.items() if k != "seconds"} for point in history]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_cpu_runs_are_repeatable_with_a_seed(framework) -> None:
    # Given one spec and seed; 5 epochs of 3 batches, so Keras runs its compiled graph, not eagerly
    ds = store(table(), "seeded")
    # When it is trained twice in one process
    first, second = (dl.train(ds, architecture="resnet", framework=framework, target="label", epochs=5,
                              batch_size=16, options=TINY, seed=7) for _ in range(2))
    # Then every epoch's losses and metric, and the test metrics, are the same to the last digit
    assert first.history[-1]["train_loss"] == second.history[-1]["train_loss"]
    assert without_times(first.history) == without_times(second.history) and len(first.history) == 5
    assert first.metrics == second.metrics
