"""Plain-language reading of results: effect-size magnitudes, assumption checks, conclusions."""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from core.numfmt import format_number
from core.stats.result import AssumptionCheck, TestResult, p_phrase

# Conventional small / medium / large cut-offs (Cohen 1988; Chen et al. 2010 for odds ratios).
THRESHOLDS: dict[str, tuple[float, float, float]] = {
    "Cohen's d": (0.2, 0.5, 0.8),
    "Cohen's h": (0.2, 0.5, 0.8),
    "eta squared": (0.01, 0.06, 0.14),
    "partial eta squared": (0.01, 0.06, 0.14),
    "epsilon squared": (0.01, 0.06, 0.14),
    "r": (0.1, 0.3, 0.5),
    "rho": (0.1, 0.3, 0.5),
    "tau": (0.1, 0.3, 0.5),
    "rank-biserial r": (0.1, 0.3, 0.5),
    "Cramér's V": (0.1, 0.3, 0.5),
    "Cohen's w": (0.1, 0.3, 0.5),
    "Cohen's g": (0.05, 0.15, 0.25),
    "odds ratio": (1.68, 3.47, 6.71),
}


def magnitude(name: str, value: float | None) -> str:
    """'negligible', 'small', 'medium' or 'large' for an effect size."""
    if value is None or name not in THRESHOLDS or not np.isfinite(value):
        return "" if value is None or name not in THRESHOLDS else "large"
    size = abs(value)
    if name == "odds ratio":
        size = max(value, 1 / value) if value > 0 else float("inf")
    small, medium, large = THRESHOLDS[name]
    if size < small:
        return "negligible"
    return "small" if size < medium else "medium" if size < large else "large"


def normality(samples: dict[str, np.ndarray], alpha: float = 0.05) -> list[AssumptionCheck]:
    """Shapiro-Wilk on each sample (3 to 5000 values)."""
    checks = []
    for label, values in samples.items():
        name = f"Normality ({label})"
        if not 3 <= len(values) <= 5000 or np.ptp(values) == 0:
            checks.append(AssumptionCheck(name=name, test="Shapiro-Wilk", detail="not checked: needs 3 to 5000 varying values"))
            continue
        w, p = sps.shapiro(values)
        ok = bool(p >= alpha)
        checks.append(AssumptionCheck(
            name=name, test="Shapiro-Wilk", statistic=float(w), p_value=float(p), passed=ok,
            detail="consistent with a normal distribution" if ok else "departs from a normal distribution"))
    return checks


def equal_variances(samples: dict[str, np.ndarray], alpha: float = 0.05) -> AssumptionCheck:
    """Levene's test, centred on the median (Brown-Forsythe; car::leveneTest's default)."""
    usable = [v for v in samples.values() if len(v) >= 2]
    if len(usable) < 2:
        return AssumptionCheck(name="Equal variances", test="Levene (median)", detail="not checked: too few values")
    stat, p = sps.levene(*usable, center="median")
    if not np.isfinite(p):
        return AssumptionCheck(name="Equal variances", test="Levene (median)", detail="not checked: no spread")
    ok = bool(p >= alpha)
    return AssumptionCheck(
        name="Equal variances", test="Levene (median)", statistic=float(stat), p_value=float(p), passed=ok,
        detail="variances look similar" if ok else "variances differ between groups")


def violated(checks: list[AssumptionCheck], prefix: str) -> bool:
    return any(c.passed is False and c.name.startswith(prefix) for c in checks)


def fmt(value: float | None, digits: int = 4) -> str:
    return "NA" if value is None else format_number(value, digits)


def conclude(result: TestResult, hypothesis: str) -> str:
    """One or two sentences an analyst can paste into a report."""
    p = result.p_adjusted if result.p_adjusted is not None else result.p_value
    ptxt = p_phrase(p) + (" (adjusted)" if result.p_adjusted is not None else "")
    stat = f"{result.statistic_name} = {fmt(result.statistic)}, " if result.statistic is not None else ""
    if p < result.alpha:
        text = f"Significant at α = {result.alpha:g} ({stat}{ptxt}): the data support that {hypothesis}."
    else:
        text = (f"Not significant at α = {result.alpha:g} ({stat}{ptxt}): the data do not show that {hypothesis}.")
    if result.effect_size is not None and result.effect_size_interpretation:
        text += f" The effect size ({result.effect_size_name} = {fmt(result.effect_size, 3)}) is " \
                f"{result.effect_size_interpretation}."
    if result.recommendation:
        text += f" Note: {result.recommendation}"
    return text
