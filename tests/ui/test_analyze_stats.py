"""AppTests for the Hypothesis tests tab of the Analyze page: run, read, save, batch, plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import datasets, stats

ROOT = Path(__file__).resolve().parents[2]
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def analyze() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/3_Analyze.py"), default_timeout=60)


@pytest.fixture
def sleep_dataset(tmp_path: Path):
    """R's sleep data as a stored dataset, plus a column with only two values."""
    path = tmp_path / "sleep.csv"
    rows = [f"{v},{g},{i + 1},{'1.5' if i < 2 and g == 1 else ''}"
            for g, values in ((1, SLEEP_1), (2, SLEEP_2)) for i, v in enumerate(values)]
    path.write_text("extra,group,id,few\n" + "\n".join(rows) + "\n")
    return datasets.ingest_file(path, name="sleep")


def run_welch(at: AppTest) -> AppTest:
    at.selectbox(key="stats-test").select("ttest_ind").run()
    at.selectbox(key="stats-value").select("extra")
    at.selectbox(key="stats-group").select("group")
    return at.button(key="stats-run").click().run()


def test_without_datasets_the_tab_guides_to_import_and_still_plans_power() -> None:
    at = analyze().run()
    assert not at.exception
    assert any("No datasets yet" in i.value for i in at.info)
    assert any(m.label == "Required n" for m in at.metric)


def test_welch_t_test_shows_r_numbers_conclusion_and_chart(sleep_dataset) -> None:
    # Given R's sleep data; When a Welch t-test of extra by group runs from the tab
    at = run_welch(analyze().run())
    # Then the metrics show R's t and p-value, a conclusion, the assumption checks and a box plot
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["t"] == "-1.861"
    assert metrics["p-value"] == "0.07939"
    assert metrics["df"] == "17.78"
    assert any("Not significant at α = 0.05" in i.value for i in at.info)
    assert any(d.value.shape[0] == 3 for d in at.dataframe)  # two normality checks and Levene


def test_saving_a_result_lists_it(sleep_dataset) -> None:
    at = run_welch(analyze().run())
    at.button(key="stats-save").click().run()
    assert not at.exception
    saved = stats.list_results(dataset_id=sleep_dataset.id)
    assert len(saved) == 1 and saved[0].test == "ttest_ind"
    assert saved[0].p_value == pytest.approx(0.0793941, abs=1e-7)


def test_a_test_that_cannot_run_shows_a_clear_error(sleep_dataset) -> None:
    # Given a column with two values; When Shapiro-Wilk runs on it
    at = analyze().run()
    at.selectbox(key="stats-test").select("shapiro").run()
    at.selectbox(key="stats-value").select("few")
    at.button(key="stats-run").click().run()
    # Then an analyst-facing error, not a traceback
    assert not at.exception
    assert any("between 3 and 5000 values" in e.value for e in at.error)


def test_batch_of_tests_is_corrected_with_holm(sleep_dataset) -> None:
    at = run_welch(analyze().run())
    at.button(key="stats-batch-add").click().run()
    at.selectbox(key="stats-test").select("mannwhitney").run()
    at.button(key="stats-run").click().run()
    at.button(key="stats-batch-add").click().run()
    at.button(key="stats-batch-run").click().run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "p_adjusted" in d.value.columns)
    assert list(table["test"]) == ["ttest_ind", "mannwhitney"]
    assert (table["p_adjusted"] >= table["p_value"]).all()


def test_power_planner_reproduces_power_t_test(sleep_dataset) -> None:
    at = analyze().run()
    at.number_input(key="stats-power-power").set_value(0.9)
    at.number_input(key="stats-power-delta").set_value(1.0).run()
    assert not at.exception
    metric = next(m for m in at.metric if m.label == "Required n")
    assert metric.value == "23"  # power.t.test(power = .90, delta = 1): n = 22.02110 per group


def test_goodness_of_fit_takes_expected_proportions(tmp_path: Path) -> None:
    # Given 20 A, 15 B and 25 C (?chisq.test's example)
    path = tmp_path / "letters.csv"
    path.write_text("letter\n" + "\n".join(["A"] * 20 + ["B"] * 15 + ["C"] * 25) + "\n")
    datasets.ingest_file(path, name="letters")
    at = analyze().run()
    at.selectbox(key="stats-test").select("chi2_goodness_of_fit").run()
    # When equal proportions are tested, Then R's X-squared = 2.5, p-value = 0.2865
    at.button(key="stats-run").click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["X-squared"], metrics["p-value"]) == ("2.5", "0.2865")
    # When the proportions are typed in badly, Then a clear message
    at.text_input(key="stats-gof-p").input("0.5, x").run()
    assert any("numbers separated by commas" in e.value for e in at.error)


def strong_correlation(tmp_path: Path):
    """bp is bmi plus a little noise: Pearson's p-value is far below 2.2e-16."""
    path = tmp_path / "diabetes.csv"
    path.write_text("bmi,bp\n" + "\n".join(f"{i},{2 * i + (i % 3) / 10}" for i in range(60)) + "\n")
    return datasets.ingest_file(path, name="diabetes")


def saved_table(at: AppTest):
    return next(d for d in at.dataframe if "p-value" in d.value.columns and "title" in d.value.columns)


def test_saved_results_show_short_numbers_and_a_title_with_the_columns(tmp_path: Path) -> None:
    # Given a Pearson correlation with a p-value far below machine precision, run from the tab
    ds = strong_correlation(tmp_path)
    at = analyze().run()
    at.selectbox(key="stats-test").select("pearson").run()
    at.selectbox(key="stats-x").select("bmi")
    at.selectbox(key="stats-y").select("bp")
    at.button(key="stats-run").click().run()
    assert not at.exception
    # Then the metric prints it as R does, and the default title names the test, columns and dataset
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["p-value"] == "< 2.2e-16"
    assert at.text_input(key="stats-save-title").value == "Pearson correlation: bmi vs bp (diabetes)"
    # When it is saved
    at.button(key="stats-save").click().run()
    assert not at.exception
    assert stats.list_results(dataset_id=ds.id)[0].title == "Pearson correlation: bmi vs bp (diabetes)"
    # Then the saved-results table keeps numbers (sortable) shown to 4 significant digits
    table = saved_table(at)
    assert table.value["p-value"].iloc[0] < 2.2e-16
    config = json.loads(table.proto.columns)
    for column in ("p-value", "statistic", "effect size"):
        assert config[column]["type_config"]["format"] == "%.4g", column


def test_the_title_follows_the_result_on_screen(sleep_dataset) -> None:
    at = run_welch(analyze().run())
    assert at.text_input(key="stats-save-title").value == "Two-sample t-test: extra by group (sleep)"
    at.selectbox(key="stats-test").select("mannwhitney").run()
    at.button(key="stats-run").click().run()
    assert at.text_input(key="stats-save-title").value.startswith("Mann-Whitney U")


def test_batch_results_keep_numbers_shown_to_four_significant_digits(sleep_dataset) -> None:
    at = run_welch(analyze().run())
    at.button(key="stats-batch-add").click().run()
    at.button(key="stats-batch-run").click().run()
    assert not at.exception
    table = next(d for d in at.dataframe if "p_adjusted" in d.value.columns)
    assert table.value["p_value"].dtype.kind == "f"  # numbers, so the column sorts
    config = json.loads(table.proto.columns)
    assert {c: config[c]["type_config"]["format"] for c in ("statistic", "p_value", "p_adjusted")} == {
        "statistic": "%.4g", "p_value": "%.4g", "p_adjusted": "%.4g"}
