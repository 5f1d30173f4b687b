"""core.stats: every test runs on a realistic frame, bad parameters give clear errors, results are saved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import datasets, stats
from core.errors import InvalidInput, StatsError, WorkbenchError


@pytest.fixture
def frame() -> pd.DataFrame:
    """60 rows: numeric before/after, 2- and 3-level groups, two categorical columns, a yes/no outcome."""
    rng = np.random.default_rng(7)
    n = 60
    before = rng.normal(10, 2, n)
    return pd.DataFrame({
        "before": before,
        "after": before + rng.normal(0.8, 1, n),
        "variant": np.repeat(["A", "B"], n // 2),
        "dose": np.tile(["low", "mid", "high"], n // 3),
        "city": rng.choice(["Lyon", "Lille"], n),
        "plan": rng.choice(["free", "pro"], n),
        "converted": rng.choice(["no", "yes"], n, p=[0.6, 0.4]),
        "passed": rng.choice(["no", "yes"], n),
    })


CALLS: dict[str, dict] = {
    "ttest_1samp": {"value": "before", "mu": 10},
    "ttest_ind": {"value": "before", "group": "variant"},
    "ttest_rel": {"x": "before", "y": "after"},
    "chi2_independence": {"x": "city", "y": "plan"},
    "chi2_goodness_of_fit": {"value": "city"},
    "anova_oneway": {"value": "before", "group": "dose"},
    "anova": {"formula": "before ~ variant * dose"},
    "mannwhitney": {"value": "before", "group": "variant"},
    "wilcoxon": {"x": "before", "y": "after"},
    "kruskal": {"value": "before", "group": "dose"},
    "pearson": {"x": "before", "y": "after"},
    "spearman": {"x": "before", "y": "after"},
    "kendall": {"x": "before", "y": "after"},
    "shapiro": {"value": "before"},
    "levene": {"value": "before", "group": "dose"},
    "bartlett": {"value": "before", "group": "dose"},
    "fisher_exact": {"x": "city", "y": "plan"},
    "mcnemar": {"x": "converted", "y": "passed"},
    "binomial": {"value": "converted", "p": 0.5},
    "proportions": {"value": "converted", "group": "variant"},
}


def test_every_test_name_has_an_example_call() -> None:
    assert set(CALLS) == set(stats.TEST_NAMES)


@pytest.mark.parametrize("name", list(CALLS))
def test_every_test_returns_a_complete_result(frame: pd.DataFrame, name: str) -> None:
    # Given a realistic frame; When each test runs with its usual parameters
    res = stats.run_test(name, frame, **CALLS[name])
    # Then it returns a p-value, sample sizes and a conclusion that states the decision at alpha
    assert res.test == name
    assert 0 <= res.p_value <= 1
    assert res.n and all(v > 0 for v in res.n.values())
    assert ("Significant" in res.conclusion) == (res.p_value < 0.05)
    assert res.model_dump_json()  # JSON-safe


@pytest.mark.parametrize("name", list(CALLS))
def test_every_test_names_its_missing_parameters(frame: pd.DataFrame, name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        stats.run_test(name, frame)
    assert "needs" in err.value.message
    assert "Usage" in err.value.hint


@pytest.mark.parametrize("name", ["ttest_1samp", "shapiro", "ttest_ind", "anova_oneway", "mannwhitney", "kruskal",
                                  "levene", "bartlett", "pearson", "spearman", "kendall", "ttest_rel", "wilcoxon"])
def test_a_text_column_where_numbers_are_needed_is_refused(frame: pd.DataFrame, name: str) -> None:
    params = {k: ("city" if v in ("before", "after") else v) for k, v in CALLS[name].items()}
    with pytest.raises(StatsError, match="not numeric"):
        stats.run_test(name, frame, **params)


@pytest.mark.parametrize("name", ["ttest_ind", "mannwhitney", "anova_oneway", "kruskal", "levene", "bartlett"])
def test_a_single_group_is_refused(frame: pd.DataFrame, name: str) -> None:
    one = frame.assign(variant="A", dose="low")
    with pytest.raises(StatsError, match="only one group") as err:
        stats.run_test(name, one, **CALLS[name])
    assert err.value.hint


@pytest.mark.parametrize("name", ["ttest_ind", "mannwhitney", "anova_oneway", "kruskal", "levene", "bartlett"])
def test_an_empty_group_is_refused(frame: pd.DataFrame, name: str) -> None:
    # Given a group whose values are all missing
    group = CALLS[name]["group"]
    holed = frame.copy()
    holed.loc[holed[group] == holed[group].iloc[0], "before"] = np.nan
    with pytest.raises(StatsError, match="empty"):
        stats.run_test(name, holed, **CALLS[name])


@pytest.mark.parametrize(("name", "params"), [
    ("ttest_1samp", {"value": "k"}), ("shapiro", {"value": "k"}), ("pearson", {"x": "k", "y": "before"}),
    ("spearman", {"x": "before", "y": "k"}), ("kendall", {"x": "k", "y": "before"}),
    ("ttest_rel", {"x": "k", "y": "k"}), ("wilcoxon", {"x": "k", "y": "k"}), ("kruskal", {"value": "k", "group": "dose"}),
    ("bartlett", {"value": "k", "group": "dose"}), ("levene", {"value": "k", "group": "dose"}),
    ("anova_oneway", {"value": "k", "group": "dose"}), ("ttest_ind", {"value": "k", "group": "variant"}),
    ("anova", {"formula": "k ~ dose"}),
])
def test_all_equal_values_are_refused(frame: pd.DataFrame, name: str, params: dict) -> None:
    with pytest.raises(StatsError, match=r"equal|no difference"):
        stats.run_test(name, frame.assign(k=3.0), **params)


def test_unknown_column_suggests_the_closest_name(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput) as err:
        stats.run_test("ttest_ind", frame, value="befor", group="variant")
    assert "Did you mean 'before'?" in err.value.message
    assert "Columns:" in err.value.hint


def test_unknown_column_in_a_formula_suggests_the_closest_name(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput, match="Did you mean 'dose'"):
        stats.run_test("anova", frame, formula="before ~ dos")


def test_unknown_test_lists_the_valid_names() -> None:
    with pytest.raises(InvalidInput) as err:
        stats.run_test("ttest_indep", None)
    assert "Did you mean 'ttest_ind'?" in err.value.message
    for name in stats.TEST_NAMES:
        assert name in err.value.hint


@pytest.mark.parametrize(("name", "table", "match"), [
    ("fisher_exact", [1, 2, 3], "two-way table"),
    ("chi2_independence", [[1, 2, 3]], "two-way table"),
    ("mcnemar", [[1, 2, 3], [4, 5, 6]], "square"),
    ("proportions", [[1, 2, 3], [4, 5, 6]], "k x 2"),
    ("binomial", [1, 2, 3], "successes, failures"),
    ("chi2_goodness_of_fit", [[1, 2], [3, 4]], "one-dimensional"),
    ("chi2_independence", [[1, -2], [3, 4]], "non-negative"),
])
def test_a_table_of_the_wrong_shape_is_refused(name: str, table: list, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        stats.run_test(name, None, table=table)


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"alternative": "bigger"}, InvalidInput, "alternative"),
    ({"alpha": 1.5}, InvalidInput, "alpha"),
    ({"alpha": "x"}, InvalidInput, "number"),
    ({"valeu": "before"}, InvalidInput, "Did you mean 'value'"),
])
def test_bad_options_are_refused(frame: pd.DataFrame, params: dict, error: type, match: str) -> None:
    base = {"value": "before", "group": "variant"}
    with pytest.raises(error, match=match):
        stats.run_test("ttest_ind", frame, **{**base, **params})


def test_three_groups_for_a_two_group_test_points_to_anova(frame: pd.DataFrame) -> None:
    with pytest.raises(StatsError) as err:
        stats.run_test("ttest_ind", frame, value="before", group="dose")
    assert "exactly 2 groups" in err.value.message
    assert "anova_oneway" in err.value.hint


def test_goodness_of_fit_probabilities_must_sum_to_one() -> None:
    with pytest.raises(InvalidInput, match="sum to 1"):
        stats.run_test("chi2_goodness_of_fit", None, table=[10, 20], p=[0.5, 0.6])


def test_formula_cannot_smuggle_code(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidInput):
        stats.run_test("anova", frame, formula="before ~ __import__('os').system('true')")


def test_binary_column_with_many_values_needs_success(frame: pd.DataFrame) -> None:
    with pytest.raises(StatsError, match="binary"):
        stats.run_test("binomial", frame, value="dose")
    res = stats.run_test("binomial", frame, value="dose", success="low")
    assert res.estimate == pytest.approx(1 / 3)


# --- assumptions and conclusions -------------------------------------------------------------------------

def test_assumption_checks_recommend_a_rank_test_when_groups_are_not_normal() -> None:
    # Given two heavily skewed groups
    rng = np.random.default_rng(1)
    skewed = pd.DataFrame({"v": np.concatenate([rng.exponential(1, 40) ** 3, rng.exponential(1, 40) ** 3 + 1]),
                           "g": ["a"] * 40 + ["b"] * 40})
    res = stats.run_test("ttest_ind", skewed, value="v", group="g")
    names = [c.name for c in res.assumptions]
    assert "Normality (a)" in names and "Equal variances" in names
    assert any(c.passed is False for c in res.assumptions)
    assert "mannwhitney" in res.recommendation
    assert "mannwhitney" in res.conclusion


def test_conclusion_reads_plainly_and_respects_alpha(frame: pd.DataFrame) -> None:
    res = stats.run_test("ttest_rel", frame, x="before", y="after", alpha=0.01)
    assert res.alpha == 0.01
    assert res.conclusion.startswith("Significant at α = 0.01")
    assert res.effect_size_name == "Cohen's d" and res.effect_size_interpretation in ("small", "medium", "large")


def test_a_dataset_name_can_stand_in_for_the_frame(frame: pd.DataFrame, tmp_path) -> None:
    path = tmp_path / "ab.csv"
    frame.to_csv(path, index=False)
    datasets.ingest_file(path, name="ab")
    res = stats.run_test("proportions", "ab", value="converted", group="variant")
    assert set(res.n) == {"A", "B"}


# --- batches, power, storage -----------------------------------------------------------------------------

def test_batch_adjusts_p_values_with_holm_and_bh(frame: pd.DataFrame) -> None:
    items = [{"name": "ttest_ind", "params": {"value": "before", "group": "variant"}},
             {"name": "ttest_rel", "params": {"x": "before", "y": "after"}},
             stats.BatchItem(name="kruskal", params={"value": "before", "group": "dose"})]
    holm = stats.run_batch(items, frame, method="holm")
    raw = [r.p_value for r in holm]
    assert [r.p_adjusted for r in holm] == pytest.approx(stats.adjust_pvalues(raw, "holm"))
    assert all(r.p_adjusted >= r.p_value for r in holm)
    assert "(adjusted)" in holm[0].conclusion
    bh = stats.run_batch(items, frame, method="BH")
    assert all(b.p_adjusted <= h.p_adjusted + 1e-15 for b, h in zip(bh, holm, strict=True))


def test_unknown_correction_is_refused() -> None:
    with pytest.raises(InvalidInput, match="holm"):
        stats.adjust_pvalues([0.1], "sidak")


def test_power_planner_needs_exactly_one_unknown() -> None:
    with pytest.raises(InvalidInput, match="all but one"):
        stats.power_ttest(n=10, delta=1, power=0.8)
    with pytest.raises(WorkbenchError):
        stats.power_proportions(p1=0.5, p2=0.5, power=0.8)


def test_saved_results_are_listed_newest_first(backend: str, frame: pd.DataFrame, tmp_path) -> None:
    # Given a dataset and two results, one linked to it
    path = tmp_path / "ab.csv"
    frame.to_csv(path, index=False)
    ds = datasets.ingest_file(path, name="ab")
    first = stats.run_test("fisher_exact", None, table=[[3, 1], [1, 3]], alternative="greater")
    second = stats.run_test("ttest_ind", frame, value="before", group="variant")
    # When both are saved
    stats.save_result(first)
    row = stats.save_result(second, dataset_id=ds.id, title="A/B before")
    # Then both are listed, newest first, and come back intact (infinite CI bound included)
    listed = stats.list_results()
    assert [r.test for r in listed] == ["ttest_ind", "fisher_exact"]
    assert listed[0].dataset_name == "ab" and listed[0].title == "A/B before"
    assert [r.id for r in stats.list_results(dataset_id=ds.id)] == [row.id]
    back = stats.get_result(listed[1].id)
    assert back.ci_high == float("inf") and back.p_value == pytest.approx(first.p_value)
    stats.delete_result(row.id)
    assert len(stats.list_results()) == 1


def test_fisher_on_a_table_too_large_to_enumerate_points_to_chi_squared() -> None:
    # Given a 4 x 5 table of 200 counts (billions of tables share its margins)
    table = [[8, 14, 8, 10, 9], [11, 7, 7, 12, 12], [11, 14, 7, 13, 7], [15, 9, 9, 5, 12]]
    # When Fisher's exact test is asked for, Then it stops quickly with a hint
    with pytest.raises(StatsError, match="too large") as err:
        stats.run_test("fisher_exact", None, table=table)
    assert "chi2_independence" in err.value.hint


def test_fisher_r_by_c_equals_brute_force_enumeration() -> None:
    # Given a 3 x 3 table small enough to list every table with its margins
    from itertools import product

    table = np.array([[3, 0, 2], [1, 4, 0], [0, 2, 3]])
    rows, cols = table.sum(axis=1), table.sum(axis=0)

    def log_p(t: np.ndarray) -> float:
        from scipy.special import gammaln

        return float(gammaln(rows + 1).sum() + gammaln(cols + 1).sum() - gammaln(t.sum() + 1) - gammaln(t + 1).sum())

    observed, total = log_p(table), 0.0
    for a, b, c, d in product(range(6), repeat=4):
        t = np.array([[a, b, rows[0] - a - b], [c, d, rows[1] - c - d], [0, 0, 0]])
        t[2] = cols - t[:2].sum(axis=0)
        if (t >= 0).all() and (t.sum(axis=1) == rows).all() and log_p(t) <= observed + np.log1p(1e-7):
            total += np.exp(log_p(t))
    # Then the network enumeration gives the same p-value
    assert stats.run_test("fisher_exact", None, table=table.tolist()).p_value == pytest.approx(total, rel=1e-10)


def test_stats_modules_import_in_one_direction() -> None:
    # inputs and the test modules sit below the registry: none of them imports it back
    from tools.importgraph import circles, within

    edges = within("core.stats")
    assert circles(edges) == []
    below = {m for m in edges if m not in ("core.stats", "core.stats.registry", "core.stats.batch",
                                           "core.stats.store")}
    assert {m for m in below if "core.stats.registry" in edges[m]} == set()


def test_the_printed_summary_reads_as_r_prints_it() -> None:
    # Given R's sleep data (t.test(extra ~ group, data = sleep): t = -1.8608, df = 17.776, p-value = 0.07939)
    group1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    group2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    sleep = pd.DataFrame({"extra": group1 + group2, "group": ["1"] * 10 + ["2"] * 10})
    res = stats.run_test("ttest_ind", sleep, value="extra", group="group")
    assert str(res).startswith("Welch Two Sample t-test: t = -1.861, df = 17.78, p-value = 0.07939. Not significant")


def test_a_tiny_p_value_prints_below_machine_precision() -> None:
    x = np.arange(100, dtype=float)
    res = stats.run_test("pearson", pd.DataFrame({"bmi": x, "bp": 2 * x + np.sin(x) / 100}), x="bmi", y="bp")
    assert "p-value < 2.2e-16" in str(res)
    assert "(t = 80868, p < 2.2e-16)" in res.conclusion


@pytest.mark.parametrize(("name", "params", "title"), [
    ("pearson", {"x": "before", "y": "after"}, "Pearson correlation: before vs after (trial)"),
    ("ttest_ind", {"value": "before", "group": "variant"}, "Two-sample t-test: before by variant (trial)"),
    ("chi2_independence", {"x": "city", "y": "plan"}, "Chi-squared test of independence: city × plan (trial)"),
    ("anova", {"value": "before", "group": ["dose", "city"]}, "Factorial ANOVA: before by dose × city (trial)"),
    ("anova", {"formula": "`before` ~ dose"}, "Factorial ANOVA: before ~ dose (trial)"),
    ("shapiro", {"value": "before"}, "Shapiro-Wilk normality: before (trial)"),
])
def test_default_titles_name_the_test_and_its_columns(frame: pd.DataFrame, name: str, params: dict,
                                                      title: str) -> None:
    assert stats.default_title(stats.run_test(name, frame, **params), "trial") == title


def test_a_result_saved_without_a_title_gets_one_with_its_columns(frame: pd.DataFrame, tmp_path) -> None:
    path = tmp_path / "trial.csv"
    frame.to_csv(path, index=False)
    ds = datasets.ingest_file(path, name="trial")
    row = stats.save_result(stats.run_test("spearman", frame, x="before", y="after"), dataset_id=ds.id)
    assert row.title == "Spearman rank correlation: before vs after (trial)"
