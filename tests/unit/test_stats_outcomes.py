"""Outcome columns in every layout analysts bring: 0/1 as int, float or bool, and yes/no text.

The most common A/B layout is a numeric 0/1 column grouped by variant; each layout, with and without success=,
must give the same answer as the counts table (which test_stats_reference checks against R's prop.test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import stats
from core.errors import InvalidInput

# Variant A converts 30 of 100, variant B 49 of 100: R's prop.test(c(30, 49), c(100, 100)).
A_HITS, B_HITS, N = 30, 49, 100


def _outcome(layout: str, hits: np.ndarray) -> pd.Series:
    return {"int": pd.Series(hits.astype("int64")), "float": pd.Series(hits.astype(float)),
            "bool": pd.Series(hits.astype(bool)), "text": pd.Series(np.where(hits == 1, "yes", "no")),
            "nullable": pd.Series(hits, dtype="Int64")}[layout]


def _ab(layout: str) -> pd.DataFrame:
    hits = np.r_[np.ones(A_HITS), np.zeros(N - A_HITS), np.ones(B_HITS), np.zeros(N - B_HITS)].astype(int)
    frame = pd.DataFrame({"variant": np.repeat(["A", "B"], N), "converted": _outcome(layout, hits)})
    return frame.sample(frac=1, random_state=3).reset_index(drop=True)  # order must not matter


SUCCESS = {"int": [None, 1, "1", 1.0], "float": [None, 1, "1", 1.0], "bool": [None, True, "True", 1],
           "text": [None, "yes", "Yes"], "nullable": [None, 1, "1"]}
CASES = [(layout, success) for layout, values in SUCCESS.items() for success in values]


@pytest.mark.parametrize(("layout", "success"), CASES)
def test_proportions_read_every_outcome_layout(layout: str, success) -> None:
    expected = stats.run_test("proportions", table=[[A_HITS, N - A_HITS], [B_HITS, N - B_HITS]])
    res = stats.run_test("proportions", _ab(layout), value="converted", group="variant", success=success)
    assert res.p_value == pytest.approx(expected.p_value, rel=1e-12)
    assert res.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert res.estimate == pytest.approx(A_HITS / N - B_HITS / N)
    assert res.n == {"A": N, "B": N}


@pytest.mark.parametrize(("layout", "success"), CASES)
def test_binomial_reads_every_outcome_layout(layout: str, success) -> None:
    expected = stats.run_test("binomial", table=[A_HITS + B_HITS, 2 * N - A_HITS - B_HITS], p=0.3)
    res = stats.run_test("binomial", _ab(layout), value="converted", success=success, p=0.3)
    assert res.statistic == A_HITS + B_HITS and res.n == {"trials": 2 * N}
    assert res.p_value == pytest.approx(expected.p_value, rel=1e-12)


@pytest.mark.parametrize("layout", list(SUCCESS))
def test_contingency_tests_take_outcome_columns(layout: str) -> None:
    frame = _ab(layout)
    frame["retained"] = _outcome(layout, (np.arange(len(frame)) % 3 == 0).astype(int))
    reference = frame.astype({"converted": str, "retained": str})
    for name in ("chi2_independence", "fisher_exact", "mcnemar"):
        res = stats.run_test(name, frame, x="converted", y="retained")
        assert res.p_value == pytest.approx(stats.run_test(name, reference, x="converted", y="retained").p_value)


def test_binomial_takes_successes_and_trials_as_r_binom_test() -> None:
    # R: binom.test(682, 925, p = 3/4) -> p-value = 0.3825, 95 percent CI 0.7076683 0.7654066
    res = stats.run_test("binomial", successes=682, trials=925, p=0.75)
    assert res.p_value == pytest.approx(0.3825, abs=5e-5)
    assert (res.ci_low, res.ci_high) == pytest.approx((0.7076683, 0.7654066), abs=1e-7)


@pytest.mark.parametrize(("params", "message"), [
    ({"successes": 10, "trials": 5}, "0 <= successes <= trials"),
    ({"successes": 2.5, "trials": 5}, "whole counts"),
    ({"successes": -1, "trials": 5}, "whole counts"),
    ({"successes": 3}, "needs the parameter(s) trials"),
    ({"trials": 3}, "needs the parameter(s) successes"),
    ({"successes": "many", "trials": 5}, "successes must be a number"),
])
def test_binomial_counts_bad_input_is_named(params: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        stats.run_test("binomial", **params)
    assert message in err.value.message


@pytest.mark.parametrize(("layout", "success"), [("float", 2), ("int", "yes"), ("text", "maybe"), ("bool", "no")])
def test_a_success_level_the_column_lacks_lists_its_values(layout: str, success) -> None:
    with pytest.raises(InvalidInput) as err:
        stats.run_test("proportions", _ab(layout), value="converted", group="variant", success=success)
    assert "is not a value of column 'converted'" in err.value.message
    assert "Values:" in err.value.hint


def test_an_all_zero_group_still_counts_zero_successes() -> None:
    frame = pd.DataFrame({"variant": ["A"] * 20 + ["B"] * 20, "converted": [0] * 20 + [0] * 15 + [1] * 5})
    res = stats.run_test("proportions", frame, value="converted", group="variant")
    assert [row["successes"] for row in res.tables["proportions"]] == [0, 5]
    alone = stats.run_test("binomial", pd.DataFrame({"converted": [0] * 12}), value="converted", p=0.2,
                           alternative="less")
    assert alone.statistic == 0 and alone.p_value == pytest.approx(0.8 ** 12)
