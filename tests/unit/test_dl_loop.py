"""The training loop's bookkeeping stays off the per-batch path: a batch's loss is read only when a progress
point is due, while the cancel check still runs between every two batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.dl import torch_backend
from core.dl.data import Prepared
from core.dl.loop import BATCH_POINT_EVERY, Tracker
from core.dl.spec import make_spec
from core.errors import ModelError


class Loss:
    """A batch loss that counts how often it is read."""

    reads = 0

    def __init__(self, value: float = 0.5) -> None:
        self.value = value

    def __float__(self) -> float:
        Loss.reads += 1
        return self.value


def recorder() -> tuple[list, object]:
    calls: list = []

    def progress(fraction=None, message=None, metrics=None) -> None:
        calls.append(metrics)

    return calls, progress


def test_the_batch_loss_is_read_only_when_a_point_is_due() -> None:
    # Given a tracker and a loss that counts its reads
    calls, progress = recorder()
    tracker = Tracker(1, 0, "val_rmse", progress)
    Loss.reads = 0
    # When it sees two and a half points' worth of batches
    n = 2 * BATCH_POINT_EVERY + BATCH_POINT_EVERY // 2
    for _ in range(n):
        tracker.batch(1, Loss())
    # Then the cancel check ran between every two batches, but the loss was read only for the two points
    assert len(calls) == n and Loss.reads == 2
    points = [c for c in calls if c]
    assert [p["batch"] for p in points] == [BATCH_POINT_EVERY, 2 * BATCH_POINT_EVERY]
    assert points[0]["batch_loss"] == 0.5


def test_a_nan_batch_loss_stops_at_the_next_point() -> None:
    _, progress = recorder()
    tracker = Tracker(1, 0, "val_rmse", progress)
    with pytest.raises(ModelError, match="Lower the learning rate"):
        for _ in range(BATCH_POINT_EVERY):
            tracker.batch(3, Loss(math.nan))
    assert tracker.batches == BATCH_POINT_EVERY


class Seen(Tracker):
    kinds: set

    def batch(self, epoch, loss=None) -> None:
        self.kinds = {*getattr(self, "kinds", set()), type(loss)}
        super().batch(epoch, loss)


def test_the_torch_loop_hands_over_device_tensors_not_numbers() -> None:
    # Given a tiny regression problem
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x.sum(1) + 0.1).astype("float32")
    prepared = Prepared("tabular", x, y, x[:16], y[:16], x[:16], y[:16], 1, {})
    spec = make_spec(
        architecture="mlp",
        framework="pytorch",
        task="regression",
        epochs=3,
        batch_size=8,
        learning_rate=1e-2,
        seed=0,
        options={"hidden": 8, "layers": 1, "patience": 0},
    )
    tracker = Seen(3, 0, "val_rmse")
    # When it trains
    torch_backend.fit(torch_backend.build(spec, prepared.net_input()), prepared, spec, "mse", tracker)
    # Then every batch handed its loss over as a tensor (no host sync per batch) and the epoch loss still fell
    assert tracker.kinds == {torch.Tensor} and tracker.batches == 3 * 8
    losses = [p["train_loss"] for p in tracker.history]
    assert losses[-1] < losses[0]


def test_the_keras_report_has_no_batch_end_hook() -> None:
    # A batch-end hook makes Keras convert every batch's logs to numbers and stop dispatching asynchronously
    import keras

    from core.dl import tf_backend

    assert tf_backend._Report.on_train_batch_end is keras.callbacks.Callback.on_train_batch_end
    assert tf_backend._Report.on_batch_end is keras.callbacks.Callback.on_batch_end
