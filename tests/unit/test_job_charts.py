"""The Jobs page's chart, duration and output links, chosen per job kind without Streamlit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.db import utcnow
from core.models import Job
from ui.job_charts import choose_chart, format_duration, job_figure, job_outputs

TRAINING = [{"step": i * 2 + f, "model": m, "fold": f, "accuracy": 0.8 + 0.05 * i + 0.01 * f, "fit_time_s": 0.3}
            for i, m in enumerate(["logistic_regression", "random_forest"]) for f in (1, 2, 3)]
SLEEP = [{"step": i, "t": 0.2 * i, "ts": 1.7e9 + 0.2 * i} for i in range(5)]
EPOCHS = [{"epoch": e, "loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1), "accuracy": 0.5 + e / 20} for e in range(6)]


def job(kind: str, metrics: list[dict], result: dict | None = None, **values) -> Job:
    return Job(kind=kind, metrics=metrics, result=result, **values)


def test_training_plots_the_cv_score_per_model_and_fold_not_the_row_index() -> None:
    choice = choose_chart("ml.train", TRAINING, {"primary_metric": "accuracy"})
    assert (choice.style, choice.x, choice.y) == ("cv_scores", "model", ("accuracy",))
    fig = job_figure(job("ml.train", TRAINING, {"primary_metric": "accuracy"}))
    strip = fig.data[0]
    assert sorted(set(strip.x)) == ["logistic_regression", "random_forest"]
    assert len(strip.y) == 6 and "fit_time_s" not in {t.name for t in fig.data}
    assert "step" not in fig.layout.title.text and "accuracy" in fig.layout.title.text
    assert list(fig.data[-1].x) == ["random_forest", "logistic_regression"], "models sorted by mean score"


@pytest.mark.parametrize("primary", ["r2", None])
def test_training_finds_its_metric_without_or_with_a_stale_primary(primary: str | None) -> None:
    points = [{"step": 1, "model": "ridge", "fold": 1, "r2": 0.7, "fit_time_s": 0.1}]
    choice = choose_chart("ml.train", points, {"primary_metric": primary} if primary else None)
    assert choice.y == ("r2",)


def test_deep_learning_plots_loss_per_epoch() -> None:
    choice = choose_chart("dl.train", EPOCHS)
    assert (choice.style, choice.x, choice.y) == ("loss_curve", "epoch", ("loss", "val_loss"))
    fig = job_figure(job("dl.train", EPOCHS))
    assert [t.name for t in fig.data] == ["loss", "val_loss"] and list(fig.data[0].x) == list(range(6))


def test_other_jobs_plot_progress_over_time() -> None:
    choice = choose_chart("diagnostics.sleep", SLEEP)
    assert (choice.style, choice.x, choice.y) == ("progress", "t", ("step",))
    fig = job_figure(job("diagnostics.sleep", SLEEP))
    assert fig.layout.xaxis.title.text == "seconds since start"


@pytest.mark.parametrize("points", [[], [{"step": 0, "t": 0.0}], [{"note": "x"}, {"note": "y"}],
                                    [{"model": "m", "fold": 1, "fit_time_s": 0.1}]])
def test_nothing_worth_plotting_gives_no_chart(points: list[dict]) -> None:
    assert choose_chart("profile", points) is None
    assert job_figure(job("profile", points)) is None


def test_outputs_link_to_the_model_dataset_version_and_document() -> None:
    trained = job_outputs(job("ml.train", [], {"run_id": "r1", "best_model_id": "m1"}))
    assert [(o.target, o.ref, o.label) for o in trained] == [("model", "m1", "Open the best model")]
    profiled = job_outputs(job("profile", [], {"dataset_id": "d1", "version": 3}))
    assert [(o.target, o.ref, o.version) for o in profiled] == [("dataset", "d1", 3)]
    assert "profile" in profiled[0].label and "version 3" in profiled[0].label
    imported = job_outputs(job("datasets.import_database", [], {"dataset_id": "d2", "name": "sales"}))
    assert imported[0].label == "Open sales"
    indexed = job_outputs(job("rag.index", [], {"document_id": "doc1", "name": "report.pdf"}))
    assert [(o.target, o.ref) for o in indexed] == [("document", "doc1")]
    assert job_outputs(job("diagnostics.sleep", [], {"steps": 3})) == []
    assert job_outputs(job("ml.train", [], None)) == []


def test_duration_is_start_to_finish_and_readable() -> None:
    start = utcnow() - timedelta(minutes=5)
    done = job("x", [], started=start, finished=start + timedelta(seconds=125))
    assert done.duration_s == 125 and format_duration(done.duration_s) == "2 min 05 s"
    assert job("x", []).duration_s is None and format_duration(None) == "—"
    assert format_duration(4.25) == "4.2 s" and format_duration(3725) == "1 h 02 min"
