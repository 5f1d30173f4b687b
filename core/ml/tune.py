"""Hyperparameter tuning with Optuna (TPE) within a time budget, scored by the same k-fold CV.

Built on `core.ml.cv`; `core.ml.train` calls it, never the other way round.
"""

from __future__ import annotations

import logging
from typing import Any

from core.ml.catalog import get_spec
from core.ml.cv import Split, Ticker, cross_validate_model
from core.ml.metrics import PRIMARY

log = logging.getLogger(__name__)


def suggest(trial: Any, space: dict[str, tuple]) -> dict[str, Any]:
    """Sample one set of hyperparameters from a catalog search space."""
    params: dict[str, Any] = {}
    for name, (kind, low, high) in space.items():
        if kind == "int":
            params[name] = trial.suggest_int(name, low, high)
        elif kind == "log":
            params[name] = trial.suggest_float(name, low, high, log=True)
        else:
            params[name] = trial.suggest_float(name, low, high)
    return params


def tune(key: str, split: Split, ticker: Ticker, seconds: int) -> dict[str, Any] | None:
    """Search `key`'s hyperparameters for about `seconds`; the best trial's CV result, or None."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = get_spec(key, split.task)
    primary = PRIMARY[split.task]
    best: dict[str, Any] = {}

    def objective(trial: optuna.Trial) -> float:
        ticker.total += split.cv
        result = cross_validate_model(key, split, ticker, suggest(trial, spec.space), tag=" (tuned)")
        if "error" in result:
            return float("-inf")
        score = sum(f[primary] for f in result["folds"]) / len(result["folds"])
        if not best or score > best["score"]:
            best.update(score=score, result=result)
        return score

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=split.seed))
    study.optimize(objective, timeout=seconds)
    log.info("tuned %s: %d trials", key, len(study.trials))
    return best.get("result")
