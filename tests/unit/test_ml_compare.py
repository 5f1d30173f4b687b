"""Compare mode: the wall-time budget, the models it leaves out, and screening on samples on large data."""

from __future__ import annotations

import math
import time

import pytest

from core import ml
from core.errors import InvalidInput
from tests.unit.test_ml import churn, run_rows, store


def slow_first_fold(seconds: float, points: list[dict]):
    """A progress callback that records every fold point and sleeps after the first (a slow first model)."""

    def progress(fraction=None, message=None, metrics=None) -> None:
        if metrics:
            points.append(metrics)
            if metrics["step"] == 1:
                time.sleep(seconds)

    return progress


def test_small_data_compares_every_model_with_k_folds_on_all_rows() -> None:
    # Given a small table (far below the large-data threshold)
    ds = store(churn())
    # When compare mode runs with its default budget
    run = ml.train(ds, target="churn", cv=3)
    # Then every applicable model has a row scored with 3 folds on the whole training split, none skipped
    assert {r["model"] for r in run.leaderboard} == set(ml.available_models("classification"))
    assert all("cv_rows" not in r for r in run.leaderboard)
    assert run.params["time_budget"] == 60 and run.params["skipped"] == []
    assert run.params["rounds"] == [{"rows": 64, "folds": 3, "models": ml.available_models("classification")}]
    assert len(run.params["curves"]) == 3 * len(ml.available_models("classification"))


def test_a_spent_budget_skips_the_remaining_models_and_says_which_and_why() -> None:
    # Given a budget of 1 s and a first model that takes longer than that
    ds = store(churn())
    points: list[dict] = []
    # When compare mode runs
    run = ml.train(ds, target="churn", cv=2, time_budget=1, progress=slow_first_fold(1.2, points))
    # Then the first model is trained and is the best, and every other one is listed as skipped with the reason
    first, *others = ml.available_models("classification")
    assert [r["model"] for r in run.leaderboard] == [first] and run.leaderboard[0]["best"]
    assert [s["model"] for s in run.params["skipped"]] == others
    assert all("time budget of 1 s spent" in s["reason"] for s in run.params["skipped"])
    assert any(n.startswith("Skipped (time budget spent): Random forest,") for n in run.notes)
    assert [p["model"] for p in points] == [first, first] and run.best_model_id is not None


def test_explicit_models_all_train_whatever_the_budget() -> None:
    ds = store(churn())
    points: list[dict] = []
    run = ml.train(ds, target="churn", models=["decision_tree", "knn"], cv=2, time_budget=1,
                   progress=slow_first_fold(1.2, points))
    assert [p["model"] for p in points] == ["decision_tree", "decision_tree", "knn", "knn"]
    assert run.params["skipped"] == [] and run.params["time_budget"] is None


def test_large_data_screens_on_growing_samples_then_refits_the_best_on_every_row() -> None:
    # Given 1,000 rows (800 to train) and a large-data threshold of 200 rows
    ds = store(churn(1000, seed=2))
    points: list[dict] = []
    fractions: list[float] = []

    def progress(fraction=None, message=None, metrics=None) -> None:
        fractions.append(fraction)
        if metrics:
            points.append(metrics)

    # When compare mode runs without a time limit, with tuning
    run = ml.train(ds, target="churn", cv=5, time_budget=None, large_rows=200, tune_seconds=1, progress=progress)
    # Then the slow families are left out, and 5 models are screened with 3 folds on 40 rows, the better
    # 3 on 160, the better 2 on 640 (successive halving)
    assert "leaves out the slow models (svm, knn, mlp)" in " ".join(run.notes)
    assert [(r["rows"], r["folds"], len(r["models"])) for r in run.params["rounds"]] == [(40, 3, 5), (160, 3, 3),
                                                                                         (640, 3, 2)]
    assert run.params["rounds"][0]["models"][0] == "logistic_regression"  # the cheap families first
    survivors = run.params["rounds"][-1]["models"]
    assert set(survivors) <= set(run.params["rounds"][1]["models"]) <= set(run.params["rounds"][0]["models"])
    # And each model's row holds its last round's score; the best is the top of the last round
    rows = {r["label"]: r for r in run.leaderboard}
    assert all(r["cv_folds"] == 3 and r["cv_rows"] in (40, 160, 640) for r in rows.values())
    best = next(r for r in run.leaderboard if r["best"])
    last = [r for r in run.leaderboard if r["cv_rows"] == 640]
    assert best["cv_rows"] == 640 and best["accuracy_mean"] == max(r["accuracy_mean"] for r in last)
    assert {r["model"] for r in last if not r["tuned"]} == set(survivors)
    # And the kept model is refitted on all 800 training rows and scored on the 200 held out
    model = ml.get_model(run.best_model_id)
    assert model.metrics["n_train"] == 800 and model.metrics["n_test"] == 200
    # And the folds still report progress: one point per fold fit, screening and tuning alike
    assert len([p for p in points if "(tuned)" not in p["model"]]) == 3 * (5 + 3 + 2)
    assert all({"model", "fold", "accuracy", "fit_time_s"} <= set(p) for p in points)
    screening = fractions[:1 + 3 * (5 + 3 + 2)]  # the start, then one per screening fold (tuning adds its own)
    assert screening == sorted(screening) and screening[-1] == pytest.approx(0.9)
    assert "screened the models with 3-fold CV on stratified samples of 40 → 160 → 640 rows" in " ".join(run.notes)


def test_a_budget_too_small_for_the_next_round_keeps_the_scores_from_the_last_one() -> None:
    # Given large data (for a threshold of 200 rows) and a 1 s budget spent by the first model
    ds = store(churn(1000, seed=2))
    run = ml.train(ds, target="churn", cv=5, time_budget=1, large_rows=200,
                   progress=slow_first_fold(1.2, []))
    # Then only the first (cheapest) model was screened, the others are listed as skipped, and it is kept
    assert [r["model"] for r in run.leaderboard] == ["logistic_regression"]
    assert all("during screening on 40 rows" in s["reason"] for s in run.params["skipped"])
    assert len(run.params["skipped"]) == 4 and ml.get_model(run.best_model_id).metrics["n_train"] == 800


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"time_budget": 0}, "between 1 and 86,400 seconds"),
    ({"time_budget": -5}, "between 1 and 86,400 seconds"),
    ({"time_budget": 86_401}, "between 1 and 86,400 seconds"),
    ({"time_budget": math.nan}, "between 1 and 86,400 seconds"),
    ({"time_budget": "soon"}, "must be a number of seconds"),
    ({"large_rows": 5}, "at least 20 rows"),
], ids=["zero", "negative", "over-a-day", "nan", "text", "tiny-threshold"])
def test_bad_budget_or_threshold_is_refused_before_training(kwargs, words) -> None:
    ds = store(churn())
    with pytest.raises(InvalidInput, match=words):
        ml.train(ds, target="churn", cv=2, **kwargs)
    if "time_budget" in kwargs:
        with pytest.raises(InvalidInput, match=words):
            ml.check_training(ds, target="churn", cv=2, **kwargs)
    assert run_rows() == 0 and ml.list_models() == []
