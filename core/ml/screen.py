"""Compare mode within a wall-time budget: plain k-fold CV of every model on small data, successive halving on
large data (cheap models and a stratified subsample first, fewer folds, the better half kept on a sample four
times larger while the budget allows). The caller refits the winner on the whole training split.

Built on `core.ml.cv`, like `core.ml.tune`; `core.ml.train` calls it, never the other way round.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

from core.errors import InvalidInput
from core.ml.catalog import CLASSIFICATION, label
from core.ml.cv import Split, Ticker, cross_validate_model
from core.ml.metrics import PRIMARY

DEFAULT_BUDGET_S = 60.0  # compare mode's default wall-time budget
MIN_BUDGET_S, MAX_BUDGET_S = 1.0, 86_400.0
MIN_LARGE_ROWS = 20  # the smallest large-data threshold
FIRST_SAMPLE_DIVISOR = 5  # the first screening sample has large_rows / 5 rows (10,000 by default)
SCREEN_FOLDS = 3  # folds of each screening round on large data
GROWTH = 4  # each round's sample is this many times the last one's
SCALING = 1.0  # fit time is taken to grow as rows ** SCALING (0.9 undershot: a logistic regression on 800,000 rows
# took 25 s at load 3 against an estimated 12 s from its 27,000-row folds)
REFIT_MARGIN = 1.3  # the estimated refit time (fit, then predicting and scoring the test split) times this
REFIT_FIXED_S = 1.0  # plus this for storing the model
# Rough relative cost of one fit, to try the cheap families first on large data (unknown keys go last).
COST = {"linear_regression": 0, "ridge": 0, "logistic_regression": 1, "decision_tree": 2,
        "hist_gradient_boosting": 3, "xgboost": 4, "random_forest": 5}


def check_budget(seconds: float | None) -> float | None:
    """The budget in seconds (None: no limit); InvalidInput when it is not a number in range."""
    if seconds is None:
        return None
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise InvalidInput(f"The time budget must be a number of seconds, not {seconds!r}.") from None
    if not math.isfinite(value) or not MIN_BUDGET_S <= value <= MAX_BUDGET_S:
        raise InvalidInput(f"The time budget must be between {MIN_BUDGET_S:g} and {MAX_BUDGET_S:,.0f} seconds "
                           f"(got {seconds!r}).", hint="Leave it empty for no limit.")
    return value


def check_large_rows(rows: int) -> int:
    """The large-data threshold; InvalidInput below MIN_LARGE_ROWS."""
    if int(rows) < MIN_LARGE_ROWS:
        raise InvalidInput(f"The large-data threshold must be at least {MIN_LARGE_ROWS} rows (got {rows!r}).")
    return int(rows)


@dataclass
class Screening:
    """The outcome of compare mode: every model's CV result (the last round's first) and what was left out."""

    results: list[dict[str, Any]]
    split: Split  # the (sub)split of the last round: tuning scores on it so its rows compare with the others
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Clock:
    started: float
    budget: float | None

    def left(self) -> float:
        return math.inf if self.budget is None else self.budget - (time.monotonic() - self.started)


def compare(keys: list[str], split: Split, ticker: Ticker, *, budget: float | None, started: float,
            large_rows: int) -> Screening:
    """Cross-validate `keys` on `split` within `budget` seconds counted from `started` (time.monotonic).

    At most `large_rows` training rows: every model with the split's k folds, in the given order, the budget
    checked between models (the first model always runs). More rows: successive halving (see the module doc).
    """
    check_large_rows(large_rows)
    clock = Clock(started, budget)
    if len(split.x_train) <= large_rows:
        return _plain(keys, split, ticker, clock)
    return _halving(keys, split, ticker, clock, large_rows)


def _plain(keys: list[str], split: Split, ticker: Ticker, clock: Clock) -> Screening:
    out = Screening([], split)
    for key in keys:
        if out.results and clock.left() <= 0:
            _skip(out, key, f"time budget of {clock.budget:g} s spent before it could start")
            continue
        out.results.append(cross_validate_model(key, split, ticker))
    out.rounds.append({"rows": len(split.x_train), "folds": split.cv, "models": [r["model"] for r in out.results]})
    _note_skipped(out)
    return out


def _halving(keys: list[str], split: Split, ticker: Ticker, clock: Clock, large_rows: int) -> Screening:
    n = len(split.x_train)
    folds = min(split.cv, SCREEN_FOLDS)
    rows = max(large_rows // FIRST_SAMPLE_DIVISOR, folds * 10)
    alive = sorted(keys, key=lambda k: COST.get(k, len(COST)))
    out = Screening([], split)
    ticker.total = _planned_fits(len(alive), rows, n, folds)  # the whole plan, so progress never goes back
    done: list[dict[str, Any]] = []  # every finished result, tagged with its round
    before: dict[str, dict[str, Any]] = {}  # each survivor's result in the previous round
    level = 0
    while True:
        sub = subsample(split, rows, folds)
        this_round: list[dict[str, Any]] = []
        for key in alive:
            lead = _ranked(this_round, split.task) or _ranked(list(before.values()), split.task)
            cost = _scaled(before[key], len(sub.x_train)) if key in before else 0.0
            reserve = _refit_reserve(lead, n, len(split.x_test))
            if (this_round or before) and clock.left() <= reserve + cost:
                if key in before:
                    out.notes.append(f"{label(key)} was not tried on {len(sub.x_train):,} rows: about {cost:.0f} s, "
                                     f"and about {reserve:.0f} s kept for the final refit, would not fit the "
                                     f"{max(clock.left(), 0):.0f} s left of the budget; its score is from "
                                     f"{before[key]['cv_rows']:,} rows.")
                else:
                    _skip(out, key, f"time budget of {clock.budget:g} s spent during screening on "
                                    f"{len(sub.x_train):,} rows")
                continue
            started = time.monotonic()
            result = cross_validate_model(key, sub, ticker)
            result.update(round=level, cv_rows=len(sub.x_train), cv_folds=folds,
                          wall_s=time.monotonic() - started)
            this_round.append(result)
        if not this_round:
            break
        done += this_round
        ok = _ranked(this_round, split.task)
        out.rounds.append({"rows": len(sub.x_train), "folds": folds, "models": [r["model"] for r in this_round]})
        keep = ok[:math.ceil(len(ok) / 2)]
        if len(keep) <= 1 or len(sub.x_train) >= n:  # one left: the winner; or the sample was every row
            break
        before = {r["model"]: r for r in keep}
        alive = [r["model"] for r in keep]
        rows, level = min(n, rows * GROWTH), level + 1
    out.split = subsample(split, out.rounds[-1]["rows"], folds)
    out.results = _latest_first(done)
    sizes = " → ".join(f"{r['rows']:,}" for r in out.rounds)
    out.notes.insert(0, f"With {n:,} training rows, compare mode screened the models with {folds}-fold CV on "
                        f"stratified samples of {sizes} rows (successive halving), then refitted the best on all "
                        f"{n:,}; scores of models dropped early come from smaller samples.")
    _note_skipped(out)
    return out


def _planned_fits(models: int, rows: int, n: int, folds: int) -> int:
    """Fold fits of the whole halving plan when nothing fails or is left out (the progress denominator)."""
    total = 0
    while True:
        total += models * folds
        models = math.ceil(models / 2)
        if models <= 1 or rows >= n:
            return total
        rows = min(n, rows * GROWTH)


def subsample(split: Split, rows: int, folds: int) -> Split:
    """A Split whose training part is `rows` rows of `split`'s (stratified for classification), with `folds`."""
    n = len(split.x_train)
    if rows >= n:
        return _with_folds(split, folds)
    stratify = split.y_train if split.task == CLASSIFICATION and np.bincount(split.y_train).min() >= 2 else None
    idx, _ = train_test_split(np.arange(n), train_size=rows, random_state=split.seed, stratify=stratify)
    idx = np.sort(idx)
    return Split(split.plan, split.x_train.iloc[idx], split.x_test, split.y_train[idx], split.y_test,
                 seed=split.seed, imbalance=split.imbalance, cv=folds)


def _with_folds(split: Split, folds: int) -> Split:
    return Split(split.plan, split.x_train, split.x_test, split.y_train, split.y_test, seed=split.seed,
                 imbalance=split.imbalance, cv=folds)


def _scaled(result: dict[str, Any], rows: int) -> float:
    """The estimated wall time of `result`'s CV again on `rows` rows."""
    return result["wall_s"] * (rows / result["cv_rows"]) ** SCALING


def _refit_reserve(ranked: list[dict[str, Any]], n: int, n_test: int) -> float:
    """Seconds to hold back for refitting the first of `ranked` on all `n` rows and scoring it on `n_test`.

    From its CV: the median fold fit scaled to `n` rows, and the time spent predicting and scoring the
    validation folds (the rest of its wall time, `cv_rows` rows in all) scaled to the test split."""
    if not ranked:
        return 0.0
    best = ranked[0]
    fits = [f["fit_time_s"] for f in best["folds"]]
    fit = float(np.median(fits))  # the first fold pays warm-up costs
    fold_rows = best["cv_rows"] * (best["cv_folds"] - 1) / best["cv_folds"]
    scoring = max(best["wall_s"] - sum(fits), 0.0) * n_test / best["cv_rows"]
    return REFIT_MARGIN * (fit * (n / max(fold_rows, 1)) ** SCALING + scoring) + REFIT_FIXED_S


def _ranked(results: list[dict[str, Any]], task: str) -> list[dict[str, Any]]:
    primary = PRIMARY[task]
    ok = [r for r in results if "folds" in r]
    return sorted(ok, key=lambda r: float(np.mean([f[primary] for f in r["folds"]])), reverse=True)


def _latest_first(done: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One result per model: its last round's."""
    last: dict[str, dict[str, Any]] = {}
    for result in done:
        last[result["model"]] = result
    return sorted(last.values(), key=lambda r: -r["round"])


def _skip(out: Screening, key: str, reason: str) -> None:
    out.skipped.append({"model": key, "label": label(key), "reason": reason})


def _note_skipped(out: Screening) -> None:
    if out.skipped:
        names = ", ".join(s["label"] for s in out.skipped)
        out.notes.append(f"Skipped (time budget spent): {names}. Raise the time budget to include them.")
