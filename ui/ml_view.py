"""The Models page: train (as a job, with a live leaderboard), browse runs and models, evaluate, predict."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

import jobs
from core import dl, ml
from core.datasets.images import images_to_predict
from core.errors import WorkbenchError
from core.ml.catalog import CATALOG, label
from core.ml.metrics import HIGHER_IS_BETTER
from core.ml.screen import DEFAULT_BUDGET_S, MAX_BUDGET_S
from core.models.ml import MLModel
from ui import dl_view
from ui.cache import per_user
from ui.errors import guard, show_error
from ui.evaluation import evaluation_view
from ui.jobs import job_panel
from ui.ml_explain import explain_prediction, shap_summary
from ui.picker import pick_dataset
from ui.project_scope import scoped
from ui.safe import code_span, escape_markdown, sanitize_reply

SECTIONS = ("Train", "Deep learning", "Models", "Predict")


class MLKeys:
    """Session-state keys of the Models page."""

    SECTION = "ml-section"
    JOB = "ml-job-id"
    MODEL = "ml-model"
    PREDICT_MODEL = "ml-predict-model"
    PREDICTIONS = "ml-predictions"


def render() -> None:
    """The whole page body."""
    section = st.radio("Section", SECTIONS, horizontal=True, key=MLKeys.SECTION, label_visibility="collapsed")
    with guard():
        if section == "Train":
            train_section()
        elif section == "Deep learning":
            dl_view.render()
        elif section == "Models":
            models_section()
        else:
            predict_section()


def _open_model(model_id: str) -> None:
    """Button callback: show a model on the Models section."""
    st.session_state[MLKeys.SECTION] = "Models"
    st.session_state[MLKeys.MODEL] = model_id


# ---- train ----------------------------------------------------------------------------------------

def train_section() -> None:
    ds = pick_dataset(key="ml-dataset")
    if ds is None:
        return
    columns = [c["name"] for c in ds.schema_]
    c1, c2 = st.columns(2)
    target = c1.selectbox("Target (what to predict)", columns, index=_default_target(ds.id, ds.version, columns),
                          key="ml-target", placeholder="Choose the column to predict")
    task = c2.selectbox("Task", ["auto", "classification", "regression"], key="ml-task",
                        help="Auto: classification for labels and few whole numbers, regression otherwise.")
    if target is None:
        st.info("Choose the target: the column the models learn to predict (a label, an amount, a category).",
                icon="🎯")
        return
    if not preflight(str(ds.id), ds.version, target, None if task == "auto" else task):
        return
    with st.form("ml-train-form", border=True):
        models = st.multiselect("Models", list(CATALOG), format_func=label, key="ml-models",
                                placeholder="All that fit the task (compare mode)")
        c3, c4, c5, c6 = st.columns(4)
        cv = c3.number_input("CV folds", 2, 10, 5, key="ml-cv")
        tune = c4.number_input("Tuning seconds", 0, 3600, 0, step=30, key="ml-tune",
                               help="Optuna tunes the best model for this long; 0 skips tuning.")
        seed = c5.number_input("Seed", 0, 2**31 - 1, 42, key="ml-seed")
        imbalance = c6.toggle("Balance classes", key="ml-imbalance", help="Weight rare classes up.")
        budget = st.number_input("Compare-mode time budget (seconds)", 0, int(MAX_BUDGET_S), int(DEFAULT_BUDGET_S),
                                 step=10, key="ml-budget",
                                 help="Compare mode stops between models when this is spent (the models left out "
                                      "are listed) and screens large tables on samples; 0 means no limit. "
                                      "Not used when models are chosen above; tuning time comes on top.")
        if st.form_submit_button("Train", type="primary", key="ml-train"):
            job = jobs.submit("ml.train", title=f"Train {ds.name} → {target}", dataset_id=str(ds.id),
                              target=target, task=None if task == "auto" else task, models=models or None,
                              cv=int(cv), tune_seconds=int(tune), seed=int(seed), imbalance=bool(imbalance),
                              time_budget=float(budget) if budget else None)
            st.session_state[MLKeys.JOB] = str(job.id)
    if st.session_state.get(MLKeys.JOB):
        show_job(st.session_state[MLKeys.JOB])


def preflight(dataset_id: str, version: int, target: str, task: str | None) -> bool:
    """Show what training will do (or why it cannot) before anything is submitted."""
    try:
        check = _check(dataset_id, version, target, task)
    except WorkbenchError as exc:
        show_error(exc)
        return False
    st.caption(f"Task: **{check.task}** · {check.rows:,} rows · {len(check.features)} feature(s) used")
    for note in check.notes:
        st.info(sanitize_reply(note), icon="ℹ️")
    return True


def _default_target(dataset_id: uuid.UUID, version: int, columns: list[str]) -> int | None:
    """The last column when it can be a target; otherwise nothing is preselected (no error before a choice)."""
    try:
        _check(str(dataset_id), version, columns[-1], None)
    except WorkbenchError:
        return None
    return len(columns) - 1


@per_user(show_spinner=False, max_entries=50)
def _check(dataset_id: str, version: int, target: str, task: str | None) -> ml.Preflight:
    return ml.check_training(dataset_id, target=target, task=task, cv=2)


def show_job(job_id: str) -> None:
    job = job_panel(job_id, key="ml-train")
    if not job.state.finished:
        _live_curves(job_id)
        return
    fold_chart(job.metrics, key="ml-job-curves")
    if job.status == "succeeded" and job.result:
        run = ml.get_run(job.result["run_id"])
        leaderboard_table(run.leaderboard, run.primary_metric, key="ml-job-leaderboard")
        skipped_list(run.params.get("skipped") or [])
        for note in run.notes:
            st.caption(f"ℹ️ {sanitize_reply(note)}")
        st.button("Open the best model", type="primary", key="ml-open-best",
                  on_click=_open_model, args=(str(run.best_model_id),))


@st.fragment(run_every=1.5)
def _live_curves(job_id: str) -> None:
    fold_chart(jobs.get_job(job_id).metrics, key="ml-live-curves")


def fold_chart(points: list[dict[str, Any]], *, key: str) -> None:
    """The CV score of every model and fold as it arrives."""
    frame = pd.DataFrame([p for p in points if "fold" in p])
    if frame.empty:
        return
    metric = next(c for c in frame.columns if c not in ("step", "model", "fold", "fit_time_s"))
    frame["model"] = frame["model"].map(_model_label)
    fig = px.line(frame, x="fold", y=metric, color="model", markers=True,
                  title=f"Cross-validation {metric} per fold")
    fig.update_xaxes(tickmode="linear", tick0=1, dtick=1, tickformat="d")  # folds are whole numbers
    legend_rows = math.ceil(frame["model"].nunique() / 3)  # a legend under the chart, every model in it
    fig.update_layout(height=300 + 26 * legend_rows, legend={"orientation": "h", "yanchor": "top", "y": -0.25,
                                                             "x": 0, "title": {"text": ""}})
    st.plotly_chart(fig, width="stretch", key=key)


def _model_label(key: str) -> str:
    tuned = key.endswith(" (tuned)")
    return label(key.removesuffix(" (tuned)")) + (" (tuned)" if tuned else "")


def leaderboard_table(board: list[dict[str, Any]], primary: str, *, key: str) -> None:
    rows = []
    for r in board:
        row = {"": "🏆" if r.get("best") else "", "model": r["label"]}
        row |= {k.removesuffix("_mean"): v for k, v in r.items() if k.endswith("_mean")}
        row |= {f"{k.removesuffix('_std')} ±": v for k, v in r.items() if k.endswith("_std") and "fit_time" not in k}
        if "cv_rows" in r:  # compare mode on large data: screened on a sample
            row |= {"CV rows": r["cv_rows"], "folds": r["cv_folds"]}
        row["error"] = r.get("error", "")
        rows.append(row)
    frame = pd.DataFrame(rows)
    order = ["", "model", primary, f"{primary} ±", "fit_time_s"]
    frame = frame[[c for c in order if c in frame] + [c for c in frame if c not in order]]
    if not frame["error"].any():
        frame = frame.drop(columns="error")
    st.dataframe(frame, width="stretch", hide_index=True, key=key,
                 column_config={"fit_time_s": st.column_config.NumberColumn("fit time (s)", format="%.3f")})


def skipped_list(skipped: list[dict[str, str]]) -> None:
    """The models compare mode left out, each with its reason."""
    if skipped:
        lines = "\n".join(f"- **{escape_markdown(s['label'])}**: {escape_markdown(s['reason'])}" for s in skipped)
        st.warning(f"Not trained ({len(skipped)}):\n{lines}", icon="⏱️")


# ---- models ---------------------------------------------------------------------------------------

def _model_picker(key: str) -> MLModel | None:
    models = scoped(ml.list_models(), "model", what="models")
    if not models:
        st.info("No models yet. Train one in the Train section.")
        return None
    ids = [str(m.id) for m in models]
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    names = {str(m.id): _model_title(m) for m in models}
    chosen = st.selectbox("Model", ids, format_func=names.get, key=key)
    return next(m for m in models if str(m.id) == chosen)


def _model_title(m: MLModel) -> str:
    primary = m.metrics.get("primary", "score")
    return f"{m.name} — test {primary} {_fmt(m.metrics.get('test', {}).get(primary))}"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def models_section() -> None:
    runs = ml.list_runs()
    if runs:
        with st.expander(f"Training runs ({len(runs)})"):
            st.dataframe(pd.DataFrame([{"dataset": r.dataset_name, "target": r.target, "task": r.task,
                                        "models": len(r.leaderboard), "best": _best_label(r.leaderboard),
                                        r.primary_metric: _best_score(r.leaderboard, r.primary_metric),
                                        "seconds": r.duration_s, "created": r.created} for r in runs]),
                         width="stretch", hide_index=True, key="ml-runs")
    model = _model_picker(MLKeys.MODEL)
    if model is None:
        return
    model_detail(model)


def _best_label(board: list[dict[str, Any]]) -> str:
    return next((r["label"] for r in board if r.get("best")), "")


def _best_score(board: list[dict[str, Any]], primary: str) -> float | None:
    return next((r.get(f"{primary}_mean") for r in board if r.get("best")), None)


def model_detail(model: MLModel) -> None:
    if dl.is_deep(model):
        dl_view.model_detail(model)
        return
    test = model.metrics.get("test", {})
    cols = st.columns(max(len(test), 1))
    for col, (name, value) in zip(cols, test.items(), strict=False):
        col.metric(name, _fmt(value), help="held-out test split; " +
                   ("higher is better" if HIGHER_IS_BETTER.get(name, True) else "lower is better"))
    st.caption(f"{label(model.algorithm)} · {model.task} · target {code_span(model.target)} · trained on "
               f"{model.metrics.get('n_train', 0):,} rows, tested on {model.metrics.get('n_test', 0):,}")
    if model.run_id:
        with guard():
            run = ml.get_run(model.run_id)
            leaderboard_table(run.leaderboard, run.primary_metric, key="ml-model-leaderboard")
            skipped_list(run.params.get("skipped") or [])
    with guard():  # a model file that fails its checks says so here; delete stays reachable below
        evaluation_view(model)
        shap_summary(model)
    with st.expander("Parameters, features and versions"):
        st.json({"params": model.params, "features": model.feature_schema.get("columns"),
                 "dropped": model.feature_schema.get("dropped"), "libraries": model.library_versions})
    _model_actions(model)


def _model_actions(model: MLModel) -> None:
    from core.ml.artifacts import export_bytes

    c1, c2 = st.columns(2)
    try:
        data = export_bytes(model)
    except WorkbenchError:
        c1.caption("No download: the model file did not pass its checks (see above).")
    else:
        c1.download_button("Download model (.skops)", data, file_name=f"model-{model.id}.skops",
                           key="ml-download-model", on_click="ignore", help="Open it with skops.io.load(path, trusted=[...]); "
                           "skops.io.get_untrusted_types(file=path) lists the types to review first.")
    with c2.popover("Delete model"):
        st.warning("This deletes the model and its file.")
        if st.button("Delete", type="primary", key="ml-delete"):
            ml.delete_model(model.id)
            st.session_state.pop(MLKeys.MODEL, None)
            st.rerun()


# ---- predict --------------------------------------------------------------------------------------

def predict_section() -> None:
    model = _model_picker(MLKeys.PREDICT_MODEL)
    if model is None:
        return
    mode = st.radio("Input", ["Upload a file", "Fill one row"], horizontal=True, key="ml-predict-mode")
    frame = _upload_rows(model) if mode == "Upload a file" else _form_row(model)
    if frame is not None:
        result = (dl.predict if dl.is_deep(model) else ml.predict)(model.id, frame)
        st.session_state[MLKeys.PREDICTIONS] = {"model": str(model.id), "frame": result,
                                                "warnings": [*frame.attrs.get("warnings", []),
                                                             *result.attrs.get("warnings", [])]}
    shown = st.session_state.get(MLKeys.PREDICTIONS)
    if shown and shown["model"] == str(model.id):
        for warning in shown["warnings"]:
            st.warning(warning)
        st.dataframe(shown["frame"], width="stretch", hide_index=True, key="ml-predictions-table")
        st.download_button("Download predictions (CSV)", shown["frame"].to_csv(index=False).encode(),
                           file_name=f"predictions-{model.id}.csv", mime="text/csv", key="ml-predict-download",
                           on_click="ignore")
        if not dl.is_deep(model):
            explain_prediction(model, shown["frame"])


def _upload_rows(model: MLModel) -> pd.DataFrame | None:
    images = dl.is_deep(model) and model.feature_schema.get("source") == "files"
    label = ("Images to classify (a zip of .png or .jpg files)" if images
             else "Rows to predict (CSV, Excel, JSON or Parquet with the training columns)")
    upload = st.file_uploader(label, key="ml-predict-upload")
    if upload is None:
        return None
    st.caption(f"Ready to predict {escape_markdown(upload.name)} ({upload.size:,} bytes).")
    if not st.button("Predict", type="primary", key="ml-predict-run"):
        return None
    if images and upload.name.lower().endswith(".zip"):
        return images_to_predict(upload.getvalue(), upload.name)
    return ml.read_rows(upload.getvalue(), upload.name)  # the Datasets page's reader: any delimiter or encoding


def _form_row(model: MLModel) -> pd.DataFrame | None:
    columns = model.feature_schema.get("columns", [])
    with st.form("ml-predict-form"):
        values = {c["name"]: _field(c) for c in columns}
        if not st.form_submit_button("Predict", type="primary", key="ml-predict-form-run"):
            return None
    return pd.DataFrame([values])


def _field(column: dict[str, Any]) -> Any:
    key = f"ml-form-{uuid.uuid5(uuid.NAMESPACE_OID, column['name']).hex[:8]}"
    if column["kind"] == "numeric":
        return st.number_input(escape_markdown(column["name"]), value=float(column.get("default") or 0.0), key=key)
    if column["kind"] == "categorical":
        options = column.get("categories") or [column.get("default", "")]
        return st.selectbox(escape_markdown(column["name"]), options, key=key, accept_new_options=True)
    return st.text_input(escape_markdown(column["name"]), value=str(column.get("default", "")), key=key)
