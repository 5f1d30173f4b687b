"""One prepared script for a machine with a CUDA GPU: the CUDA paths of PyTorch, TensorFlow and XGBoost, and GPU vs
CPU seconds per epoch for every architecture (under 8 minutes; it stops adding work at 7).

    .venv/bin/python bench/gpu_check.py [--out results.json]

For each framework that sees a GPU: trains each architecture of bench_dl's overhead list for 3 epochs through
`core.dl` on the GPU (mixed precision) and on the CPU, and records device, seconds per epoch and the speed-up;
XGBoost fits the same digits table with device="cuda" and device="cpu". A framework without a GPU is reported
as such (nothing is faked). Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BUDGET_S = 7 * 60
EPOCHS = 3


def torch_gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def tf_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def time_arch(ids: dict, framework: str, case: tuple, *, cpu: bool) -> tuple[float, str]:
    """Seconds per epoch and the device, training through core.dl's own loop."""
    from bench.bench_dl import prepared_for
    from core.dl.loop import Tracker
    from core.dl.train import backend, loss_of

    arch, key, target, task, options = case
    spec, p = prepared_for(ids, arch, key, target, task, options, framework, EPOCHS)
    engine = backend(framework)
    if framework == "pytorch":
        import torch

        real = torch.cuda.is_available
        if cpu:
            torch.cuda.is_available = lambda: False  # this run only: force the CPU path
        try:
            device = engine.device()
            net = engine.build(spec, p.net_input())
            started = time.perf_counter()
            engine.fit(net, p, spec, loss_of(task), Tracker(EPOCHS, 0, "metric"))
            if device == "cuda":
                torch.cuda.synchronize()
        finally:
            torch.cuda.is_available = real
        return (time.perf_counter() - started) / EPOCHS, device
    import tensorflow as tf

    with tf.device("/CPU:0" if cpu else "/GPU:0"):
        net = engine.build(spec, p.net_input())
        started = time.perf_counter()
        engine.fit(net, p, spec, loss_of(task), Tracker(EPOCHS, 0, "metric"))
    return (time.perf_counter() - started) / EPOCHS, "cpu" if cpu else "cuda"


def xgboost_check() -> dict:
    import xgboost
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    out = {}
    for device in ("cuda", "cpu"):
        model = xgboost.XGBClassifier(n_estimators=200, tree_method="hist", device=device)
        started = time.perf_counter()
        try:
            model.fit(x, y)
            out[device] = round(time.perf_counter() - started, 3)
        except xgboost.core.XGBoostError as exc:
            out[device] = f"failed: {str(exc)[:200]}"
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.environ.get("OUT", ".") + "/gpu_check.json")
    args = parser.parse_args()
    started = time.monotonic()
    from bench.bench_dl import OVERHEAD, datasets_offline, setup

    setup()
    ids = datasets_offline()
    report: dict = {"torch_cuda": torch_gpu(), "tensorflow_gpu": tf_gpu(), "xgboost_seconds": xgboost_check(),
                    "architectures": []}
    print(f"torch sees CUDA: {report['torch_cuda']}; TensorFlow sees a GPU: {report['tensorflow_gpu']}")
    print(f"XGBoost digits fit (s): {report['xgboost_seconds']}")
    for framework, has_gpu in (("pytorch", report["torch_cuda"]), ("tensorflow", report["tensorflow_gpu"])):
        if not has_gpu:
            print(f"{framework}: no GPU visible, skipped")
            continue
        for case in OVERHEAD:
            if time.monotonic() - started > BUDGET_S:
                print("time budget reached; remaining architectures skipped")
                break
            gpu_s, device = time_arch(ids, framework, case, cpu=False)
            cpu_s, _ = time_arch(ids, framework, case, cpu=True)
            row = {"framework": framework, "architecture": case[0], "device": device, "gpu_s_per_epoch": gpu_s,
                   "cpu_s_per_epoch": cpu_s, "speedup": cpu_s / gpu_s if gpu_s else None}
            report["architectures"].append(row)
            print(f"  {framework:10s} {case[0]:12s} {device}: {gpu_s:.4f} s/epoch, cpu {cpu_s:.4f} s/epoch, "
                  f"x{row['speedup']:.2f}", flush=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {args.out} in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
