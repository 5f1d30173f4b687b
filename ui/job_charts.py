"""What the Jobs page shows for one job: the chart that fits its kind, its duration, what it produced.

No Streamlit here: the choice of chart and the links are plain functions of the Job row, tested on
their own; `ui.jobs_view` renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.models import Job

# Keys of a metrics point that describe where it was taken, not how well something did.
POSITION_KEYS = frozenset({"step", "fold", "epoch", "model", "t", "ts", "fit_time_s", "batch"})


@dataclass(frozen=True)
class ChartChoice:
    """One chart: `style` is cv_scores (score per model and fold), loss_curve or progress."""

    style: str
    x: str
    y: tuple[str, ...]
    title: str


@dataclass(frozen=True)
class Output:
    """Something a job produced: `target` is model, dataset or document; `ref` its id."""

    target: str
    ref: str
    label: str
    version: int | None = None


def choose_chart(kind: str, points: list[dict[str, Any]], result: dict[str, Any] | None = None) -> ChartChoice | None:
    """The chart that says something for this kind of job, or None when its metrics hold nothing to plot."""
    frame = pd.DataFrame(points)
    if frame.empty:
        return None
    if {"model", "fold"} <= set(frame.columns):
        return _cv_choice(frame, result or {})
    if "epoch" in frame.columns or kind.startswith("dl."):
        return _loss_choice(frame)
    return _progress_choice(frame)


def _scores(frame: pd.DataFrame) -> list[str]:
    numeric = frame.select_dtypes("number").columns
    return [c for c in numeric if c not in POSITION_KEYS]


def _cv_choice(frame: pd.DataFrame, result: dict[str, Any]) -> ChartChoice | None:
    metric = result.get("primary_metric")
    if metric not in frame.columns:
        metric = next(iter(_scores(frame)), None)
    if metric is None:
        return None
    return ChartChoice("cv_scores", "model", (metric,), f"Cross-validation {metric} per model (a dot per fold)")


def _loss_choice(frame: pd.DataFrame) -> ChartChoice | None:
    if "epoch" not in frame.columns or len(frame) < 2:
        return None
    losses = [c for c in _scores(frame) if "loss" in c] or _scores(frame)
    return ChartChoice("loss_curve", "epoch", tuple(losses), "Loss per epoch") if losses else None


def _progress_choice(frame: pd.DataFrame) -> ChartChoice | None:
    if "t" not in frame.columns or len(frame) < 2:
        return None
    y = ("step",) if "step" in frame.columns else tuple(_scores(frame)[:1])
    return ChartChoice("progress", "t", y, "Progress over time") if y else None


def job_figure(job: Job) -> go.Figure | None:
    """The figure for `job` (see `choose_chart`), or None."""
    choice = choose_chart(job.kind, job.metrics, job.result)
    if choice is None:
        return None
    frame = pd.DataFrame(job.metrics)
    if choice.style == "cv_scores":
        return _cv_figure(frame, choice)
    if choice.style == "loss_curve":
        fig = px.line(frame, x="epoch", y=list(choice.y), markers=True, title=choice.title)
        return fig.update_layout(height=260, legend_title_text="", yaxis_title="loss")
    step_label = "steps done" if choice.y == ("step",) else choice.y[0]
    fig = px.line(frame, x="t", y=choice.y[0], markers=True, title=choice.title,
                  labels={"t": "seconds since start", choice.y[0]: step_label})
    return fig.update_layout(height=240)


def _cv_figure(frame: pd.DataFrame, choice: ChartChoice) -> go.Figure:
    metric = choice.y[0]
    frame = frame.dropna(subset=[metric])
    order = frame.groupby("model")[metric].mean().sort_values(ascending=False)
    fig = px.strip(frame, x="model", y=metric, hover_data=["fold"], title=choice.title,
                   category_orders={"model": list(order.index)})
    fig.add_scatter(x=list(order.index), y=list(order.values), mode="markers", name="mean",
                    marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3}})
    return fig.update_layout(height=300, xaxis_title="", showlegend=False)


def job_outputs(job: Job) -> list[Output]:
    """What the job produced, from its result: the model, the dataset (and version) or the document."""
    result = job.result or {}
    outputs: list[Output] = []
    model = result.get("best_model_id") or result.get("model_id")
    if model and model != "None":
        outputs.append(Output("model", str(model), "Open the best model" if "best_model_id" in result
                              else "Open the model"))
    if result.get("dataset_id"):
        outputs.append(_dataset_output(job, result))
    if result.get("document_id"):
        outputs.append(Output("document", str(result["document_id"]),
                              f"Open the documents ({result.get('name') or 'indexed document'})"))
    return outputs


def _dataset_output(job: Job, result: dict[str, Any]) -> Output:
    version = result.get("version")
    name = result.get("name") or "the dataset"
    what = f"the profile of {name}" if job.kind == "profile" else name
    suffix = f", version {version}" if version is not None else ""
    return Output("dataset", str(result["dataset_id"]), f"Open {what}{suffix}",
                  int(version) if version is not None else None)


def format_duration(seconds: float | None) -> str:
    """`1 h 02 min`, `3 min 05 s`, `4.2 s`; an em dash before the job starts."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
