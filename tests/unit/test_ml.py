"""core.ml on small data: every model for each task, bad input, prediction, artifacts, progress and cancel."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sqlmodel import select

import jobs
from core import datasets, ml
from core.db import session
from core.errors import InvalidInput, JobCancelled, ModelError, NotFound
from core.ml import artifacts
from core.models.ml import MLModel, TrainingRun


def store(frame: pd.DataFrame, name: str = "data") -> str:
    return str(datasets.store_table(pa.Table.from_pandas(frame, preserve_index=False), name=name, source="test").id)


def churn(rows: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 60, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    charges = rng.normal(50, 15, rows).round(2)
    charges[::9] = np.nan
    churned = np.where(tenure + rng.normal(0, 8, rows) < 25, "yes", "no")
    return pd.DataFrame({"tenure": tenure, "plan": plan, "charges": charges, "churn": churned})


def houses(rows: int = 80, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    area = rng.uniform(40, 200, rows)
    town = rng.choice(["a", "b", "c"], rows)
    price = 3 * area + np.where(town == "a", 100, 0) + rng.normal(0, 10, rows)
    return pd.DataFrame({"area": area, "town": town, "rooms": rng.integers(1, 6, rows), "price": price})


def run_rows() -> int:
    with session() as s:
        return len(s.exec(select(TrainingRun)).all())


@pytest.mark.parametrize("key", ml.available_models("classification"))
def test_each_classifier_trains_and_predicts(key: str) -> None:
    # Given a small binary churn table
    ds = store(churn())
    # When one model is trained with 2-fold CV
    run = ml.train(ds, target="churn", models=[key], cv=2)
    # Then it tops the leaderboard with CV scores, and its predictions carry class probabilities
    row = run.leaderboard[0]
    assert run.task == "classification" and row["model"] == key and row["best"]
    assert 0.4 <= row["accuracy_mean"] <= 1 and row["accuracy_std"] >= 0 and row["fit_time_s_mean"] > 0
    out = ml.predict(run.best_model_id, churn(5, seed=9).drop(columns="churn"))
    assert set(out["prediction"]) <= {"yes", "no"}
    assert np.allclose(out["probability_no"] + out["probability_yes"], 1)


@pytest.mark.parametrize("key", ml.available_models("regression"))
def test_each_regressor_trains_and_predicts(key: str) -> None:
    # Given a small house-price table
    ds = store(houses())
    # When one model is trained
    run = ml.train(ds, target="price", models=[key], cv=2)
    # Then the leaderboard has regression metrics and predictions are numbers
    row = run.leaderboard[0]
    assert run.task == "regression" and run.primary_metric == "r2"
    assert {"r2_mean", "mse_mean", "rmse_mean", "mae_mean"} <= set(row)
    out = ml.predict(run.best_model_id, houses(4, seed=5))
    assert out["prediction"].dtype.kind == "f" and len(out) == 4


def test_compare_mode_multiclass_marks_best_and_evaluates() -> None:
    # Given a three-class table
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 2))
    label = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["red", "green"], "blue")
    ds = store(pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "colour": label}))
    # When a few models are compared
    run = ml.train(ds, target="colour", models=["logistic_regression", "decision_tree", "knn"], cv=3)
    # Then exactly one is best (the highest CV accuracy) and the model row describes itself
    assert sum(r["best"] for r in run.leaderboard) == 1
    assert run.leaderboard[0]["accuracy_mean"] == max(r["accuracy_mean"] for r in run.leaderboard)
    model = ml.get_model(run.best_model_id)
    assert model.feature_schema["classes"] == ["blue", "green", "red"]
    assert {"scikit-learn", "xgboost"} <= set(model.library_versions) and len(model.sha256) == 64
    assert "roc_auc" in model.metrics["test"] and "log_loss" in model.metrics["test"]
    # And evaluation gives the confusion matrix, one-vs-rest ROC, PR curves and importance
    ev = ml.evaluate(model.id)
    assert {"Confusion matrix", "ROC curve", "Precision-recall curve", "Feature importance"} <= set(ev.figures)
    assert set(ev.importance["feature"]) == {"a", "b"}


def test_regression_evaluation_has_residual_plots_and_learning_curve() -> None:
    ds = store(houses(1200))
    run = ml.train(ds, target="price", models=["mlp"], cv=2)
    ev = ml.evaluate(run.best_model_id)
    assert {"Predicted vs actual", "Residuals", "Learning curve"} <= set(ev.figures)
    assert ev.metrics["r2"] > 0.5


def _one_class() -> pd.DataFrame:
    return churn().assign(churn="no")


def _all_missing() -> pd.DataFrame:
    return churn().assign(churn=None)


def _id_target() -> pd.DataFrame:
    frame = churn()
    return frame.assign(customer_id=[f"C{i:04d}" for i in range(len(frame))])


def _few_rows() -> pd.DataFrame:
    return churn(6)


def _no_features() -> pd.DataFrame:
    frame = churn()
    return pd.DataFrame({"row_id": range(len(frame)), "constant": 1, "churn": frame["churn"]})


@pytest.mark.parametrize(("make", "target", "kwargs", "error", "words"), [
    (_one_class, "churn", {}, ModelError, "only one class"),
    (_all_missing, "churn", {}, ModelError, "missing in every row"),
    (_id_target, "customer_id", {}, ModelError, "identifier"),
    (_few_rows, "churn", {"cv": 5}, ModelError, "too few"),
    (_no_features, "churn", {}, ModelError, "No usable feature"),
    (churn, "nope", {}, InvalidInput, "no column"),
    (churn, "churn", {"cv": 1}, InvalidInput, "between 2 and 20 folds"),
    (churn, "churn", {"models": ["linear_regression"]}, InvalidInput, "cannot be used for classification"),
    (churn, "churn", {"task": "regression"}, ModelError, "not numeric"),
    (churn, "churn", {"task": "clustering"}, InvalidInput, "Unknown task"),
], ids=["one-class", "all-missing", "id-target", "fewer-rows-than-folds", "no-usable-feature", "unknown-column",
        "one-fold", "wrong-model-for-task", "text-target-regression", "unknown-task"])
def test_bad_input_is_refused_before_training(make, target, kwargs, error, words) -> None:
    # Given a dataset with a problem
    ds = store(make())
    calls = []
    cv = kwargs.pop("cv", 3)
    # When the request is checked, and when training is asked for
    with pytest.raises(error, match=words):
        ml.check_training(ds, target=target, cv=cv, **kwargs)
    with pytest.raises(error, match=words):
        ml.train(ds, target=target, cv=cv, progress=lambda *a: calls.append(a), **kwargs)
    # Then both refuse with the same message, and nothing was trained or stored
    assert calls == [] and run_rows() == 0 and ml.list_models() == []


def test_high_cardinality_constant_text_and_date_columns_get_notes() -> None:
    # Given a table with a 1,000-category column, a constant, free text and a date
    rows = 1200
    rng = np.random.default_rng(4)  # cities: 1,000 distinct values
    frame = churn(rows).assign(
        city=[f"city{i % 1000}" for i in rng.permutation(rows)],
        country="FR",
        comment=[f"customer wrote a long free-text comment number {i} about the service" for i in range(rows)],
        signup=pd.date_range("2024-01-01", periods=rows, freq="h"),
    )
    ds = store(frame)
    # When a model is trained
    run = ml.train(ds, target="churn", models=["logistic_regression"], cv=2)
    # Then each special column is explained and the date becomes numeric parts
    notes = " ".join(run.notes)
    assert "'city' has 1,000 categories" in notes and "most frequent are one-hot encoded" in notes
    assert "'country' dropped: it is constant" in notes and "'comment' dropped: it is free text" in notes
    kinds = {c["name"]: c["kind"] for c in ml.get_model(run.best_model_id).feature_schema["columns"]}
    assert kinds == {"tenure": "numeric", "plan": "categorical", "charges": "numeric", "city": "categorical",
                     "signup": "datetime"}


def test_check_training_reports_the_plan_without_fitting() -> None:
    ds = store(churn().assign(constant=1))
    check = ml.check_training(ds, target="churn")
    assert check.task == "classification" and check.rows == 80
    assert check.features == ["tenure", "plan", "charges"] and check.dropped[0]["name"] == "constant"
    assert check.models == ml.available_models("classification") and run_rows() == 0


def test_task_override_and_imbalance_option() -> None:
    # Given a whole-number target with few values, and a rare class
    frame = houses().assign(rooms_label=lambda f: f["rooms"])
    ds = store(frame)
    assert ml.train(ds, target="rooms", models=["ridge"], cv=2, task="regression").task == "regression"
    assert ml.train(ds, target="rooms", models=["decision_tree"], cv=2).task == "classification"
    rare = churn(120).assign(churn=lambda f: np.where(np.arange(len(f)) % 10 == 0, "yes", "no"))
    run = ml.train(store(rare, "rare"), target="churn", models=["logistic_regression"], cv=3, imbalance=True)
    assert run.params["imbalance"] is True and run.leaderboard[0]["recall_mean"] >= 0


@pytest.fixture
def trained() -> str:
    return str(ml.train(store(churn()), target="churn", models=["random_forest"], cv=2).best_model_id)


@pytest.mark.parametrize(("frame", "words"), [
    (pd.DataFrame({"tenure": [3], "plan": ["basic"]}), "Missing column"),
    (pd.DataFrame({"tenure": ["ten"], "plan": ["basic"], "charges": [3.0]}), "'tenure' should hold numbers"),
    (pd.DataFrame({"tenure": [], "plan": [], "charges": []}), "no rows"),
], ids=["missing-column", "wrong-type", "empty"])
def test_predict_refuses_bad_rows_clearly(trained: str, frame: pd.DataFrame, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        ml.predict(trained, frame)


def test_predict_warns_on_unseen_categories_and_keeps_extra_columns(trained: str) -> None:
    frame = pd.DataFrame({"tenure": ["12"], "plan": ["platinum"], "charges": [None], "note": ["x"]})
    out = ml.predict(trained, frame)
    assert out.loc[0, "note"] == "x" and out.loc[0, "prediction"] in {"yes", "no"}
    assert "platinum" in out.attrs["warnings"][0]
    assert ml.check_input(trained, frame) == out.attrs["warnings"]


def test_altered_artifact_is_not_loaded_and_delete_removes_it(trained: str) -> None:
    model = ml.get_model(trained)
    path = artifacts.artifact_file(model)
    path.write_bytes(path.read_bytes() + b"tampered")
    with pytest.raises(ModelError, match="changed since it was saved"):
        ml.predict(trained, churn(2))
    ml.delete_model(trained)
    assert not path.exists()
    with pytest.raises(NotFound):
        ml.get_model(trained)


def test_progress_reports_each_fold_and_cancel_stops_training() -> None:
    ds = store(churn())
    points: list[dict] = []
    run = ml.train(ds, target="churn", models=["decision_tree", "knn"], cv=2,
                   progress=lambda f=None, m=None, x=None: x and points.append(x))
    assert [(p["model"], p["fold"]) for p in points] == [("decision_tree", 1), ("decision_tree", 2),
                                                         ("knn", 1), ("knn", 2)]
    assert run.params["curves"] == points

    def cancel_after_two(fraction=None, message=None, metrics=None) -> None:
        if metrics and metrics["step"] >= 2:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        ml.train(ds, target="churn", models=["decision_tree", "knn"], cv=2, progress=cancel_after_two)
    assert run_rows() == 1


def test_tuning_adds_a_tuned_row_within_budget() -> None:
    ds = store(houses())
    run = ml.train(ds, target="price", models=["ridge"], cv=2, tune_seconds=2)
    assert any(r["tuned"] for r in run.leaderboard)
    assert run.duration_s < 30


def test_ml_train_job_runs_on_the_ml_queue() -> None:
    # Given the registered job kind
    from jobs.registry import get_task

    assert get_task("ml.train").queue == "ml_tasks"
    ds = store(churn())
    # When it is submitted the way the assistant does
    job = jobs.submit("ml.train", title="Train churn", dataset_id=ds, target="churn", task=None,
                      models=["logistic_regression", "decision_tree"], cv=2, tune_seconds=0)
    jobs.wait_idle(60)
    # Then it succeeds with the run, the best model and one metrics point per fold
    done = jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert ml.get_model(done.result["best_model_id"]).run_id is not None
    assert len([m for m in done.metrics if "fold" in m]) == 4
    with session() as s:
        assert s.exec(select(MLModel)).first() is not None


# ---- SHAP ---------------------------------------------------------------------------------------

def _margin(pipe, x: pd.DataFrame, key: str, code: int) -> np.ndarray:
    """The model output SHAP explains: class probability (sklearn trees), log-odds, or the prediction."""
    encoded = pipe[:-1].transform(x)
    model = pipe[-1]
    if key in ("random_forest", "decision_tree"):
        return model.predict_proba(encoded)[:, code]
    if key == "xgboost":
        margin = model.predict(encoded, output_margin=True)
        return margin if margin.ndim == 1 else margin[:, code]
    margin = model.decision_function(encoded)
    return margin if margin.ndim == 1 else margin[:, code]


@pytest.mark.parametrize(("key", "make", "target"), [
    ("random_forest", houses, "price"), ("decision_tree", churn, "churn"), ("xgboost", churn, "churn"),
    ("hist_gradient_boosting", houses, "price"), ("linear_regression", houses, "price"),
    ("logistic_regression", churn, "churn"),
], ids=["forest-regression", "tree-classification", "xgboost-classification", "hgb-regression",
        "linear-regression", "logistic-classification"])
def test_shap_values_add_up_to_the_prediction_minus_the_base_value(key, make, target) -> None:
    # Given a trained model (with a one-hot encoded column and missing values in the data)
    from core.ml import explain

    run = ml.train(store(make()), target=target, models=[key], cv=2)
    model = ml.get_model(run.best_model_id)
    rows = make(6, seed=11).drop(columns=target)
    # When the rows are explained
    expl = explain.explain_rows(model.id, rows)
    # Then there is one value per input column (one-hot columns summed back) and they add up
    assert expl.features == [c["name"] for c in model.feature_schema["columns"]]
    assert expl.values.shape == (6, len(expl.features))
    pipe = artifacts.load_pipeline(model)
    x = rows[expl.features]
    if model.task == "regression":
        expected = pipe.predict(x)
    else:
        expected = _margin(pipe, x, key, model.feature_schema["classes"].index(expl.target_class))
    assert np.allclose(expl.base_values + expl.values.sum(axis=1), expected, atol=1e-4)
    assert np.abs(expl.values).sum() > 0


def test_shap_summary_samples_large_test_splits_and_draws_every_label() -> None:
    from core.ml import explain

    run = ml.train(store(churn(3000)), target="churn", models=["decision_tree"], cv=2)
    expl = explain.explain_model(run.best_model_id, rows=200, seconds=120)
    assert len(expl.data) == 200 and expl.total_rows == 600 and expl.sampled
    assert "random sample of 200 of the 600 test rows" in explain.caption(expl)
    assert expl.target_class == "yes" and expl.output == "probability of 'yes'"
    figures = explain.summary_figures(expl)
    assert set(figures) == {"SHAP importance", "SHAP beeswarm"}
    assert list(figures["SHAP importance"].layout.yaxis.ticktext) == list(reversed(
        [expl.features[i] for i in np.argsort(-np.abs(expl.values).mean(axis=0), kind="stable")]))
    no = explain.explain_model(run.best_model_id, rows=200, seconds=120, target_class="no")
    assert np.allclose(no.values, -expl.values)  # two classes: what pushes towards "no" pushes away from "yes"
    waterfall = explain.waterfall_figure(expl, 0)
    assert waterfall.data[0].measure[-1] == "total" and waterfall.data[0].base == pytest.approx(expl.base_values[0])
    with pytest.raises(InvalidInput, match="not a class"):
        explain.explain_model(run.best_model_id, target_class="maybe")
    # And a model too slow for the time budget is explained on fewer rows, which the caption says
    quick = explain.explain_model(run.best_model_id, rows=200, seconds=0)
    assert len(quick.data) == explain.PILOT_ROWS and "sample of 20 of the 600" in explain.caption(quick)


def test_shap_for_a_model_agnostic_explainer_and_multiclass() -> None:
    from core.ml import explain

    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 2))
    label = np.select([x[:, 0] > 0.5, x[:, 1] > 0], ["red", "green"], "blue")
    ds = store(pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "colour": label}))
    run = ml.train(ds, target="colour", models=["knn"], cv=2)
    expl = explain.explain_rows(run.best_model_id, pd.DataFrame({"a": [1.0], "b": [0.2]}), target_class="red")
    proba = ml.predict(run.best_model_id, pd.DataFrame({"a": [1.0], "b": [0.2]}))["probability_red"]
    assert expl.method == "permutation" and np.allclose(expl.outputs, proba, atol=1e-6)


def test_predictions_come_first_and_uploads_are_read_like_imports(trained: str) -> None:
    # Given a semicolon-separated Latin-1 file with the training columns (and a note column)
    data = "note;tenure;plan;charges\ncafé;12;basic;40,5\nthé;50;pro;61,0\n".encode("latin-1")
    # When it is read and predicted
    frame = ml.read_rows(data, "nouveaux clients.csv")
    out = ml.predict(trained, frame)
    # Then the prediction and probabilities are the first columns, the input follows
    assert list(out.columns[:3]) == ["prediction", "probability_no", "probability_yes"]
    assert list(out.columns[3:]) == ["note", "tenure", "plan", "charges"] and out.loc[0, "note"] == "café"


@pytest.mark.parametrize(("data", "name", "words"), [
    (bytes(range(256)) * 20, "junk.csv", "binary"),
    (b"", "empty.csv", "empty"),
    (b"<html><body>no table</body></html>", "page.csv", "web page"),
], ids=["binary-junk", "empty", "html"])
def test_unreadable_prediction_uploads_get_a_clear_message(data: bytes, name: str, words: str) -> None:
    from core.errors import IngestError

    with pytest.raises(IngestError, match=words):
        ml.read_rows(data, name)


def test_ml_modules_import_in_one_direction() -> None:
    # Given the import statements of every core.ml module (lazy ones included)
    import ast
    from pathlib import Path

    root = Path(ml.__file__).parent
    graph = {}
    for path in root.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core.ml."):
                names.add(node.module.removeprefix("core.ml."))
            elif isinstance(node, ast.ImportFrom) and node.module == "core.ml":
                names |= {a.name for a in node.names}
        graph[path.stem] = names & {p.stem for p in root.glob("*.py")}
    # Then no module reaches itself (tune never imports train; __init__ is the facade on top)
    del graph["__init__"]

    def reaches(start: str, node: str, seen: set[str]) -> bool:
        return any(n == start or (n not in seen and reaches(start, n, seen | {n})) for n in graph.get(node, ()))

    assert [m for m in graph if reaches(m, m, set())] == []
    assert "train" not in graph["tune"]



def test_skops_is_imported_only_where_a_model_file_is_written_or_read() -> None:
    # Given every module of core (skops' import walks every scikit-learn estimator: seconds of CPU that
    # a page listing models or training networks need not pay)
    from pathlib import Path

    core = Path(ml.__file__).parents[1]
    # When their module-level imports are read
    eager = [str(path.relative_to(core)) for path in core.rglob("*.py")
             for node in ast.parse(path.read_text()).body
             if isinstance(node, ast.Import | ast.ImportFrom)
             and any(name.split(".")[0] == "skops" for name in _imported(node))]
    # Then none imports skops: it is imported inside the functions that need it
    assert eager == []


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
