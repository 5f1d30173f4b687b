"""Intent: deep learning. "train an LSTM in tensorflow to forecast sales from the last 30 days",
"train a CNN on the digits images", "find anomalies with an autoencoder", "generate synthetic rows with a GAN"."""

from __future__ import annotations

import re

from agents.planner.parse import Ctx
from agents.reply import ToolCall

ARCHITECTURES = ((r"\blstms?\b", "lstm"), (r"\bgrus?\b", "gru"), (r"\brnns?\b|\brecurrent\b", "rnn"),
                 (r"\bcnns?\b|\bconv(olutional)?\b", "cnn"), (r"\btransformers?\b", "transformer"),
                 (r"\bautoencoders?\b|\bauto-encoders?\b", "autoencoder"), (r"\bgans?\b|\badversarial\b", "gan"),
                 (r"\bresnets?\b|\bresidual\b", "resnet"), (r"\bdeep (learning|network|neural)\b", "mlp"))


def rule_dl(ctx: Ctx) -> list[ToolCall] | None:
    arch = next((key for pattern, key in ARCHITECTURES if ctx.has(pattern)), None)
    if arch is None or ctx.ds is None or not ctx.has(r"\b(train|fit|build|create|make|forecast|predict|classify|"
                                                     r"detect|find|generate|use|run)\b"):
        return None
    framework = "tensorflow" if ctx.has(r"\b(tensorflow|keras|tf)\b") else "pytorch"
    task = _task(ctx, arch)
    parts = ctx.split(r"\b(predict|predicting|forecast|forecasting|classify|target|for|of)\b")
    target = parts[1][0] if parts and parts[1] else None
    if target is None and task not in ("anomaly_detection", "generative", "image_classification"):
        target = ctx.cols[0] if ctx.cols else None
    window = re.search(r"\b(?:last|past|previous)\s+(\d{1,4})\s+(?:days?|steps?|weeks?|months?|hours?|values?|points?)",
                       ctx.low)
    return ctx.call("train_dl_model", architecture=arch, framework=framework, task=task, target=target,
                    window=int(window.group(1)) if window and int(window.group(1)) >= 2 else None)


def _task(ctx: Ctx, arch: str) -> str | None:
    if arch == "autoencoder" or ctx.has(r"\banomal"):
        return "anomaly_detection"
    if arch == "gan" or ctx.has(r"\bsynthetic\b|\bgenerate\b"):
        return "generative"
    if ctx.has(r"\bimages?\b|\bpictures?\b|\bphotos?\b"):
        return "image_classification"
    if ctx.has(r"\bforecast|\bnext \d+|\bfrom the (last|past)\b|\btime series\b"):
        return "sequence_prediction"
    if ctx.has(r"\btexts?\b|\breviews?\b|\bsentiment\b|\bdocuments?\b"):
        return "text_classification"
    return None
