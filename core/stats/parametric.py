"""t-tests and analysis of variance (R: t.test, aov, oneway.test, TukeyHSD)."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

from core.errors import StatsError
from core.stats.inputs import Params, check_variation
from core.stats.interpret import equal_variances, normality, violated
from core.stats.result import TestResult

Outcome = tuple[TestResult, str]


def t_p_value(t: float, df: float, alternative: str) -> float:
    if alternative == "less":
        return float(sps.t.cdf(t, df))
    if alternative == "greater":
        return float(sps.t.sf(t, df))
    return float(2 * sps.t.sf(abs(t), df))


def t_interval(center: float, se: float, df: float, alternative: str, conf: float) -> tuple[float, float]:
    if alternative == "less":
        return -math.inf, center + sps.t.ppf(conf, df) * se
    if alternative == "greater":
        return center - sps.t.ppf(conf, df) * se, math.inf
    q = sps.t.ppf(1 - (1 - conf) / 2, df)
    return center - q * se, center + q * se


def direction(alternative: str, two: str, less: str, greater: str) -> str:
    return {"two-sided": two, "less": less, "greater": greater}[alternative]


def _one_sample(p: Params, values: np.ndarray, mu: float, method: str, what: str, label: str) -> TestResult:
    n = len(values)
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    if sd == 0:
        check_variation(values, label)
    se = sd / math.sqrt(n)
    t = (mean - mu) / se
    low, high = t_interval(mean, se, n - 1, p.alternative, p.conf)
    checks = normality({label: values}, p.alpha)
    return TestResult(
        test=p.test, method=method, statistic=t, statistic_name="t", df=n - 1,
        p_value=t_p_value(t, n - 1, p.alternative), estimate=mean, estimate_name=what,
        ci_low=low, ci_high=high, conf_level=p.conf, effect_size=(mean - mu) / sd, effect_size_name="Cohen's d",
        n={label: n}, assumptions=checks,
        recommendation="The values do not look normal; with a small sample prefer the wilcoxon test."
        if violated(checks, "Normality") else "",
    )


def ttest_1samp(p: Params) -> Outcome:
    p.need("value")
    values, mu = p.sample("value"), p.number("mu", 0.0)
    res = _one_sample(p, values, mu, "One Sample t-test", f"mean of {p.raw['value']}", str(p.raw["value"]))
    rel = direction(p.alternative, "is not", "is less than", "is greater than")
    return res, f"the mean of {p.raw['value']} {rel} {mu:g}"


def ttest_rel(p: Params) -> Outcome:
    x, y = p.pairs()
    mu = p.number("mu", 0.0)
    label = f"{p.raw['x']} - {p.raw['y']}"
    res = _one_sample(p, x - y, mu, "Paired t-test", "mean difference", label)
    res.n = {"pairs": len(x)}
    rel = direction(p.alternative, "differs from", "is less than", "is greater than")
    return res, f"the mean difference {label} {rel} {mu:g}"


def ttest_ind(p: Params) -> Outcome:
    groups = p.groups(exactly=2)
    (la, a), (lb, b) = groups.items()
    for label, values in groups.items():
        if len(values) < 2:
            raise StatsError(f"Group {label!r} has only {len(values)} value; the t-test needs at least 2 per group.")
    equal_var = bool(p.raw.get("equal_var") or False)
    mu = p.number("mu", 0.0)
    na, nb, va, vb = len(a), len(b), a.var(ddof=1), b.var(ddof=1)
    if va == 0 and vb == 0:
        check_variation(np.concatenate([a - a.mean(), b - b.mean()]), "Both groups")
    if equal_var:
        df = na + nb - 2
        pooled = ((na - 1) * va + (nb - 1) * vb) / df
        se = math.sqrt(pooled * (1 / na + 1 / nb))
        method = " Two Sample t-test"
    else:
        se = math.sqrt(va / na + vb / nb)
        df = se**4 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
        method = "Welch Two Sample t-test"
    diff = float(a.mean() - b.mean())
    t = (diff - mu) / se
    low, high = t_interval(diff, se, df, p.alternative, p.conf)
    sd_pooled = math.sqrt(((na - 1) * va + (nb - 1) * vb) / (na + nb - 2))
    checks = [*normality(groups, p.alpha), equal_variances(groups, p.alpha)]
    res = TestResult(
        test=p.test, method=method.strip(), statistic=t, statistic_name="t", df=df,
        p_value=t_p_value(t, df, p.alternative), estimate=diff, estimate_name=f"difference in means ({la} - {lb})",
        ci_low=low, ci_high=high, conf_level=p.conf, effect_size=diff / sd_pooled if sd_pooled else None,
        effect_size_name="Cohen's d", n={la: na, lb: nb}, assumptions=checks,
        recommendation=_ttest_advice(checks, equal_var),
    )
    value = p.raw["value"]
    rel = direction(p.alternative, "differs between", "is lower in", "is higher in")
    tail = f"{la!r} and {lb!r}" if p.alternative == "two-sided" else f"{la!r} than in {lb!r}"
    return res, f"the mean of {value} {rel} {tail}"


def _ttest_advice(checks: list, equal_var: bool) -> str:
    if violated(checks, "Normality"):
        return "A group does not look normal; with small groups prefer mannwhitney (Mann-Whitney U)."
    if equal_var and violated(checks, "Equal variances"):
        return "Variances differ; prefer Welch's t-test (equal_var=False, the default)."
    return ""


def tukey_hsd(means: dict[str, float], sizes: dict[str, int], mse: float, df: float, conf: float) -> list[dict]:
    """Tukey honest significant differences, as R's TukeyHSD prints them ('b-a' for levels a before b)."""
    levels, k = list(means), len(means)
    crit = float(sps.studentized_range.ppf(conf, k, df))
    rows = []
    for i, a in enumerate(levels):
        for b in levels[i + 1:]:
            diff = means[b] - means[a]
            est = math.sqrt(mse / 2 * (1 / sizes[a] + 1 / sizes[b]))
            p_adj = float(sps.studentized_range.sf(abs(diff) / est, k, df))
            rows.append({"comparison": f"{b}-{a}", "diff": diff, "lwr": diff - crit * est, "upr": diff + crit * est,
                         "p_adj": min(1.0, p_adj)})
    return rows


def anova_oneway(p: Params) -> Outcome:
    groups = p.groups()
    values = np.concatenate(list(groups.values()))
    k, n = len(groups), len(values)
    if n - k < 1:
        raise StatsError("One-way ANOVA needs more values than groups.", hint="Each group needs repeated values.")
    grand = values.mean()
    ssb = sum(len(v) * (v.mean() - grand) ** 2 for v in groups.values())
    ssw = sum(((v - v.mean()) ** 2).sum() for v in groups.values())
    if ssw == 0:
        raise StatsError("All values within each group are equal, so the F statistic is undefined.",
                         hint="ANOVA needs variation inside the groups.")
    equal_var = p.raw.get("equal_var")
    equal_var = True if equal_var is None else bool(equal_var)
    if equal_var:
        f, df1, df2 = (ssb / (k - 1)) / (ssw / (n - k)), k - 1, n - k
        method = "One-way analysis of means (ANOVA)"
    else:
        f, df1, df2 = _welch_anova(groups)
        method = "One-way analysis of means (not assuming equal variances)"
    checks = [*normality(groups, p.alpha), equal_variances(groups, p.alpha)]
    means = {g: float(v.mean()) for g, v in groups.items()}
    sizes = {g: len(v) for g, v in groups.items()}
    res = TestResult(
        test=p.test, method=method, statistic=f, statistic_name="F", df=df1, df2=df2,
        p_value=float(sps.f.sf(f, df1, df2)), effect_size=ssb / (ssb + ssw), effect_size_name="eta squared",
        n=sizes, assumptions=checks, recommendation=_anova_advice(checks, equal_var),
        tables={"posthoc": tukey_hsd(means, sizes, ssw / (n - k), n - k, p.conf),
                "anova": [{"term": str(p.raw["group"]), "df": k - 1, "sum_sq": ssb, "mean_sq": ssb / (k - 1)},
                          {"term": "Residuals", "df": n - k, "sum_sq": ssw, "mean_sq": ssw / (n - k)}]},
    )
    return res, f"the mean of {p.raw['value']} differs between at least two groups of {p.raw['group']}"


def _welch_anova(groups: dict[str, np.ndarray]) -> tuple[float, float, float]:
    k = len(groups)
    n = np.array([len(v) for v in groups.values()], dtype=float)
    m = np.array([v.mean() for v in groups.values()])
    var = np.array([v.var(ddof=1) if len(v) > 1 else np.nan for v in groups.values()])
    if (n < 2).any() or (var == 0).any():
        raise StatsError("Welch's ANOVA needs at least 2 varying values in every group.")
    w = n / var
    tmp = ((1 - w / w.sum()) ** 2 / (n - 1)).sum() / (k * k - 1)
    mean_w = (w * m).sum() / w.sum()
    f = (w * (m - mean_w) ** 2).sum() / ((k - 1) * (1 + 2 * (k - 2) * tmp))
    return float(f), float(k - 1), float(1 / (3 * tmp))


def _anova_advice(checks: list, equal_var: bool) -> str:
    if violated(checks, "Normality"):
        return "A group does not look normal; with small groups prefer kruskal (Kruskal-Wallis)."
    if equal_var and violated(checks, "Equal variances"):
        return "Variances differ; prefer Welch's ANOVA (equal_var=False)."
    return ""
