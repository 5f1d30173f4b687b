"""The test catalogue and `run_test`, the one entry point that runs any of them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput, StatsError
from core.stats import categorical, diagnostics, factorial, parametric, ranks
from core.stats.inputs import PARAMETERS, Params, resolve_frame, suggest
from core.stats.interpret import conclude, magnitude
from core.stats.result import TestResult, clean


@dataclass(frozen=True)
class TestSpec:
    """One test: what it does, which inputs it takes (`kind`, used by the UI) and how to call it."""

    __test__ = False

    name: str
    title: str
    kind: str  # one_sample | two_groups | groups | paired | correlation | contingency | counts | binary | formula
    usage: str
    run: Callable[[Params], tuple[TestResult, str]]


_SPECS = [
    TestSpec("ttest_1samp", "One-sample t-test", "one_sample", "run_test('ttest_1samp', df, value='x', mu=0)",
             parametric.ttest_1samp),
    TestSpec("ttest_ind", "Two-sample t-test (Welch; equal_var=True for Student)", "two_groups",
             "run_test('ttest_ind', df, value='y', group='g')", parametric.ttest_ind),
    TestSpec("ttest_rel", "Paired t-test", "paired", "run_test('ttest_rel', df, x='before', y='after')",
             parametric.ttest_rel),
    TestSpec("chi2_independence", "Chi-squared test of independence", "contingency",
             "run_test('chi2_independence', df, x='a', y='b') or run_test('chi2_independence', None, table=[[..],[..]])",
             categorical.chi2_independence),
    TestSpec("chi2_goodness_of_fit", "Chi-squared goodness of fit", "counts",
             "run_test('chi2_goodness_of_fit', df, value='category', p=[...]) or table=[20, 15, 25]",
             categorical.chi2_goodness_of_fit),
    TestSpec("anova_oneway", "One-way ANOVA (+ Tukey HSD)", "groups", "run_test('anova_oneway', df, value='y', group='g')",
             parametric.anova_oneway),
    TestSpec("anova", "Factorial ANOVA (formula)", "formula",
             "run_test('anova', df, formula='y ~ a * b') or value='y', group=['a', 'b']", factorial.anova),
    TestSpec("mannwhitney", "Mann-Whitney U / Wilcoxon rank-sum", "two_groups",
             "run_test('mannwhitney', df, value='y', group='g')", ranks.mannwhitney),
    TestSpec("wilcoxon", "Wilcoxon signed-rank", "paired",
             "run_test('wilcoxon', df, x='before', y='after') or value='d', mu=0", ranks.wilcoxon),
    TestSpec("kruskal", "Kruskal-Wallis", "groups", "run_test('kruskal', df, value='y', group='g')", ranks.kruskal),
    TestSpec("pearson", "Pearson correlation", "correlation", "run_test('pearson', df, x='a', y='b')", ranks.pearson),
    TestSpec("spearman", "Spearman rank correlation", "correlation", "run_test('spearman', df, x='a', y='b')",
             ranks.spearman),
    TestSpec("kendall", "Kendall rank correlation", "correlation", "run_test('kendall', df, x='a', y='b')",
             ranks.kendall),
    TestSpec("shapiro", "Shapiro-Wilk normality", "one_sample", "run_test('shapiro', df, value='x')",
             diagnostics.shapiro),
    TestSpec("levene", "Levene (Brown-Forsythe) equal variances", "groups",
             "run_test('levene', df, value='y', group='g')", diagnostics.levene),
    TestSpec("bartlett", "Bartlett equal variances", "groups", "run_test('bartlett', df, value='y', group='g')",
             diagnostics.bartlett),
    TestSpec("fisher_exact", "Fisher's exact test", "contingency",
             "run_test('fisher_exact', df, x='a', y='b') or run_test('fisher_exact', None, table=[[3, 1], [1, 3]])",
             categorical.fisher_exact),
    TestSpec("mcnemar", "McNemar (paired proportions)", "contingency",
             "run_test('mcnemar', df, x='before', y='after') or table=[[a, b], [c, d]]", categorical.mcnemar),
    TestSpec("binomial", "Exact binomial test", "binary",
             "run_test('binomial', df, value='converted', p=0.5), successes=682, trials=925 or table=[successes, failures]", categorical.binomial),
    TestSpec("proportions", "Test of proportions (A/B)", "binary",
             "run_test('proportions', df, value='converted', group='variant') or table=[[succ, fail], ...]",
             categorical.proportions),
]
TESTS: dict[str, TestSpec] = {s.name: s for s in _SPECS}
TEST_NAMES: tuple[str, ...] = tuple(TESTS)


def get_spec(name: str) -> TestSpec:
    """The spec of a test by name; InvalidInput listing the valid names otherwise."""
    spec = TESTS.get(str(name).strip().lower())
    if spec is None:
        raise InvalidInput(f"Unknown test {name!r}.{suggest(str(name), list(TESTS))}",
                           hint=f"Valid tests: {', '.join(TESTS)}.")
    return spec


def default_title(result: TestResult, dataset_name: str = "") -> str:
    """A title naming the test and its columns, e.g. 'Pearson correlation: bmi vs bp (diabetes)'."""
    spec = TESTS.get(result.test)
    name = spec.title.split(" (")[0] if spec else result.method
    subject = _subject(spec.kind if spec else "", result.params)
    text = f"{name}: {subject}" if subject else name
    return f"{text} ({dataset_name})" if dataset_name else text


def _subject(kind: str, params: dict[str, Any]) -> str:
    """The columns a test ran on, in words."""
    value, group, x, y = (params.get(k) for k in ("value", "group", "x", "y"))
    if params.get("formula"):
        return str(params["formula"]).replace("`", "")
    if isinstance(group, list):
        group = " × ".join(map(str, group))
    if value is not None and group is not None:
        return f"{value} by {group}"
    if x is not None and y is not None:
        return f"{x} × {y}" if kind == "contingency" else f"{x} vs {y}"
    return "" if value is None else str(value)


def run_test(name: str, data: Any = None, **params: Any) -> TestResult:
    """Run a hypothesis test by name on a DataFrame (or a dataset id/name, or data=None with table=...).

    Parameters: value, group, x, y, table, alternative ('two-sided', 'less', 'greater'), mu, p,
    equal_var, alpha (default 0.05), plus formula (anova), success (binary tests), successes and trials (binomial, as R's
    binom.test(x, n)), correct, conf_level.
    Raises InvalidInput for bad parameters and StatsError for data a test cannot use.
    """
    spec = get_spec(name)
    unknown = [k for k in params if k not in (*PARAMETERS, "correct")]
    if unknown:
        raise InvalidInput(f"Unknown parameter(s) {', '.join(unknown)}.{suggest(unknown[0], list(PARAMETERS))}",
                           hint=f"Parameters: {', '.join(PARAMETERS)}.")
    p = Params(test=spec.name, frame=resolve_frame(data), raw={k: v for k, v in params.items() if v is not None},
               usage=spec.usage)
    alpha, alternative = p.alpha, p.alternative
    result, hypothesis = spec.run(p)
    return finish(result, hypothesis, alpha=alpha, alternative=alternative, params=params)


def finish(result: TestResult, hypothesis: str, *, alpha: float, alternative: str, params: dict) -> TestResult:
    """Fill in what every test shares: alpha, JSON-safe numbers, effect-size reading, the conclusion."""
    result.alpha, result.alternative, result.hypothesis = alpha, alternative, hypothesis
    result.params = {k: _jsonable(v) for k, v in params.items() if k != "table" or not hasattr(v, "to_dict")}
    for field in ("statistic", "p_value", "df", "df2", "estimate", "ci_low", "ci_high", "effect_size"):
        value = getattr(result, field)
        if value is not None and not (isinstance(value, float) and math.isinf(value)):
            setattr(result, field, clean(value))
    if result.p_value is None:
        raise StatsError(f"{result.method}: the p-value is undefined for these data (no usable variation).",
                         hint="Check for constant groups or too few values.")
    result.effect_size_interpretation = magnitude(result.effect_size_name, result.effect_size)
    result.conclusion = conclude(result, hypothesis)
    return result


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return value.tolist()
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
