"""AppTest: the Models page trains through a job, shows the leaderboard, opens the best model, predicts."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import jobs
from core import datasets, ml
from ui.ml_view import MLKeys

ROOT = Path(__file__).resolve().parents[2]


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/4_Models.py"), default_timeout=60)


def seed_dataset() -> str:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.integers(1, 60, 60), "plan": rng.choice(["basic", "pro"], 60)})
    frame["churn"] = np.where(frame["tenure"] < 25, "yes", "no")
    return str(datasets.store_table(pa.Table.from_pandas(frame), name="churn", source="test").id)


def test_without_datasets_the_page_guides_to_import() -> None:
    at = page().run()
    assert not at.exception
    assert any("No datasets yet" in i.value for i in at.info)


def test_train_open_best_model_and_predict_one_row() -> None:
    # Given a dataset
    seed_dataset()
    at = page().run()
    assert not at.exception
    # When two models are trained through the form (a job) and the job finishes
    at.selectbox(key="ml-target").select("churn")
    at.multiselect(key="ml-models").select("logistic_regression").select("decision_tree")
    at.number_input(key="ml-cv").set_value(2)
    assert at.number_input(key="ml-budget").value == 60  # compare mode's budget, shown with its default
    at.button(key="ml-train").click().run()
    jobs.wait_idle(60)
    at.run()
    # Then the leaderboard shows both models with the best marked
    assert not at.exception, at.exception
    board = at.dataframe[0].value  # the leaderboard (dataframes carry no key in AppTest)
    assert set(board["model"]) == {"Logistic regression", "Decision tree"}
    assert (board[""] == "🏆").sum() == 1
    # When the best model is opened
    at.button(key="ml-open-best").click().run()
    assert not at.exception, at.exception
    assert at.radio(key=MLKeys.SECTION).value == "Models"
    assert {m.label for m in at.metric} >= {"accuracy", "f1", "roc_auc"}
    assert len(at.get("plotly_chart")) >= 4  # confusion matrix, ROC, PR, importance
    assert any("SHAP" in c.value for c in at.caption)
    # And a one-row prediction is made from the form
    at.radio(key=MLKeys.SECTION).set_value("Predict").run()
    at.radio(key="ml-predict-mode").set_value("Fill one row").run()
    at.button(key="ml-predict-form-run").click().run()
    assert not at.exception, at.exception
    result = at.dataframe[-1].value
    assert result.loc[0, "prediction"] in {"yes", "no"} and "probability_yes" in result


def test_delete_model_from_the_detail_view() -> None:
    run = ml.train(seed_dataset(), target="churn", models=["decision_tree"], cv=2)
    at = page()
    at.session_state[MLKeys.SECTION] = "Models"
    at.run()
    assert not at.exception, at.exception
    at.button(key="ml-delete").click().run()
    assert not at.exception
    assert ml.list_models() == [] and run.best_model_id is not None
    assert any("No models yet" in i.value for i in at.info)


@pytest.mark.parametrize(("extra", "words"), [
    ({"churn": "no"}, "only one class"),
    ({"customer_id": [f"C{i}" for i in range(60)]}, "looks like an identifier"),
], ids=["one-class", "id-target"])
def test_a_bad_target_is_explained_before_anything_is_submitted(extra: dict, words: str) -> None:
    # Given a dataset whose last column cannot be a target
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"tenure": rng.integers(1, 60, 60), "churn": rng.choice(["yes", "no"], 60)}).assign(**extra)
    datasets.store_table(pa.Table.from_pandas(frame), name="bad", source="test")
    # When the page opens and that target is selected
    at = page().run()
    at.selectbox(key="ml-target").select(frame.columns[-1]).run()
    # Then the problem is shown and there is no Train button
    assert not at.exception
    assert any(words in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "ml-train"]
    assert jobs.list_jobs() == []


def charts(at: AppTest) -> dict[str, dict]:
    """The Plotly figures on the page by title."""
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {f["layout"].get("title", {}).get("text", ""): f for f in figures}


def test_no_red_error_before_a_target_is_chosen() -> None:
    # Given a newest dataset whose last column has a value in 4 rows only (too few to be a target)
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"size": rng.normal(10, 2, 40), "kind": rng.choice(["a", "b"], 40),
                          "score": [1.0, 2.0, 3.0, 4.0] + [None] * 36})
    datasets.store_table(pa.Table.from_pandas(frame), name="sparse", source="test")
    # When the Models page opens
    at = page().run()
    # Then it asks for a target instead of greeting with an error, and offers no Train button yet
    assert not at.exception
    assert at.error.len == 0, [e.value for e in at.error]
    assert at.selectbox(key="ml-target").value is None
    assert any("Choose the target" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "ml-train"]
    # And choosing a usable target shows the plan and the Train button
    at.selectbox(key="ml-target").select("kind").run()
    assert not at.exception and at.error.len == 0
    assert [b for b in at.button if b.key == "ml-train"]


def test_fold_chart_has_whole_fold_ticks_and_every_model_in_its_legend() -> None:
    # Given a finished training job of five models with 3-fold CV
    ds = seed_dataset()
    keys = ["logistic_regression", "decision_tree", "random_forest", "knn", "xgboost"]
    job = jobs.submit("ml.train", title="Train churn", dataset_id=ds, target="churn", task=None, models=keys,
                      cv=3, tune_seconds=0)
    jobs.wait_idle(120)
    at = page()
    at.session_state[MLKeys.JOB] = str(job.id)
    at.run()
    assert not at.exception, at.exception
    # Then the per-fold chart ticks whole folds and its legend (under the chart) names every model
    fig = charts(at)["Cross-validation accuracy per fold"]
    assert fig["layout"]["xaxis"]["dtick"] == 1 and fig["layout"]["xaxis"]["tickformat"] == "d"
    assert fig["layout"]["legend"]["orientation"] == "h"
    assert {t["name"] for t in fig["data"]} == {"Logistic regression", "Decision tree", "Random forest",
                                                "k-nearest neighbours", "XGBoost"}
    assert fig["layout"]["height"] >= 300 + 26 * 2


def test_permutation_importance_labels_every_feature() -> None:
    # Given a model with 18 features
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(120, 18)), columns=[f"feature_{i:02d}" for i in range(18)])
    frame["y"] = frame["feature_00"] * 3 + rng.normal(size=120)
    ds = datasets.store_table(pa.Table.from_pandas(frame), name="wide", source="test")
    ml.train(ds.id, target="y", models=["ridge"], cv=2)
    # When its detail view opens
    at = page()
    at.session_state[MLKeys.SECTION] = "Models"
    at.run()
    assert not at.exception, at.exception
    # Then the importance chart lists all 18 features as tick labels, with room for each
    fig = charts(at)["Permutation importance (drop in score when shuffled)"]
    assert sorted(fig["layout"]["yaxis"]["ticktext"]) == sorted(frame.columns[:-1])
    assert fig["layout"]["height"] >= 18 * 20


def test_model_page_shows_shap_summary_and_explains_a_prediction() -> None:
    # Given a trained random forest
    run = ml.train(seed_dataset(), target="churn", models=["random_forest"], cv=2)
    at = page()
    at.session_state[MLKeys.SECTION] = "Models"
    at.run()
    assert not at.exception, at.exception
    # Then the model view shows the SHAP bar and beeswarm charts with the sample it used
    titles = set(charts(at))
    assert {"Mean |SHAP value| (probability of 'yes')", "SHAP values per row (probability of 'yes')"} <= titles
    assert any("SHAP values (tree explainer) of 12 row(s)" in c.value for c in at.caption)
    # When a one-row prediction is made
    at.radio(key=MLKeys.SECTION).set_value("Predict").run()
    at.radio(key="ml-predict-mode").set_value("Fill one row").run()
    at.button(key="ml-predict-form-run").click().run()
    assert not at.exception, at.exception
    # Then a waterfall explains it, for the predicted class
    predicted = at.dataframe[-1].value.loc[0, "prediction"]
    waterfall = [f for t, f in charts(at).items() if t.startswith("Why this prediction")]
    assert waterfall and waterfall[0]["data"][0]["type"] == "waterfall"
    assert f"probability of {predicted!r}" in waterfall[0]["layout"]["title"]["text"]
    assert run.best_model_id is not None



def test_an_old_pickle_model_is_refused_on_the_page_and_can_still_be_deleted() -> None:
    # Given a model whose file is a pickle (as earlier versions saved them), its sha256 matching
    import hashlib
    import pickle

    from core.db import session
    from core.ml import artifacts
    from core.models.ml import MLModel

    run = ml.train(seed_dataset(), target="churn", models=["decision_tree"], cv=2)
    model = ml.get_model(run.best_model_id)
    blob = pickle.dumps({"an": "old model"})
    artifacts.artifact_file(model).write_bytes(blob)
    with session() as s:
        row = s.get(MLModel, model.id)
        row.sha256 = hashlib.sha256(blob).hexdigest()
        s.add(row)
    # When its detail view opens
    at = page()
    at.session_state[MLKeys.SECTION] = "Models"
    at.run()
    # Then the page says why it is not opened and what to do, and the Delete button still works
    assert not at.exception, at.exception
    assert any("old pickle format" in e.value and "Train the model again" in e.value for e in at.error)
    at.button(key="ml-delete").click().run()
    assert not at.exception and ml.list_models() == []


def test_models_left_out_by_the_time_budget_are_listed_with_the_reason() -> None:
    # Given a compare-mode run whose 1 s budget was spent by its first model
    def slow_first(fraction=None, message=None, metrics=None) -> None:
        if metrics and metrics["step"] == 1:
            time.sleep(1.2)

    run = ml.train(seed_dataset(), target="churn", cv=2, time_budget=1, progress=slow_first)
    assert run.params["skipped"]
    # When its model is shown on the Models section
    at = page()
    at.session_state[MLKeys.SECTION] = "Models"
    at.run()
    # Then a warning lists every model left out and why
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "Not trained" in w.value)
    assert f"Not trained ({len(run.params['skipped'])})" in warning
    assert "**Random forest**: time budget of 1 s spent before it could start" in warning
