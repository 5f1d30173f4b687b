"""Tests of assumptions run on their own (R: shapiro.test, bartlett.test, car::leveneTest)."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from core.errors import StatsError
from core.stats.inputs import Params, check_variation
from core.stats.result import TestResult

Outcome = tuple[TestResult, str]


def shapiro(p: Params) -> Outcome:
    p.need("value")
    values = p.sample("value")
    if not 3 <= len(values) <= 5000:
        raise StatsError(f"Shapiro-Wilk needs between 3 and 5000 values; {p.raw['value']!r} has {len(values)}.",
                         hint="For larger samples look at a Q-Q plot instead.")
    check_variation(values, f"Column {p.raw['value']!r}")
    w, pval = sps.shapiro(values)
    res = TestResult(test=p.test, method="Shapiro-Wilk normality test", statistic=float(w), statistic_name="W",
                     p_value=float(pval), n={str(p.raw["value"]): len(values)})
    return res, f"{p.raw['value']} is not normally distributed"


def _spread_groups(p: Params) -> dict[str, np.ndarray]:
    groups = p.groups()
    for label, values in groups.items():
        if len(values) < 2:
            raise StatsError(f"Group {label!r} has only {len(values)} value; variances need at least 2 per group.")
    return groups


def levene(p: Params) -> Outcome:
    groups = _spread_groups(p)
    check_variation(np.concatenate([v - np.median(v) for v in groups.values()]), "Every group")
    stat, pval = sps.levene(*groups.values(), center="median")
    n = sum(len(v) for v in groups.values())
    res = TestResult(test=p.test, method="Levene's Test for Homogeneity of Variance (center = median)",
                     statistic=float(stat), statistic_name="F", df=len(groups) - 1, df2=n - len(groups),
                     p_value=float(pval), n={g: len(v) for g, v in groups.items()})
    return res, f"the variance of {p.raw['value']} differs between groups of {p.raw['group']}"


def bartlett(p: Params) -> Outcome:
    groups = _spread_groups(p)
    for label, values in groups.items():
        check_variation(values, f"Group {label!r}")
    stat, pval = sps.bartlett(*groups.values())
    res = TestResult(test=p.test, method="Bartlett test of homogeneity of variances", statistic=float(stat),
                     statistic_name="Bartlett's K-squared", df=len(groups) - 1, p_value=float(pval),
                     n={g: len(v) for g, v in groups.items()},
                     recommendation="Bartlett's test is sensitive to non-normality; levene is more robust.")
    return res, f"the variance of {p.raw['value']} differs between groups of {p.raw['group']}"
