"""Training a network: validate the request, prepare the data, fit with the chosen framework, score on the
held-out split and store the model beside the classical ones (an `MLModel` row and a signed file)."""

from __future__ import annotations

import hashlib
import logging
import platform
import time
import uuid
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from core import datasets, storage
from core.dl import encode, modelfile, scoring
from core.dl.data import Prepared, infer_task, prepare
from core.dl.loop import Tracker
from core.dl.spec import ANOMALY, CLASSIFIERS, GENERATIVE, TrainSpec, check_fit, make_spec
from core.errors import ModelError
from core.ml import artifacts
from core.models.ml import MLModel
from core.progress import Progress, no_progress

log = logging.getLogger(__name__)

SUFFIX = ".wbnet"
ALGORITHM_PREFIX = "dl."


@dataclass
class DLRun:
    """One trained network: test metrics (core.ml names), per-epoch history, the stored model and where it ran."""

    model_id: str
    architecture: str
    framework: str
    task: str
    target: str | None
    metrics: dict[str, Any]
    history: list[dict[str, Any]]
    device: str
    duration_s: float
    parameters: int
    best_epoch: int
    stopped: str = ""
    notes: list[str] = field(default_factory=list)
    baseline: dict[str, float] = field(default_factory=dict)


def backend(framework: str) -> ModuleType:
    """The backend module of a framework (TensorFlow is imported only when asked for)."""
    if framework == "tensorflow":
        from core.dl import tf_backend

        return tf_backend
    from core.dl import torch_backend

    return torch_backend


def loss_of(task: str) -> str:
    return "ce" if task in CLASSIFIERS else "gan" if task == GENERATIVE else "mse"


def train(dataset_id: uuid.UUID | str, *, architecture: str, framework: str = "pytorch", task: str | None = None,
          target: str | None = None, epochs: int = 50, batch_size: int = 32, learning_rate: float = 1e-3,
          options: dict[str, Any] | None = None, seed: int = 42, progress: Progress | None = None) -> DLRun:
    """Train one network and keep it; see the module docstring of `core.dl`.

    Raises InvalidInput for an unknown architecture/framework/task, parameters out of range or an
    architecture that does not fit the data; ModelError for unusable data, a NaN loss or GPU out of memory;
    JobCancelled when `progress` reports a cancellation. Nothing is stored unless training succeeds.
    """
    progress = progress or no_progress
    started = time.monotonic()
    ds = datasets.get_dataset(dataset_id)
    frame = datasets.load_frame(ds.id)
    opts = dict(options or {})
    task = task or infer_task(frame, target, str(architecture).lower(), opts)
    spec = make_spec(architecture=architecture, framework=framework, task=task, epochs=epochs,
                     batch_size=batch_size, learning_rate=learning_rate, seed=seed, options=opts)
    check_fit(spec.architecture, spec.task)
    prepared = prepare(frame, spec, target, str(ds.id))
    engine = backend(spec.framework)
    progress(0.02, f"Building a {spec.architecture} network with {spec.framework}", None)
    net = engine.build(spec, prepared.net_input())
    metric = "val_accuracy" if spec.task in CLASSIFIERS else "val_d_loss" if spec.task == GENERATIVE else "val_rmse"
    tracker = Tracker(spec.epochs, spec.options.patience, metric, progress)
    net = engine.fit(net, prepared, spec, loss_of(spec.task), tracker)
    metrics, extra = _score(engine, net, spec, prepared, frame)
    run = DLRun(model_id="", architecture=spec.architecture, framework=spec.framework, task=spec.task, target=target,
                metrics=metrics, history=tracker.history, device=engine.device(),
                duration_s=round(time.monotonic() - started, 3), parameters=engine.parameters(net),
                best_epoch=tracker.best_epoch, stopped=tracker.stopped, notes=prepared.notes,
                baseline=scoring.baseline(spec.task, prepared))
    model = _store(engine, net, spec, prepared, run, ds, extra)
    run.model_id = str(model.id)
    progress(1.0, f"Trained {spec.architecture} ({spec.framework}, {run.device}): "
             f"{scoring.PRIMARY[spec.task]} {_fmt(metrics.get(scoring.PRIMARY[spec.task]))}", None)
    return run


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _score(engine: ModuleType, net: Any, spec: TrainSpec, p: Prepared, frame: Any) -> tuple[dict[str, Any], dict]:
    extra: dict[str, Any] = {}
    if spec.task == GENERATIVE:
        synthetic = encode.inverse(engine.generate(net, min(len(frame), 5000), spec.seed), p.schema["encoder"])
        report = scoring.fidelity(frame, synthetic)
        extra["fidelity"] = report
        return {"mean_column_distance": report["mean_column_distance"],
                "correlation_difference": report["correlation_difference"]}, extra
    raw, train_errors = held_out_outputs(engine, net, spec.task, p)
    if train_errors is not None:
        extra["threshold"] = float(np.quantile(train_errors, spec.options.threshold_quantile))
    return scoring.test_scores(spec.task, p, raw, train_errors), extra


def held_out_outputs(engine: ModuleType, net: Any, task: str, p: Prepared) -> tuple[np.ndarray, np.ndarray | None]:
    """The network's raw outputs on the test split and, for an autoencoder, its training reconstruction errors
    (what the anomaly threshold is a quantile of)."""
    raw = engine.predict(net, p.x_test)
    if task != ANOMALY:
        return raw, None
    return raw, scoring.reconstruction_error(p.x_train, engine.predict(net, p.x_train))


def library_versions(engine: ModuleType) -> dict[str, str]:
    import numpy
    import pandas

    return {"python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__,
            **engine.version()}


def _store(engine: ModuleType, net: Any, spec: TrainSpec, p: Prepared, run: DLRun, ds: Any,
           extra: dict[str, Any]) -> MLModel:
    """Write the signed weights file, then the row; a failure removes the file again."""
    model_id = uuid.uuid4()
    blob = modelfile.dump(model_id, spec.framework, engine.dump(net))
    target = storage.area("models") / f"{model_id}{SUFFIX}"
    with storage.atomic_path(target) as tmp:
        tmp.write_bytes(blob)
    label = f"{spec.architecture.upper() if len(spec.architecture) <= 3 else spec.architecture.title()}"
    schema = {**p.schema, "net": p.net_input(), **({"threshold": extra["threshold"]} if "threshold" in extra else {})}
    model = MLModel(
        id=model_id, name=f"{ds.name} · {run.target or spec.task} · {label} ({spec.framework})"[:300], task=spec.task,
        algorithm=f"{ALGORITHM_PREFIX}{spec.framework}.{spec.architecture}", target=run.target or "",
        metrics={"test": run.metrics, "primary": scoring.PRIMARY[spec.task], "history": run.history,
                 "device": run.device, "duration_s": run.duration_s, "parameters": run.parameters,
                 "best_epoch": run.best_epoch, "stopped": run.stopped, "baseline": run.baseline,
                 "n_train": len(p.x_train), "n_val": len(p.x_val), "n_test": len(p.x_test),
                 **({"fidelity": extra["fidelity"]} if "fidelity" in extra else {})},
        params={"deep": True, "spec": spec.model_dump(mode="json", by_alias=True)}, feature_schema=schema,
        dataset_id=ds.id, dataset_version=ds.version, library_versions=library_versions(engine),
        artifact_path=storage.relative(target), sha256=hashlib.sha256(blob).hexdigest(), size_bytes=len(blob),
    )
    try:
        artifacts.save_rows(model)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return model


def is_deep(model: MLModel) -> bool:
    return str(model.algorithm).startswith(ALGORITHM_PREFIX)


def spec_of(model: MLModel) -> TrainSpec:
    if not is_deep(model):
        raise ModelError(f"Model {model.name!r} is a classical model, not a network.", hint="Use core.ml.predict.")
    return TrainSpec.model_validate(model.params["spec"])


def load_network(model: MLModel) -> tuple[TrainSpec, Any, ModuleType]:
    """The model's spec, rebuilt network with verified weights, and backend."""
    spec = spec_of(model)
    path = artifacts.artifact_file(model)
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != model.sha256:
        raise ModelError(f"The file of model {model.name!r} has changed since it was saved; it will not be loaded.",
                         hint=modelfile.RETRAIN)
    engine = backend(spec.framework)
    weights = modelfile.payload(model.id, spec.framework, blob, name=model.name)
    try:
        return spec, engine.load(spec, model.feature_schema["net"], weights), engine
    except (RuntimeError, ValueError, KeyError) as exc:  # tensors that do not fit the rebuilt network
        raise ModelError(f"The weights of model {model.name!r} do not fit its network.", hint=modelfile.RETRAIN) from exc
