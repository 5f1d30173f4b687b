"""The `train_dl_model` tool: start a deep-learning training job (one of the ten architectures, either framework)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from agents import resolve
from agents.tools.registry import DatasetArg, ToolResult

Architecture = Literal["mlp", "cnn", "rnn", "lstm", "gru", "transformer", "autoencoder", "gan", "resnet"]
Task = Literal["classification", "regression", "image_classification", "text_classification",
               "sequence_prediction", "anomaly_detection", "generative"]


class TrainDLArgs(DatasetArg):
    architecture: Architecture = Field(description="Network architecture (custom layer lists are built on the "
                                       "Models page, not by the assistant).")
    framework: Literal["pytorch", "tensorflow"] = Field("pytorch", description="Deep-learning framework.")
    target: str | None = Field(None, description="Column to predict (none for anomaly detection or a GAN).")
    task: Task | None = Field(None, description="Default: inferred from the architecture and data.")
    epochs: int = Field(50, ge=1, le=1000)
    batch_size: int = Field(32, ge=1, le=512)
    learning_rate: float = Field(1e-3, ge=1e-5, le=1.0)
    time_column: str | None = Field(None, description="Column ordering the rows (sequence prediction).")
    window: int | None = Field(None, ge=2, le=1000, description="Past steps the forecast sees.")
    horizon: int | None = Field(None, ge=1, le=100, description="Steps ahead to forecast.")
    text_column: str | None = Field(None, description="Column holding the text (text classification).")
    image_shape: list[int] | None = Field(None, min_length=2, max_length=3,
                                          description="Height and width of pixel columns, e.g. [8, 8].")


def train_dl_model(args: TrainDLArgs) -> ToolResult:
    import jobs

    ds = resolve.dataset(args.dataset)
    target = resolve.column(ds, args.target) if args.target else None
    options: dict[str, Any] = {k: v for k, v in {"window": args.window, "horizon": args.horizon,
                                                 "image_shape": args.image_shape}.items() if v is not None}
    for key in ("time_column", "text_column"):
        value = getattr(args, key)
        if value:
            options[key] = resolve.column(ds, value)
    job = jobs.submit("dl.train", title=f"Train {args.architecture.upper()} ({args.framework}) on {ds.name}",
                      dataset_id=str(ds.id), architecture=args.architecture, framework=args.framework,
                      target=target, task=args.task, epochs=args.epochs, batch_size=args.batch_size,
                      learning_rate=args.learning_rate, options=options)
    what = f"to predict {target}" if target else f"for {args.task or args.architecture}"
    return ToolResult(f"Started training a {args.architecture.upper()} network in {args.framework} {what} on "
                      f"{ds.name} (job {job.id}). Its loss curves update live on the Models and Jobs pages.",
                      job_id=str(job.id))
