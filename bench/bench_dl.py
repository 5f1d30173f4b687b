"""Deep learning: our training loop beside a minimal hand-written loop, and quality on data that ships offline.

    .venv/bin/python bench/bench_dl.py [--quick] [--frameworks pytorch tensorflow]

1. Overhead, per architecture x framework: seconds per epoch of `core.dl`'s loop (progress, cancel checks,
   validation, early-stopping bookkeeping) vs a minimal loop over the same network and arrays in the same
   framework (torch: shuffle, forward, backward, step; Keras: `model.fit` without callbacks or validation).
   Ratio = ours / minimal; goal <= 1.15.
2. Quality: scikit-learn digits (CNN, ResNet accuracy; goal >= 0.97), breast_cancer (MLP, ResNet vs the best
   classical model of `core.ml` on the same hold-out split; goal within 0.01), statsmodels co2 (LSTM, GRU
   MASE vs the seasonal-naive forecast; goal below it), an autoencoder's anomaly AUC (breast_cancer, malignant
   rows as the rare class) and a GAN's fidelity (mean column distance, correlation difference).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-dl-")
    os.environ.update({"DATA_DIR": f"{tmp}/data", "MODEL_KEY_FILE": f"{tmp}/key/signing.key", "DATABASE_URL": ""})
    from core.config import reload_settings

    reload_settings()


def datasets_offline() -> dict[str, str]:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import statsmodels.api as sm
    from sklearn.datasets import load_breast_cancer, load_digits

    from core import datasets

    def put(frame: pd.DataFrame, name: str) -> str:
        return str(datasets.store_table(pa.Table.from_pandas(frame, preserve_index=False), name=name, source="bench").id)

    digits = load_digits()
    dframe = pd.DataFrame(digits.data, columns=[f"p{i}" for i in range(64)])
    dframe["digit"] = digits.target
    cancer = load_breast_cancer(as_frame=True).frame
    co2 = sm.datasets.co2.load_pandas().data.resample("MS").mean().interpolate().reset_index()
    co2.columns = ["month", "co2"]
    rng = np.random.default_rng(0)
    words = {0: ["good", "great", "fine", "nice", "love"], 1: ["bad", "awful", "poor", "hate", "worst"]}
    labels = rng.integers(0, 2, 1000)
    text = pd.DataFrame({"review": [" ".join(rng.choice(words[y] + ["the", "a", "it", "was"], 8)) for y in labels],
                         "label": labels})
    benign = cancer[cancer["target"] == 1]
    rare = cancer[cancer["target"] == 0].sample(20, random_state=0)  # malignant: the rare class
    anomalies = pd.concat([benign, rare]).rename(columns={"target": "benign"})
    return {"digits": put(dframe, "digits"), "cancer": put(cancer, "breast_cancer"), "co2": put(co2, "co2"),
            "text": put(text, "reviews"), "anomalies": put(anomalies, "cancer_anomalies")}


# ---- overhead -------------------------------------------------------------------------------------

OVERHEAD = [  # architecture, dataset key, target, task, options
    ("mlp", "cancer", "target", "classification", {}),
    ("cnn", "digits", "digit", "image_classification", {"image_shape": [8, 8]}),
    ("rnn", "co2", "co2", "sequence_prediction", {"window": 24}),
    ("lstm", "co2", "co2", "sequence_prediction", {"window": 24}),
    ("gru", "co2", "co2", "sequence_prediction", {"window": 24}),
    ("transformer", "text", "label", "text_classification", {"sequence_length": 16}),
    ("autoencoder", "anomalies", None, "anomaly_detection", {}),
    ("gan", "cancer", None, "generative", {}),
    ("resnet", "cancer", "target", "classification", {}),
    ("custom", "digits", "digit", "image_classification",
     {"image_shape": [8, 8], "layers": [{"type": "conv2d", "filters": 16}, {"type": "activation", "fn": "relu"},
                                        {"type": "maxpool2d"}, {"type": "flatten"}, {"type": "dense", "units": 32},
                                        {"type": "activation", "fn": "relu"}]}),
]


def prepared_for(ids: dict[str, str], arch: str, key: str, target: str | None, task: str, options: dict,
                 framework: str, epochs: int):
    from core import datasets
    from core.dl.data import prepare
    from core.dl.spec import make_spec

    spec = make_spec(architecture=arch, framework=framework, task=task, epochs=epochs, batch_size=32,
                     learning_rate=1e-3, seed=0, options={"patience": 0, **options})
    return spec, prepare(datasets.load_frame(ids[key]), spec, target, ids[key])


def minimal_torch(net, p, spec, loss: str) -> list[float]:
    """Shuffle, forward, backward, step; nothing else. Returns the seconds of each epoch."""
    import torch

    x, y = torch.from_numpy(p.x_train), torch.from_numpy(p.y_train if loss == "ce" else
                                                         p.y_train.reshape(len(p.y_train), -1).astype("float32"))
    opt = torch.optim.Adam(net.parameters(), lr=spec.learning_rate)
    crit = torch.nn.CrossEntropyLoss() if loss == "ce" else torch.nn.MSELoss()
    times = []
    for _ in range(spec.epochs):
        started = time.perf_counter()
        net.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), spec.batch_size):
            idx = order[i:i + spec.batch_size]
            opt.zero_grad()
            out = crit(net(x[idx]), y[idx])
            out.backward()
            opt.step()
        times.append(time.perf_counter() - started)
    return times


def minimal_gan_torch(net, p, spec) -> list[float]:
    import torch

    x = torch.from_numpy(p.x_train)
    g_opt = torch.optim.Adam(net.generator.parameters(), lr=spec.learning_rate, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(net.discriminator.parameters(), lr=spec.learning_rate, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    times = []
    for _ in range(spec.epochs):
        started = time.perf_counter()
        order = torch.randperm(len(x))
        for i in range(0, len(x), spec.batch_size):
            real = x[order[i:i + spec.batch_size]]
            fake = net.generator(torch.randn(len(real), net.latent))
            d_opt.zero_grad()
            d_loss = bce(net.discriminator(real), torch.ones(len(real), 1)) + bce(
                net.discriminator(fake.detach()), torch.zeros(len(real), 1))
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            bce(net.discriminator(fake), torch.ones(len(real), 1)).backward()
            g_opt.step()
        times.append(time.perf_counter() - started)
    return times


def _epoch_timer():
    """A Keras callback that only notes when each epoch starts and ends (no batch hooks, so no host sync)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None) -> None:
            self.times.append(time.perf_counter() - self.started)

    return EpochTimer()


def minimal_keras(model, p, spec, loss: str) -> list[float]:
    """`compile` + `fit`, without validation or callbacks of ours (only an epoch timer)."""
    import keras

    from core.dl.tf_backend import _layout

    if loss == "ce":
        model.compile(keras.optimizers.Adam(spec.learning_rate),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        y = p.y_train
    else:
        model.compile(keras.optimizers.Adam(spec.learning_rate), "mse")
        y = p.y_train.reshape(len(p.y_train), -1)
    timer = _epoch_timer()
    model.fit(_layout(p.x_train), y, batch_size=spec.batch_size, epochs=spec.epochs, verbose=0, shuffle=True,
              callbacks=[timer])
    return timer.times


def minimal_gan_keras(gan, p, spec) -> list[float]:
    """The GAN's two-player step as one `tf.function`, over shuffled batches; nothing else."""
    import keras
    import numpy as np
    import tensorflow as tf

    g, d = gan.generator, gan.discriminator
    g_opt, d_opt = keras.optimizers.Adam(spec.learning_rate, beta_1=0.5), keras.optimizers.Adam(spec.learning_rate,
                                                                                              beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real, z):
        with tf.GradientTape() as tape:
            real_out, fake_out = d(real, training=True), d(g(z, training=True), training=True)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        d_opt.apply_gradients(zip(tape.gradient(d_loss, d.trainable_variables), d.trainable_variables, strict=True))
        with tf.GradientTape() as tape:
            fake_out = d(g(z, training=True), training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
        g_opt.apply_gradients(zip(tape.gradient(g_loss, g.trainable_variables), g.trainable_variables, strict=True))

    rng = np.random.default_rng(0)
    x = p.x_train.astype("float32")
    times = []
    for _ in range(spec.epochs):
        started = time.perf_counter()
        order = rng.permutation(len(x))
        for i in range(0, len(x), spec.batch_size):
            real = x[order[i:i + spec.batch_size]]
            step(tf.constant(real), tf.constant(rng.standard_normal((len(real), gan.latent)).astype("float32")))
        times.append(time.perf_counter() - started)
    return times


def minimal(engine, spec, p, loss: str) -> list[float]:
    """Seconds per epoch of the minimal loop on a fresh network of the same spec (same seed: same weights)."""
    net = engine.build(spec, p.net_input())
    if spec.framework == "pytorch":
        return minimal_gan_torch(net, p, spec) if loss == "gan" else minimal_torch(net, p, spec, loss)
    return minimal_gan_keras(net, p, spec) if loss == "gan" else minimal_keras(net, p, spec, loss)


def ours(engine, spec, p, loss: str) -> list[float]:
    """Seconds per epoch of `core.dl`'s loop (validation, progress, cancel checks, best weights, early-stopping
    bookkeeping included), between the tracker's epoch calls: from the end of epoch 1 on, so without setup or
    graph tracing."""
    import itertools

    from core.dl.loop import Tracker

    class Timed(Tracker):
        ends: list[float]

        def epoch(self, *args, **kwargs):
            self.ends = [*getattr(self, "ends", []), time.perf_counter()]
            return super().epoch(*args, **kwargs)

    tracker = Timed(spec.epochs, 0, "metric")
    engine.fit(engine.build(spec, p.net_input()), p, spec, loss, tracker)
    return [b - a for a, b in itertools.pairwise(tracker.ends)]


def _steady(times: list[float], skip_first: bool) -> float:
    import statistics

    return statistics.median(times[1:] if skip_first else times)


def overhead(ids: dict[str, str], frameworks: list[str], epochs: int, repeats: int,
             only: list[str] | None = None) -> list[dict]:
    """Per architecture x framework: `repeats` interleaved pairs (the order alternates), after one warm-up pair;
    each side's steady epoch time is the median of its epochs after the first (the first traces graphs and
    fills caches); the figure is the median of the pairs' ratios, with their range as the spread."""
    import statistics

    from core.dl.train import backend, loss_of

    rows = []
    for arch, key, target, task, options in OVERHEAD:
        if only and arch not in only:
            continue
        for framework in frameworks:
            spec, p = prepared_for(ids, arch, key, target, task, options, framework, epochs)
            engine, loss = backend(framework), loss_of(task)
            warm = spec.model_copy(update={"epochs": 2})
            minimal(engine, warm, p, loss), ours(engine, warm, p, loss)  # warm-up: imports, kernels, allocator
            ratios, mins, ourss = [], [], []
            for r in range(repeats):
                sides = [("minimal", minimal), ("ours", ours)]
                for name, run in sides if r % 2 == 0 else sides[::-1]:
                    t = _steady(run(engine, spec, p, loss), skip_first=name == "minimal")
                    (mins if name == "minimal" else ourss).append(t)
                ratios.append(ourss[-1] / mins[-1])
            row = {"architecture": arch, "framework": framework, "ours_s_per_epoch": statistics.median(ourss),
                   "minimal_s_per_epoch": statistics.median(mins), "ratio": statistics.median(ratios),
                   "ratio_min": min(ratios), "ratio_max": max(ratios)}
            rows.append(row)
            print(f"  {arch:12s} {framework:10s} ours {row['ours_s_per_epoch']:.4f} s/epoch  minimal "
                  f"{row['minimal_s_per_epoch']:.4f} s/epoch  ratio {row['ratio']:.2f}x "
                  f"(pairs {row['ratio_min']:.2f}-{row['ratio_max']:.2f}x)", flush=True)
    return rows


# ---- quality --------------------------------------------------------------------------------------

def quality(ids: dict[str, str], frameworks: list[str], quick: bool) -> None:
    from core import dl, ml

    e = 8 if quick else 40
    print("\nQuality (held-out test split)")
    classical = ml.train(ids["cancer"], target="target",
                         models=["logistic_regression", "random_forest", "hist_gradient_boosting", "svm"], cv=3)
    best = ml.get_model(classical.best_model_id)
    print(f"  breast_cancer best classical ({best.algorithm}): accuracy {best.metrics['test']['accuracy']:.4f}")
    for fw in frameworks:
        for arch in ("cnn", "resnet"):
            r = dl.train(ids["digits"], architecture=arch, framework=fw, task="image_classification", target="digit",
                         epochs=e, options={"image_shape": [8, 8], "patience": 8})
            print(f"  digits {arch:6s} {fw:10s} accuracy {r.metrics['accuracy']:.4f} (goal >= 0.97) "
                  f"[{r.duration_s:.0f} s, {len(r.history)} epochs]", flush=True)
        for arch in ("mlp", "resnet"):
            r = dl.train(ids["cancer"], architecture=arch, framework=fw, target="target", epochs=e,
                         options={"patience": 8})
            gap = r.metrics["accuracy"] - best.metrics["test"]["accuracy"]
            print(f"  breast_cancer {arch:6s} {fw:10s} accuracy {r.metrics['accuracy']:.4f} "
                  f"({gap:+.4f} vs best classical; goal >= -0.01)", flush=True)
        for arch in ("lstm", "gru"):
            r = dl.train(ids["co2"], architecture=arch, framework=fw, target="co2", epochs=e,
                         options={"window": 24, "patience": 8, "time_column": "month"})
            print(f"  co2 {arch:4s} {fw:10s} MASE {r.metrics['mase']:.3f} vs seasonal naive "
                  f"{r.metrics['naive_mase']:.3f} (goal: below)", flush=True)
        r = dl.train(ids["anomalies"], architecture="autoencoder", framework=fw, target="benign", epochs=e,
                     options={"patience": 8})
        print(f"  anomaly autoencoder {fw:10s} ROC AUC {r.metrics['roc_auc']:.3f} (malignant rows as anomalies)")
        r = dl.train(ids["cancer"], architecture="gan", framework=fw, epochs=e, batch_size=64)
        print(f"  GAN {fw:10s} mean column distance {r.metrics['mean_column_distance']:.3f}, "
              f"correlation difference {r.metrics['correlation_difference']:.3f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--frameworks", nargs="+", default=["pytorch", "tensorflow"])
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (0: its default)")
    parser.add_argument("--only", nargs="+", help="overhead: only these architectures")
    args = parser.parse_args()
    setup()
    import torch

    torch.manual_seed(0)
    if args.threads:  # both loops of a pair run under the same setting; on a shared 2-core machine one thread
        torch.set_num_threads(args.threads)  # keeps PyTorch from spinning against the other sessions' load
    ids = datasets_offline()
    epochs, repeats = (4, 3) if args.quick else (6, 5)
    if not args.skip_overhead:
        print(f"Overhead: our loop vs a minimal loop, {repeats} interleaved pairs of {epochs} epochs after a warm-up "
              "(ratio goal <= 1.15x)")
        rows = overhead(ids, args.frameworks, epochs, repeats, args.only)
        for fw in args.frameworks:
            ratios = sorted(r["ratio"] for r in rows if r["framework"] == fw)
            print(f"  {fw}: median ratio {statistics.median(ratios):.2f}x, range {ratios[0]:.2f}-{ratios[-1]:.2f}x")
        ratios = sorted(r["ratio"] for r in rows)
        print(f"  all: median ratio {statistics.median(ratios):.2f}x, worst {ratios[-1]:.2f}x")
    if not args.skip_quality:
        quality(ids, args.frameworks, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
