"""The Models page's deep-learning section: pick a task, an architecture that fits it and its parameters, train as
a job with live loss curves, then inspect, use, download or delete the network."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

import jobs
from core import dl, ml
from core.datasets.images import import_image_zip
from core.dl import modelfile
from core.dl.spec import ARCHITECTURES, TASKS
from core.errors import InvalidInput, WorkbenchError
from core.models.ml import MLModel
from ui.errors import guard, show_error
from ui.evaluation import evaluation_view
from ui.job_charts import job_figure
from ui.jobs import job_panel
from ui.picker import pick_dataset
from ui.safe import code_span, sanitize_reply

NO_TARGET = "(none)"


class DLKeys:
    """Session-state keys of the deep-learning section."""

    JOB = "dl-job-id"
    MODEL = "ml-model"  # shared with the Models section: "Open the model" shows it there
    SECTION = "ml-section"


def render() -> None:
    with st.expander("Import an image dataset (a zip of class-named folders)"):
        image_import()
    ds = pick_dataset(key="dl-dataset")
    if ds is None:
        return
    columns = [c["name"] for c in ds.schema_]
    c1, c2, c3 = st.columns(3)
    task = c1.selectbox("Task", TASKS, key="dl-task", format_func=lambda t: t.replace("_", " "),
                        index=TASKS.index("image_classification") if ds.format == "images" else 0)
    offered, reasons = dl.fitting(task)
    arch = c2.selectbox("Architecture", offered, key="dl-arch", format_func=lambda a: ARCHITECTURES[a].label)
    framework = c3.radio("Framework", ["pytorch", "tensorflow"], horizontal=True, key="dl-framework")
    st.caption(ARCHITECTURES[arch].description)
    with st.expander(f"Not offered for {task.replace('_', ' ')} ({len(reasons)})"):
        for name, why in reasons.items():
            st.markdown(f"- **{ARCHITECTURES[name].label}**: {why}")
    target = _target(task, columns, ds.format)
    options = _task_options(task, columns, ds.format, arch)
    if options is None:
        return
    with st.form("dl-train-form", border=True):
        params = _parameters(arch)
        if st.form_submit_button("Train network", type="primary", key="dl-train"):
            _submit(ds, arch, framework, task, target, params, options)
    if st.session_state.get(DLKeys.JOB):
        show_job(st.session_state[DLKeys.JOB])


def image_import() -> None:
    upload = st.file_uploader("Image zip", type=["zip"], key="dl-image-zip")
    if upload is not None and st.button("Import images", key="dl-image-import"):
        with guard():
            ds = import_image_zip(upload.getvalue(), upload.name)
            st.success(f"Imported {ds.rows:,} images as dataset {ds.name!r}.")
            for note in ds.notes:
                st.caption(f"ℹ️ {sanitize_reply(note)}")


def _target(task: str, columns: list[str], fmt: str) -> str | None:
    optional = task in ("anomaly_detection", "generative")
    choices = ([NO_TARGET] if optional else []) + columns
    default = choices.index("label") if fmt == "images" and "label" in choices else len(choices) - 1
    help_text = "For anomaly detection: an optional 0/1 label used only to score the detector." if optional else None
    target = st.selectbox("Target", choices, index=0 if optional else default, key="dl-target", help=help_text)
    return None if target == NO_TARGET else target


def _task_options(task: str, columns: list[str], fmt: str, arch: str) -> dict[str, Any] | None:
    options: dict[str, Any] = {}
    if task == "image_classification" and fmt != "images":
        shape = st.text_input("Image shape of the pixel columns (height x width)", "8x8", key="dl-shape")
        try:
            options["image_shape"] = [int(v) for v in shape.lower().replace(" ", "").split("x")]
        except ValueError:
            st.error("Write the shape as height x width, e.g. 8x8 or 28x28.")
            return None
    elif task == "image_classification":
        options["image_size"] = st.number_input("Resize mixed sizes to (pixels)", 4, 128, 32, key="dl-image-size")
    if task == "text_classification":
        options["text_column"] = st.selectbox("Text column", columns, key="dl-text")
    if task == "sequence_prediction":
        c1, c2, c3 = st.columns(3)
        options["time_column"] = c1.selectbox("Time column", columns, key="dl-time")
        options["window"] = c2.number_input("Window (past steps)", 2, 1000, 12, key="dl-window")
        options["horizon"] = c3.number_input("Horizon (steps ahead)", 1, 100, 1, key="dl-horizon")
    if arch == "custom":
        raw = st.text_area("Layers (JSON list)", '[{"type": "dense", "units": 32}, {"type": "activation", "fn": "relu"}]',
                           key="dl-layers", help="Allowed: dense, conv1d, conv2d, max/avg pool 1d/2d, dropout, "
                           "batchnorm, layernorm, embedding, rnn, lstm, gru, attention, flatten, activation. "
                           "An output layer is added.")
        try:
            options["layers"] = json.loads(raw)
        except ValueError as exc:
            show_error(InvalidInput(f"The layer list is not valid JSON: {exc}."))
            return None
    return options


def _parameters(arch: str) -> dict[str, Any]:
    c1, c2, c3, c4 = st.columns(4)
    out: dict[str, Any] = {
        "epochs": c1.number_input("Epochs", 1, 1000, 50, key="dl-epochs"),
        "batch_size": c2.number_input("Batch size", 1, 512, 32, key="dl-batch"),
        "learning_rate": c3.number_input("Learning rate", 1e-5, 1.0, 1e-3, format="%.5f", key="dl-lr"),
        "optimizer": c4.selectbox("Optimizer", ["adam", "adamw", "sgd", "rmsprop"], key="dl-optimizer"),
    }
    c5, c6, c7, c8 = st.columns(4)
    out["patience"] = c5.number_input("Early-stopping patience", 0, 1000, 10, key="dl-patience",
                                      help="Epochs without validation improvement; 0 never stops early.")
    out["validation_fraction"] = c6.number_input("Validation fraction", 0.05, 0.5, 0.2, key="dl-val")
    if arch != "custom":
        out["hidden"] = c7.number_input("Units per layer", 4, 1024, 64, key="dl-hidden")
        out["layers"] = c8.number_input("Layers / blocks", 1, 8, 2, key="dl-layers-n")
        out["dropout"] = st.slider("Dropout", 0.0, 0.9, 0.1, key="dl-dropout")
    return out


def _submit(ds: Any, arch: str, framework: str, task: str, target: str | None, params: dict[str, Any],
            options: dict[str, Any]) -> None:
    common = {k: params.pop(k) for k in ("epochs", "batch_size", "learning_rate")}
    job = jobs.submit("dl.train", title=f"Train {ARCHITECTURES[arch].label} ({framework}) on {ds.name}",
                      dataset_id=str(ds.id), architecture=arch, framework=framework, task=task, target=target,
                      epochs=int(common["epochs"]), batch_size=int(common["batch_size"]),
                      learning_rate=float(common["learning_rate"]), options={**params, **options})
    st.session_state[DLKeys.JOB] = str(job.id)


def show_job(job_id: str) -> None:
    job = job_panel(job_id, key="dl-train")
    if not job.state.finished:
        _live_curve(job_id)
        return
    _curve(job)
    if job.status == "succeeded" and job.result:
        st.caption(f"Device: **{job.result.get('device')}** · {job.result.get('parameters', 0):,} parameters · "
                   f"best epoch {job.result.get('best_epoch')} · {job.result.get('stopped') or 'all epochs run'}")
        st.button("Open the model", type="primary", key="dl-open", on_click=_open, args=(job.result["model_id"],))


@st.fragment(run_every=1.5)
def _live_curve(job_id: str) -> None:
    _curve(jobs.get_job(job_id))


def _curve(job: Any) -> None:
    fig = job_figure(job)
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key=f"dl-curve-{job.id}-{len(job.metrics)}")


def _open(model_id: str) -> None:
    st.session_state[DLKeys.SECTION] = "Models"
    st.session_state[DLKeys.MODEL] = model_id


# ---- one stored network -----------------------------------------------------------------------------

def model_detail(model: MLModel) -> None:
    """Metrics, history, leaderboard, test-split evaluation figures, task extras, download and delete of a network."""
    test = {k: v for k, v in model.metrics.get("test", {}).items() if isinstance(v, int | float)}
    cols = st.columns(max(min(len(test), 6), 1))
    for col, (name, value) in zip(cols, list(test.items())[:6], strict=False):
        col.metric(name, f"{value:.4f}" if isinstance(value, float) else value, help="held-out test split")
    spec = model.params.get("spec", {})
    st.caption(f"{spec.get('architecture')} · {spec.get('framework')} on **{model.metrics.get('device')}** · "
               f"{model.task} · target {code_span(model.target or '-')} · {model.metrics.get('parameters', 0):,} "
               f"parameters · best epoch {model.metrics.get('best_epoch')}")
    history = pd.DataFrame(model.metrics.get("history", []))
    if not history.empty:
        losses = [c for c in ("train_loss", "val_loss") if c in history]
        st.plotly_chart(px.line(history, x="epoch", y=losses, markers=True, title="Loss per epoch"),
                        width="stretch", key="dl-history")
    if model.dataset_id and model.target:
        board = dl.leaderboard(model.dataset_id, model.target)
        if len(board) > 1:
            st.markdown("**Leaderboard** (deep and classical models of this dataset and target, same hold-out split)")
            st.dataframe(pd.DataFrame(board).drop(columns=["model_id"]), hide_index=True, key="dl-board")
    with guard():  # a deleted dataset says so here; the extras and actions below stay reachable
        evaluation_view(model)
    with guard():
        _extras(model)
    with st.expander("Spec, preprocessing and versions"):
        st.json({"spec": spec, "schema": {k: v for k, v in model.feature_schema.items() if k != "vocab"},
                 "libraries": model.library_versions})
    _actions(model)


def _extras(model: MLModel) -> None:
    if model.task == "anomaly_detection":
        threshold = st.number_input("Threshold (anomaly score above it is flagged)", 0.0, None,
                                    float(model.feature_schema.get("threshold", 0.0)), format="%.5f", key="dl-threshold")
        if st.button("Save scores as a new dataset version", key="dl-save-anomalies"):
            ds = dl.save_anomalies(model.id, threshold=threshold)
            st.success(f"Saved version {ds.version} of {ds.name} with anomaly_score and anomaly columns.")
    if model.task == "generative":
        report = model.metrics.get("fidelity", {})
        if report.get("columns"):
            st.plotly_chart(px.bar(pd.DataFrame(report["columns"]), x="column", y="distance", color="measure",
                                   title="Distribution distance per column (0 = same as the real data)"),
                            width="stretch", key="dl-fidelity")
        st.caption(f"Correlation difference: {report.get('correlation_difference')}")
        n = st.number_input("Rows to generate", 1, 1_000_000, 500, key="dl-gen-rows")
        name = st.text_input("New dataset name", f"synthetic {model.name}"[:100], key="dl-gen-name")
        if st.button("Generate and save", key="dl-generate"):
            ds = dl.save_synthetic(model.id, int(n), name=name)
            st.success(f"Saved {ds.rows:,} synthetic rows as dataset {ds.name!r}.")


def _actions(model: MLModel) -> None:
    c1, c2 = st.columns(2)
    try:
        data = modelfile.payload(model.id, model.params["spec"]["framework"],
                                 ml.artifacts.artifact_file(model).read_bytes(), name=model.name)
    except WorkbenchError:
        c1.caption("No download: the model file did not pass its checks.")
    else:
        c1.download_button("Download weights (.safetensors)", data, file_name=f"network-{model.id}.safetensors",
                           key="dl-download", on_click="ignore", help="Tensors only; the spec to rebuild the network is under "
                           "'Spec, preprocessing and versions'.")
    with c2.popover("Delete model"):
        st.warning("This deletes the network and its file.")
        if st.button("Delete", type="primary", key="dl-delete"):
            ml.delete_model(model.id)
            st.session_state.pop(DLKeys.MODEL, None)
            st.rerun()
