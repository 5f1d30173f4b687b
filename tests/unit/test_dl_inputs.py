"""Bad and hostile input to core.dl: a clear message naming the problem, and nothing stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core import datasets, dl, ml, storage
from core.datasets.images import import_image_zip
from core.dl import torch_backend
from core.dl.loop import Tracker
from core.errors import IngestError, InvalidInput, JobCancelled, ModelError
from tests.unit.test_dl_train import TINY, series, store, table, texts

torch.set_num_threads(1)


def nothing_stored() -> bool:
    return not ml.list_models() and not list(storage.area("models").iterdir())


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"architecture": "capsnet"}, InvalidInput, "Unknown architecture"),
    ({"architecture": "mlp", "framework": "jax"}, InvalidInput, "Unknown framework"),
    ({"architecture": "mlp", "task": "translation"}, InvalidInput, "Unknown deep-learning task"),
    ({"architecture": "lstm", "target": "label", "task": "sequence_prediction"}, InvalidInput, "time_column"),
    ({"architecture": "gan", "task": "classification"}, InvalidInput, "does not fit the task"),
    ({"architecture": "mlp", "target": "nope"}, InvalidInput, "no column 'nope'"),
    ({"architecture": "mlp", "target": "const"}, ModelError, "constant"),
    ({"architecture": "mlp", "epochs": 0}, InvalidInput, "epochs"),
    ({"architecture": "mlp", "epochs": 1001}, InvalidInput, "epochs"),
    ({"architecture": "mlp", "batch_size": 513}, InvalidInput, "batch_size"),
    ({"architecture": "mlp", "learning_rate": 2.0}, InvalidInput, "learning_rate"),
    ({"architecture": "mlp", "options": {"dropout": 0.95}}, InvalidInput, "dropout"),
    ({"architecture": "mlp", "options": {"exec": "import os"}}, InvalidInput, "exec"),
    ({"architecture": "mlp", "batch_size": 512}, InvalidInput, "Lower the batch size"),
    ({"architecture": "transformer", "options": {"hidden": 10, "heads": 4}}, InvalidInput, "heads do not divide"),
])
def test_bad_requests_are_refused_before_training(kwargs, error, words) -> None:
    frame = table()
    frame["const"] = 1.0
    ds = store(frame, "t")
    params = {"target": "label", "epochs": 1, "options": TINY} | kwargs
    if "options" in kwargs:
        params["options"] = {**TINY, **kwargs["options"]}
    with pytest.raises(error) as info:
        dl.train(ds, **params)
    assert words in str(info.value)
    assert nothing_stored()


@pytest.mark.parametrize(("layers", "words"), [
    ([{"type": "lambda", "fn": "__import__('os').system('id')"}], "unknown layer type"),
    ([{"type": "dense"}], "units"),
    ([{"type": "dense", "units": 8, "code": "x"}], "Extra inputs"),
    ([{"type": "conv2d", "filters": 4}], "needs an image"),
    ([{"type": "dense", "units": 8192}, {"type": "dense", "units": 8192}], "over the budget"),
    ([], "empty"),
    ("[{'type': 'dense'}]", "not valid JSON"),
    ("__import__('os').system('id')", "not valid JSON"),
    ('{"type": "dense", "units": 4}', "list of objects"),
])
def test_custom_layer_lists_are_checked_and_never_run(layers, words) -> None:
    ds = store(table(), "c")
    with pytest.raises(InvalidInput) as info:
        dl.train(ds, architecture="custom", target="label", epochs=1, options={"layers": layers})
    assert words in str(info.value)
    assert nothing_stored()


def test_text_and_series_specific_errors() -> None:
    empty = texts()
    empty["review"] = ["  ", "!!", ""] * 20
    with pytest.raises(ModelError, match="text column 'review' is empty"):
        dl.train(store(empty, "e"), architecture="lstm", task="text_classification", target="sentiment", epochs=1,
                 options={**TINY, "text_column": "review"})
    with pytest.raises(InvalidInput, match=r"window .* too long"):
        dl.train(store(series(30), "s"), architecture="gru", target="sales", epochs=1, options={**TINY, "window": 40})
    assert nothing_stored()


def test_nan_loss_stops_with_lower_the_learning_rate() -> None:
    frame = table()
    frame["big"] = frame["a"] * 1e3
    with pytest.raises(ModelError, match="Lower the learning rate"):
        dl.train(store(frame, "n"), architecture="mlp", target="big", task="regression", epochs=5, batch_size=8,
                 learning_rate=1.0, options={"hidden": 64, "layers": 4, "optimizer": "sgd", "patience": 0})
    assert nothing_stored()


class _OutOfMemory(torch.nn.Module):
    """Stands in for a GPU that runs out of memory (no GPU here): its forward raises what CUDA raises."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Linear(2, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_gpu_out_of_memory_stops_with_lower_the_batch_size() -> None:
    from core.dl.data import Prepared
    from core.dl.spec import make_spec

    spec = make_spec(architecture="mlp", framework="pytorch", task="classification", epochs=1, batch_size=64,
                     learning_rate=1e-3, seed=0, options={})
    x = np.zeros((4, 2), "float32")
    y = np.zeros(4, "int64")
    prepared = Prepared("tabular", x, y, x, y, x, y, 2, {})
    with pytest.raises(ModelError, match="Lower the batch size"):
        torch_backend.fit(_OutOfMemory(), prepared, spec, "ce", Tracker(1, 0, "val_accuracy"))


def test_cancel_between_batches_stores_nothing() -> None:
    ds = store(table(200), "cancel")
    calls = {"n": 0}

    def progress(fraction=None, message=None, metrics=None) -> None:
        calls["n"] += 1
        if calls["n"] > 5:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        dl.train(ds, architecture="mlp", target="label", epochs=50, batch_size=8, options=TINY, progress=progress)
    assert calls["n"] == 6  # stopped inside the first epoch (25 batches)
    assert nothing_stored()


def test_early_stopping_keeps_the_best_epoch() -> None:
    ds = store(table(80), "early")
    run = dl.train(ds, architecture="mlp", target="label", epochs=60, batch_size=8, learning_rate=0.05,
                   options={**TINY, "hidden": 32, "patience": 3})
    assert run.stopped.startswith("early stopping") and len(run.history) == run.best_epoch + 3
    best = min(p["val_loss"] for p in run.history)
    assert next(p for p in run.history if p["epoch"] == run.best_epoch)["val_loss"] == best


def test_altered_or_swapped_model_files_are_refused() -> None:
    ds = store(table(), "tamper")
    run = dl.train(ds, architecture="mlp", target="label", epochs=1, options=TINY)
    model = ml.get_model(run.model_id)
    path = storage.absolute(model.artifact_path)
    blob = path.read_bytes()
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(ModelError, match="changed since it was saved"):
        dl.predict(run.model_id, table().head(2))
    with pytest.raises(ModelError, match="classical model"):
        dl.predict(_classical(ds), table().head(2))
    other = dl.train(ds, architecture="mlp", target="label", epochs=1, options=TINY)
    with pytest.raises(InvalidInput, match="Missing column"):
        dl.predict(other.model_id, table().drop(columns=["a"]).head(2))


def _classical(ds: str) -> str:
    return str(ml.train(ds, target="label", models=["logistic_regression"], cv=2).best_model_id)


def test_deep_and_classical_models_share_one_leaderboard() -> None:
    ds = store(table(100), "board")
    classical = _classical(ds)
    deep = dl.train(ds, architecture="mlp", target="label", epochs=3, options=TINY)
    board = dl.leaderboard(ds, "label")
    assert {r["model_id"]: r["kind"] for r in board} == {classical: "classical", deep.model_id: "deep"}
    assert all(r["primary"] == "accuracy" and r["score"] is not None for r in board)
    assert ml.get_model(classical).metrics["n_test"] == ml.get_model(deep.model_id).metrics["n_test"]


# ---- image zips ------------------------------------------------------------------------------------

def png(size: tuple[int, int] = (6, 6), value: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.new("L", size, value).save(buf, format="PNG")
    return buf.getvalue()


def image_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_image_zip_becomes_rows_and_skips_what_is_not_an_image() -> None:
    files = {f"{c}/{i}.png": png(value=200 if c == "light" else 10) for c in ("light", "dark") for i in range(12)}
    files |= {"dark/notes.txt": b"hello", "light/broken.png": b"\x89PNG not really", "../escape.png": png(),
              "light/big.png": png((8, 8), 250), "__MACOSX/light/._0.png": b"junk"}
    ds = import_image_zip(image_zip(files), "shades.zip")
    frame = datasets.load_frame(ds.id)
    assert list(frame.columns) == ["file", "label", "width", "height"] and len(frame) == 25
    assert set(frame["label"]) == {"light", "dark"}
    assert any("not readable images" in n and "broken.png" in n and "notes.txt" in n for n in ds.notes)
    assert any("different sizes" in n for n in ds.notes)
    images = storage.area("images")
    assert all(Path(storage.absolute(f)).is_relative_to(images) for f in frame["file"])
    assert not (storage.data_dir().parent / "escape.png").exists()
    # and a small CNN trains on it (mixed sizes resized) and predicts from the file column
    run = dl.train(ds.id, architecture="cnn", epochs=2, batch_size=8, options={**TINY, "image_size": 6})
    assert run.task == "image_classification" and any("resized" in n for n in run.notes)
    assert set(dl.predict(run.model_id, frame.head(4))["prediction"]) <= {"light", "dark"}
    # and its evaluation reloads the same image files for the same test split
    evaluation = dl.evaluate(run.model_id)
    assert evaluation.metrics["log_loss"] == pytest.approx(run.metrics["log_loss"], rel=1e-5)
    assert "Confusion matrix" in evaluation.figures


@pytest.mark.parametrize(("files", "words"), [
    ({"only/1.png": png(), "only/2.png": png()}, "one class only"),
    ({"a/1.txt": b"x", "b/2.csv": b"y"}, "no readable image"),
    ({"a/1.png": b"broken", "b/2.png": b"broken"}, "no readable image"),
])
def test_bad_image_zips_are_refused_and_leave_nothing(files, words) -> None:
    with pytest.raises(IngestError, match=words):
        import_image_zip(image_zip(files), "bad.zip")
    assert not datasets.list_datasets()
    assert not any(storage.area("images").iterdir())


def test_a_file_that_is_not_a_zip_is_refused() -> None:
    with pytest.raises(IngestError, match="not a readable zip"):
        import_image_zip(b"PK\x03\x04 not really", "fake.zip")
