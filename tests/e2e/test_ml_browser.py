"""Browser: upload a CSV, train in compare mode, open the best model, download predictions for a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import upload_dataset, wait_for_app

pytestmark = pytest.mark.e2e


def churn_csv(path: Path, rows: int, *, with_target: bool = True) -> Path:
    rng = np.random.default_rng(rows)
    frame = pd.DataFrame({"tenure": rng.integers(1, 60, rows), "plan": rng.choice(["basic", "pro"], rows),
                          "charges": rng.normal(50, 10, rows).round(1)})
    if with_target:
        frame["churn"] = np.where(frame["tenure"] < 25, "yes", "no")
    frame.to_csv(path, index=False)
    return path


def test_compare_open_best_and_download_predictions(app, page, tmp_path: Path) -> None:
    # Given a churn table imported through the Datasets page
    upload_dataset(page, app, churn_csv(tmp_path / "churn.csv", 60), shows="basic")
    # When every classifier is compared with 3-fold CV as a job
    page.goto(app.page_url("Models"))
    wait_for_app(page)
    page.get_by_label("CV folds").fill("3")
    page.get_by_role("button", name="Train", exact=True).click()
    # Then the leaderboard appears and the best model opens with its evaluation
    page.get_by_role("button", name="Open the best model").click(timeout=180_000)
    wait_for_app(page)
    page.get_by_role("button", name="Download model (.skops)").wait_for(timeout=60_000)
    assert page.get_by_text("Confusion matrix").count() >= 1
    # When a file of new rows is uploaded on the Predict section
    page.locator('[data-testid="stRadio"]').first.get_by_text("Predict", exact=True).click()
    wait_for_app(page)
    new_rows = churn_csv(tmp_path / "new.csv", 7, with_target=False)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(new_rows))
    page.get_by_role("button", name="Predict", exact=True).click()
    # Then the predictions download as a CSV with a prediction per row
    button = page.get_by_role("button", name="Download predictions (CSV)")
    button.wait_for(timeout=60_000)
    with page.expect_download() as info:
        button.click()
    result = pd.read_csv(info.value.path())
    assert len(result) == 7 and set(result["prediction"]) <= {"yes", "no"}
    assert {"probability_yes", "probability_no"} <= set(result.columns)
    assert list(result.columns[:3]) == ["prediction", "probability_no", "probability_yes"]
    # And the predictions are explained (SHAP waterfall of the first row)
    assert page.get_by_text("Why this prediction (SHAP)").count() >= 1


def test_predict_upload_reads_semicolon_latin1_and_refuses_junk(app, page, tmp_path: Path, monkeypatch) -> None:
    # Given a model trained on the churn table, in the app's own DATA_DIR
    from core import datasets, ml
    from core.config import reload_settings
    from core.db import reset_engines

    page.goto(app.page_url("Models"))
    wait_for_app(page)
    monkeypatch.setenv("DATA_DIR", str(app.data_dir))
    reload_settings()
    reset_engines()
    ds = datasets.ingest_file(churn_csv(tmp_path / "churn.csv", 60), name="churn")
    ml.train(ds.id, target="churn", models=["decision_tree"], cv=2)
    page.reload()
    wait_for_app(page)
    page.locator('[data-testid="stRadio"]').first.get_by_text("Predict", exact=True).click()
    wait_for_app(page)
    # When a semicolon-separated Latin-1 file (decimal commas) is uploaded
    rows = tmp_path / "nouveaux.csv"
    rows.write_bytes("tenure;plan;charges;remarque\n12;pro;40,5;café\n50;basic;61,0;thé\n".encode("latin-1"))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(rows))
    page.get_by_text("Ready to predict nouveaux.csv").wait_for(timeout=60_000)
    page.get_by_role("button", name="Predict", exact=True).click()
    # Then both rows are predicted
    page.get_by_role("button", name="Download predictions (CSV)").wait_for(timeout=60_000)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download predictions (CSV)").click()
    result = pd.read_csv(info.value.path())
    assert len(result) == 2 and list(result["remarque"]) == ["café", "thé"]
    # When a binary junk file is uploaded instead
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 40)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(junk))
    page.get_by_text("Ready to predict junk.csv").wait_for(timeout=60_000)  # the server has the new file
    wait_for_app(page)
    page.get_by_role("button", name="Predict", exact=True).click()
    # Then a clear message names the problem (no codec error)
    page.get_by_text("its content looks binary").wait_for(timeout=60_000)
    assert page.get_by_text("codec").count() == 0
