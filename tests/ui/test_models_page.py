"""AppTest: the Models page trains through a job, shows the leaderboard, opens the best model, predicts."""

from __future__ import annotations

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
    # When the page opens with that target selected
    at = page().run()
    # Then the problem is shown and there is no Train button
    assert not at.exception
    assert any(words in e.value for e in at.error)
    assert not [b for b in at.button if b.key == "ml-train"]
    assert jobs.list_jobs() == []
