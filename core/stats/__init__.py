"""Hypothesis tests that reproduce R's `stats` package, with assumption checks and plain conclusions.

    from core import stats
    res = stats.run_test("ttest_ind", df, value="extra", group="group")   # Welch, as R's t.test
    res.p_value, res.ci_low, res.ci_high, res.conclusion
    stats.run_batch([...], method="holm"); stats.power_ttest(delta=1, power=0.9)
    stats.save_result(res, dataset_id=ds.id); stats.list_results()
"""

from core.stats.batch import BatchItem, adjust_pvalues, run_batch
from core.stats.power import PowerResult, power_proportions, power_ttest
from core.stats.registry import TEST_NAMES, TESTS, TestSpec, default_title, get_spec, run_test
from core.stats.result import ALTERNATIVES, AssumptionCheck, TestResult
from core.stats.store import delete_result, get_result, list_results, save_result

__all__ = [
    "ALTERNATIVES", "TESTS", "TEST_NAMES", "AssumptionCheck", "BatchItem", "PowerResult", "TestResult", "TestSpec",
    "adjust_pvalues", "default_title", "delete_result", "get_result", "get_spec", "list_results", "power_proportions", "power_ttest",
    "run_batch", "run_test", "save_result",
]
