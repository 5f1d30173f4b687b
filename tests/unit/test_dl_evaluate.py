"""dl.evaluate: a network's own held-out split rebuilt, the training metrics again, and core.ml's figures per task."""

from __future__ import annotations

import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from core import datasets, dl, ml, storage
from core.errors import ModelError, NotFound
from tests.unit.test_dl_train import TINY, pixels, series, store, table, texts

torch.set_num_threads(1)
CLASSIFIER = ["Confusion matrix", "ROC curve", "Precision-recall curve"]
RESIDUALS = ["Residuals", "Residual distribution"]


def titles(evaluation: ml.Evaluation) -> dict[str, str]:
    return {name: fig.layout.title.text for name, fig in evaluation.figures.items()}


def same_metrics(stored: dict, again: dict) -> None:
    assert set(again) == set(stored), (stored, again)
    for name, value in stored.items():
        if value is None:
            assert again[name] is None, name
        else:
            assert math.isclose(again[name], value, rel_tol=1e-4, abs_tol=1e-6), (name, value, again[name])


CASES = [  # framework, architecture, data, target, task, options, figures
    ("pytorch", "mlp", table, "label", None, {}, CLASSIFIER),
    ("pytorch", "mlp", table, "a", "regression", {}, ["Predicted vs actual", *RESIDUALS]),
    ("pytorch", "lstm", texts, "sentiment", "text_classification", {"sequence_length": 6}, CLASSIFIER),
    ("pytorch", "gru", series, "sales", None, {"window": 6, "horizon": 2}, ["Forecast vs actual", *RESIDUALS]),
    ("pytorch", "autoencoder", table, "label", None, {}, ["Anomaly scores", *CLASSIFIER]),
    ("pytorch", "autoencoder", table, None, None, {}, ["Anomaly scores"]),
    ("tensorflow", "cnn", pixels, "digit", "image_classification", {"image_shape": [4, 4]}, CLASSIFIER),
]


@pytest.mark.parametrize(("framework", "architecture", "make", "target", "task", "options", "figures"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_evaluation_repeats_the_training_metrics_and_draws_the_task_figures(framework, architecture, make, target,
                                                                            task, options, figures) -> None:
    # Given a network trained on a tiny dataset
    ds = store(make(), f"{architecture}-{target}")
    run = dl.train(ds, architecture=architecture, framework=framework, task=task, target=target, epochs=2,
                   batch_size=16, learning_rate=0.01, options={**TINY, **options})
    # When it is evaluated from its stored row and file
    evaluation = dl.evaluate(run.model_id)
    # Then the rebuilt test split scores as training scored it, and the task's figures are drawn
    same_metrics(ml.get_model(run.model_id).metrics["test"], evaluation.metrics)
    assert list(evaluation.figures) == figures
    assert all(title for title in titles(evaluation).values())
    assert any(f"{ml.get_model(run.model_id).metrics['n_test']} " in note for note in evaluation.notes)


def test_forecast_figure_draws_the_test_windows_over_the_actual_series() -> None:
    ds = store(series(), "series")
    run = dl.train(ds, architecture="gru", target="sales", epochs=1, options={**TINY, "window": 6, "horizon": 3})
    fig = dl.evaluate(run.model_id).figures["Forecast vs actual"]
    n_test = ml.get_model(run.model_id).metrics["n_test"]
    actual, first, last = fig.data
    assert [t.name for t in fig.data] == ["actual", "forecast t+1", "forecast t+3"]
    assert len(first.x) == len(last.x) == n_test and len(actual.x) == n_test + 2
    assert first.x[0] == actual.x[0] and last.x[-1] == actual.x[-1]  # t+3 of the last window is the last step


def test_anomaly_histogram_marks_the_stored_threshold() -> None:
    ds = store(table(), "anomalies")
    run = dl.train(ds, architecture="autoencoder", epochs=1, options=TINY)
    fig = dl.evaluate(run.model_id).figures["Anomaly scores"]
    threshold = ml.get_model(run.model_id).feature_schema["threshold"]
    assert [s.x0 for s in fig.layout.shapes] == [pytest.approx(threshold)]


def test_a_gan_has_no_new_figures_and_points_to_its_fidelity_report() -> None:
    ds = store(table(), "gan")
    run = dl.train(ds, architecture="gan", epochs=1, batch_size=16, options=TINY)
    evaluation = dl.evaluate(run.model_id)
    assert evaluation.figures == {} and evaluation.metrics == run.metrics
    assert any("fidelity" in note for note in evaluation.notes)


def test_unknown_and_classical_models_are_refused() -> None:
    with pytest.raises(NotFound, match="No model"):
        dl.evaluate("00000000-0000-0000-0000-000000000000")
    ds = store(table(), "classical")
    classical = ml.train(ds, target="label", models=["logistic_regression"], cv=2).best_model_id
    with pytest.raises(ModelError, match="classical model, not a network") as info:
        dl.evaluate(classical)
    assert "core.ml.evaluate" in info.value.hint


def test_a_deleted_dataset_is_named_as_the_reason() -> None:
    ds = store(table(), "gone")
    run = dl.train(ds, architecture="mlp", target="label", epochs=1, options=TINY)
    datasets.delete_dataset(ds)
    with pytest.raises(ModelError, match="has been deleted; evaluation needs it"):
        dl.evaluate(run.model_id)


def test_a_dataset_whose_trained_version_is_gone_and_changed_is_refused() -> None:
    # Given a network, then a new version of its dataset with more rows, and the trained version's file lost
    ds = store(table(), "changed")
    run = dl.train(ds, architecture="mlp", target="label", epochs=1, options=TINY)
    bigger = pa.Table.from_pandas(table(90), preserve_index=False)
    datasets.versions.add_version(ds, lambda tmp: pq.write_table(bigger, tmp), step={"op": "test"}, summary="more")
    storage.dataset_file(ds, 1).unlink()
    # Then evaluation says the split cannot be rebuilt instead of scoring other rows
    with pytest.raises(ModelError, match="no longer gives the test split"):
        dl.evaluate(run.model_id)
