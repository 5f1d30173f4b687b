"""Intent: models and jobs. Train a model, predict with one, ask how a job is going."""

from __future__ import annotations

import re

from agents.planner.parse import Ctx
from agents.reply import ToolCall


def rule_job(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.has(r"(?m)^(?>.*?\b(job|jobs|training|train run)\b).*\b(status|progress|done|finished|complete|ready|going|doing)\b"
               r"|^(?>.*?\b(status|progress)\b).*\b(job|jobs|training|model)\b|\bis (the |my )?(model|training) (done|ready)"):
        job = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", ctx.low)
        return ctx.call("get_job_status", job=job.group(0) if job else None)
    return None


def rule_predict(ctx: Ctx) -> list[ToolCall] | None:
    hit = re.search(r"(?im)^(?>.*?\b(?:predict|score|apply|use|run)\b).*?"
                    r"\bmodel\s+[\"'`]?(?P<model>[\w\-.:]+)", ctx.text)
    if not hit or ctx.ds is None or hit.group("model").lower() in ("to", "that", "for", "on", "which"):
        return None
    return ctx.call("predict", model=hit.group("model"))


def rule_train(ctx: Ctx) -> list[ToolCall] | None:
    if not ctx.has(r"(?m)^(?>.*?\b(train|fit|build|create|make|develop)\b).*\b(model|classifier|regressor|regression|"
                   r"predictor|forest|xgboost)\b|\bpredict(s|ing|ion)?\b|\bforecast\b|\bclassify\b|"
                   r"\bmachine learning\b|\bautoml\b"):
        return None
    parts = ctx.split(r"\b(predict|predicting|forecast|classify|target|for|of)\b")
    target = parts[1][0] if parts and parts[1] else (ctx.cols[0] if ctx.cols else None)
    if target is None:
        return None
    task = "classification" if ctx.has(r"classif") else "regression" if ctx.has(r"\bregress(ion|or)\b") and \
        not ctx.has(r"logistic") else None
    models = [key for pattern, key in MODEL_NAMES if ctx.has(pattern)] or None
    return ctx.call("train_ml_model", target=target, task=task, models=models)


MODEL_NAMES = (
    (r"\blinear regression", "linear_regression"), (r"\blogistic regression", "logistic_regression"),
    (r"\bridge\b", "ridge"), (r"\brandom forest", "random_forest"), (r"\bdecision tree", "decision_tree"),
    (r"\bknn\b|nearest neighbou?r", "knn"), (r"\bsvm\b|support vector", "svm"),
    (r"\bgradient boost", "hist_gradient_boosting"), (r"\bxgboost\b", "xgboost"),
    (r"\bmlp\b|neural net", "mlp"),
)
