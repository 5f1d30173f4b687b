"""TensorFlow backend (Keras 3 on its TensorFlow backend): build, `fit` with a progress callback, predict,
and weights as safetensors (numpy arrays, in `get_weights` order).

Keras fixes its backend once per process, so this module sets KERAS_BACKEND=tensorflow before the first
`import keras` and refuses to run in a process that already loaded Keras on another backend: such a
worker serves one framework (PyTorch networks never go through Keras).
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from typing import Any

import keras
import numpy as np
import safetensors.numpy
import tensorflow as tf

from core.dl import tf_nets
from core.dl.data import Prepared
from core.dl.loop import Tracker, out_of_memory
from core.dl.spec import TrainSpec
from core.errors import ModelError

NAME = "tensorflow"
if keras.backend.backend() != "tensorflow":
    raise ModelError(f"This process runs Keras on its {keras.backend.backend()} backend, so TensorFlow networks "
                     "cannot be trained here.", hint="Run TensorFlow jobs in a worker without KERAS_BACKEND set.")
_threads = max(1, min(4, os.cpu_count() or 1))
try:
    tf.config.threading.set_intra_op_parallelism_threads(_threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
except RuntimeError:  # TensorFlow was already initialised in this process; keep its settings
    pass


def device() -> str:
    return "cuda" if tf.config.list_physical_devices("GPU") else "cpu"


def version() -> dict[str, str]:
    return {"tensorflow": tf.__version__, "keras": keras.__version__}


def build(spec: TrainSpec, net: dict[str, Any]) -> Any:
    keras.utils.set_random_seed(spec.seed)
    keras.mixed_precision.set_global_policy("mixed_float16" if device() == "cuda" else "float32")
    return tf_nets.build(spec, net["kind"], tuple(net["shape"]), int(net["n_out"]), int(net["vocab"]))


def parameters(model: Any) -> int:
    return int(model.count_params())


def _layout(x: np.ndarray) -> np.ndarray:
    """Images (n, c, h, w) -> (n, h, w, c); everything else unchanged."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if x.ndim == 4 else x


def _optimizer(spec: TrainSpec) -> keras.optimizers.Optimizer:
    lr = spec.learning_rate
    return {"adam": lambda: keras.optimizers.Adam(lr), "adamw": lambda: keras.optimizers.AdamW(lr),
            "sgd": lambda: keras.optimizers.SGD(lr, momentum=0.9),
            "rmsprop": lambda: keras.optimizers.RMSprop(lr)}[spec.options.optimizer]()


class _RunningLoss:
    """The epoch's running mean training loss, read from the model only when converted with float()."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __float__(self) -> float:
        return float(self.model.get_metrics_result()["loss"])


class _Validation:
    """Validation loss and metric (accuracy, or RMSE in standardised units) from one compiled forward pass
    per chunk of rows. Keras's own per-epoch validation builds an iterator and a callback list every epoch,
    which on small data costs more than the pass itself."""

    def __init__(self, model: Any, x: np.ndarray, y: np.ndarray, loss: str, chunk: int, eager: bool) -> None:
        self.chunks = [tf.constant(x[i:i + chunk]) for i in range(0, len(x), chunk)]
        self.y, self.loss = y, loss

        def forward(rows: tf.Tensor) -> tf.Tensor:
            return model(rows, training=False)

        self.forward = forward if eager else tf.function(forward, reduce_retracing=True)

    def __call__(self) -> tuple[float, float]:
        out = np.concatenate([np.asarray(self.forward(c), dtype="float64") for c in self.chunks])
        if self.loss == "ce":
            z = out - out.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            return float(-log_p[np.arange(len(out)), self.y].mean()), float((out.argmax(1) == self.y).mean())
        mse = float(np.mean((out - self.y) ** 2))
        return mse, math.sqrt(mse)


class _Report(keras.callbacks.Callback):
    """Before each batch: the cancel check (and every few hundred batches a point with the running loss);
    per epoch: history, NaN check, early stopping, best weights kept.

    It has no batch-end hook on purpose: one makes Keras convert every batch's logs to Python numbers (a
    device sync per batch) and turns off its asynchronous callback dispatch.
    """

    def __init__(self, tracker: Tracker, validate: _Validation) -> None:
        super().__init__()
        self.tracker, self.validate, self.epoch_no, self.best = tracker, validate, 0, None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch_no = epoch + 1

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.tracker.batch(self.epoch_no, _RunningLoss(self.model))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        val_loss, metric = self.validate()
        improved, stop = self.tracker.epoch(epoch + 1, float((logs or {})["loss"]), val_loss, metric)
        if improved or self.best is None:
            self.best = [w.copy() for w in self.model.get_weights()]
        if stop:
            self.model.stop_training = True


def fit(model: Any, p: Prepared, spec: TrainSpec, loss: str, tracker: Tracker) -> Any:
    try:
        if loss == "gan":
            return _fit_gan(model, p, spec, tracker)
        return _fit(model, p, spec, loss, tracker)
    except tf.errors.ResourceExhaustedError as exc:
        raise out_of_memory(spec.batch_size) from exc


EAGER_BELOW_STEPS = 12  # tracing a graph costs more than it saves for a run of fewer batches than this


def _fit(model: Any, p: Prepared, spec: TrainSpec, loss: str, tracker: Tracker) -> Any:
    """`compile` + `fit` with the loss only (as a hand-written loop has it): the task's metric is measured
    on the validation rows, by `_Validation`, once per epoch."""
    steps = spec.epochs * -(-len(p.x_train) // spec.batch_size)
    eager = steps < EAGER_BELOW_STEPS
    objective = keras.losses.SparseCategoricalCrossentropy(from_logits=True) if loss == "ce" else "mse"
    model.compile(_optimizer(spec), objective, run_eagerly=eager)
    y, yv = _targets(p.y_train, loss), _targets(p.y_val, loss)
    report = _Report(tracker, _Validation(model, _layout(p.x_val), yv, loss, max(spec.batch_size, 1024), eager))
    model.fit(_layout(p.x_train), y, batch_size=spec.batch_size, epochs=spec.epochs, verbose=0, shuffle=True,
              callbacks=[report])
    if report.best is not None:
        model.set_weights(report.best)
    return model


def _targets(y: np.ndarray, loss: str) -> np.ndarray:
    if loss == "ce":
        return y.astype("int64")
    y = y.astype("float32")
    return y[:, None] if y.ndim == 1 else y


def _fit_gan(gan: tf_nets.GAN, p: Prepared, spec: TrainSpec, tracker: Tracker) -> tf_nets.GAN:
    g_opt = keras.optimizers.Adam(spec.learning_rate, beta_1=0.5)
    d_opt = keras.optimizers.Adam(spec.learning_rate, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    g, d = gan.generator, gan.discriminator

    @tf.function
    def step(real: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as d_tape:
            fake = g(z, training=True)
            real_out, fake_out = d(real, training=True), d(fake, training=True)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        d_opt.apply_gradients(zip(d_tape.gradient(d_loss, d.trainable_variables), d.trainable_variables, strict=True))
        with tf.GradientTape() as g_tape:
            fake_out = d(g(z, training=True), training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
        g_opt.apply_gradients(zip(g_tape.gradient(g_loss, g.trainable_variables), g.trainable_variables, strict=True))
        return d_loss, g_loss

    rng = np.random.default_rng(spec.seed)
    x = p.x_train.astype("float32")
    for epoch in range(1, spec.epochs + 1):
        order = rng.permutation(len(x))
        g_losses, sizes = [], []
        for start in range(0, len(x), spec.batch_size):
            real = x[order[start:start + spec.batch_size]]
            z = rng.standard_normal((len(real), gan.latent)).astype("float32")
            d_loss, g_loss = step(tf.constant(real), tf.constant(z))
            g_losses.append(g_loss)
            sizes.append(len(real))
            tracker.batch(epoch, d_loss)
        fake = g(rng.standard_normal((len(p.x_val), gan.latent)).astype("float32"), training=False).numpy()
        gap = float(np.abs(fake.mean(0) - p.x_val.mean(0)).mean() + np.abs(fake.std(0) - p.x_val.std(0)).mean())
        tracker.epoch(epoch, float(np.dot(tf.stack(g_losses).numpy(), sizes)) / len(x), gap, float(d_loss))
    tracker.best_epoch = spec.epochs
    return gan


def predict(model: Any, x: np.ndarray, batch: int = 1024) -> np.ndarray:
    if len(x) == 0:
        return np.empty((0,))
    outs = [np.asarray(model(_layout(x[i:i + batch]), training=False), dtype="float32") for i in range(0, len(x), batch)]
    return np.concatenate(outs)


def generate(gan: tf_nets.GAN, n_rows: int, seed: int) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal((n_rows, gan.latent)).astype("float32")
    return np.asarray(gan.generator(z, training=False), dtype="float32")


def dump(model: Any) -> bytes:
    return safetensors.numpy.save({f"w{i:05d}": np.ascontiguousarray(w) for i, w in enumerate(model.get_weights())})


def load(spec: TrainSpec, net_input: dict[str, Any], blob: bytes) -> Any:
    model = build(spec, net_input)
    tensors = safetensors.numpy.load(blob)
    weights = [tensors[k] for k in sorted(tensors)]
    expected = model.get_weights()
    if len(weights) != len(expected) or any(a.shape != b.shape for a, b in zip(weights, expected, strict=False)):
        raise ValueError("stored weights do not match the network")
    model.set_weights(weights)
    return model
