"""Rank tests and correlations (R: wilcox.test, kruskal.test, cor.test), with R's exact p-values."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats as sps

from core.errors import StatsError
from core.stats import rmath
from core.stats.inputs import Params, check_variation
from core.stats.interpret import normality, violated
from core.stats.parametric import direction
from core.stats.result import TestResult

Outcome = tuple[TestResult, str]


def normal_p(z: float, alternative: str) -> float:
    if alternative == "less":
        return float(sps.norm.cdf(z))
    if alternative == "greater":
        return float(sps.norm.sf(z))
    return float(2 * min(sps.norm.cdf(z), sps.norm.sf(z)))


def _correction(z: float, alternative: str) -> float:
    return {"two-sided": math.copysign(0.5, z) if z else 0.0, "greater": 0.5, "less": -0.5}[alternative]


def _exact_p(stat: float, center: float, cdf, alternative: str) -> float:
    if alternative == "greater":
        return cdf(stat - 1, False)
    if alternative == "less":
        return cdf(stat, True)
    p = cdf(stat - 1, False) if stat > center else cdf(stat, True)
    return min(2 * p, 1.0)


def _has_ties(values: np.ndarray) -> bool:
    return len(np.unique(values)) != len(values)


def _tie_sum(ranks: np.ndarray) -> float:
    _, counts = np.unique(ranks, return_counts=True)
    return float((counts**3 - counts).sum())


def signed_rank(p: Params, d: np.ndarray, mu: float) -> TestResult:
    """Wilcoxon signed-rank test of d - mu, exactly as wilcox.test does it."""
    x = d - mu
    zeroes = bool((x == 0).any())
    x = x[x != 0]
    n = len(x)
    if n == 0:
        raise StatsError("Every difference equals mu, so the signed-rank test has nothing to rank.",
                         hint="The data show no difference at all.")
    r = sps.rankdata(np.abs(x))
    v = float(r[x > 0].sum())
    ties = _has_ties(r)
    exact = n < 50 and not ties and not zeroes
    low = high = None
    if exact:
        pval = _exact_p(v, n * (n + 1) / 4, lambda q, lo: rmath.psignrank(q, n, lo), p.alternative)
        low, high = _signrank_ci(x + mu, n, p.alternative, p.conf)
        method = "Wilcoxon signed rank exact test"
        estimate = float(np.median(np.add.outer(x + mu, x + mu)[np.triu_indices(n)] / 2))
    else:
        z = v - n * (n + 1) / 4
        sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - _tie_sum(r) / 48)
        pval = normal_p((z - _correction(z, p.alternative)) / sigma, p.alternative)
        method = "Wilcoxon signed rank test with continuity correction"
        asym = signed_rank_asymptotic(x + mu, p.alternative, p.conf)
        low, high, estimate = asym if asym else (None, None, None)
    return TestResult(
        test=p.test, method=method, statistic=v, statistic_name="V", p_value=pval,
        estimate=estimate, estimate_name="(pseudo)median",
        ci_low=low, ci_high=high, conf_level=p.conf if low is not None else None,
        effect_size=4 * v / (n * (n + 1)) - 1, effect_size_name="rank-biserial r",
        notes=[] if exact else ["Normal approximation (ties, zero differences or n >= 50), as R does; "
                                "the interval and estimate come from R's asymptotic root-finding."],
    )


def _signrank_ci(x: np.ndarray, n: int, alternative: str, conf: float) -> tuple[float, float]:
    diffs = np.sort(np.add.outer(x, x)[np.triu_indices(n)] / 2)
    alpha = 1 - conf
    qu = max(1, rmath.qsignrank(alpha / 2 if alternative == "two-sided" else alpha, n))
    ql = n * (n + 1) // 2 - qu
    lower = diffs[qu - 1] if alternative != "less" else -math.inf
    upper = diffs[ql] if alternative != "greater" else math.inf
    return float(lower), float(upper)


def wilcoxon(p: Params) -> Outcome:
    mu = p.number("mu", 0.0)
    if p.has("x") or p.has("y"):
        x, y = p.pairs()
        res = signed_rank(p, x - y, mu)
        res.n = {"pairs": len(x)}
        what = f"the differences {p.raw['x']} - {p.raw['y']}"
    else:
        p.need("value")
        values = p.sample("value")
        res = signed_rank(p, values, mu)
        res.n = {str(p.raw["value"]): len(values)}
        what = f"{p.raw['value']}"
    rel = direction(p.alternative, "is not centred on", "is centred below", "is centred above")
    return res, f"{what} {rel} {mu:g}"


def mannwhitney(p: Params) -> Outcome:
    groups = p.groups(exactly=2)
    (la, a), (lb, b) = groups.items()
    mu = p.number("mu", 0.0)
    nx, ny = len(a), len(b)
    r = sps.rankdata(np.concatenate([a - mu, b]))
    w = float(r[:nx].sum() - nx * (nx + 1) / 2)
    exact = nx < 50 and ny < 50 and not _has_ties(r)
    low = high = None
    if exact:
        pval = _exact_p(w, nx * ny / 2, lambda q, lo: rmath.pwilcox(q, nx, ny, lo), p.alternative)
        low, high = _ranksum_ci(a, b, p.alternative, p.conf)
        method = "Wilcoxon rank sum exact test"
        estimate = float(np.median(np.subtract.outer(a, b)))
    else:
        z = w - nx * ny / 2
        sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - _tie_sum(r) / ((nx + ny) * (nx + ny - 1))))
        if sigma == 0:
            check_variation(np.concatenate([a, b]), "The two groups")
        pval = normal_p((z - _correction(z, p.alternative)) / sigma, p.alternative)
        method = "Wilcoxon rank sum test with continuity correction"
        low, high, estimate = rank_sum_asymptotic(a, b, p.alternative, p.conf)
    res = TestResult(
        test=p.test, method=method, statistic=w, statistic_name="W", p_value=pval,
        estimate=estimate, estimate_name=f"difference in location ({la} - {lb})",
        ci_low=low, ci_high=high, conf_level=p.conf,
        effect_size=2 * w / (nx * ny) - 1, effect_size_name="rank-biserial r", n={la: nx, lb: ny},
        notes=[] if exact else ["Normal approximation (ties or a group of 50 or more), as R does."],
    )
    rel = direction(p.alternative, "differs between", "tends to be lower in", "tends to be higher in")
    tail = f"{la!r} and {lb!r}" if p.alternative == "two-sided" else f"{la!r} than in {lb!r}"
    return res, f"{p.raw['value']} {rel} {tail}"


def _ranksum_ci(a: np.ndarray, b: np.ndarray, alternative: str, conf: float) -> tuple[float, float]:
    nx, ny = len(a), len(b)
    diffs = np.sort(np.subtract.outer(a, b).ravel())
    alpha = 1 - conf
    qu = max(1, rmath.qwilcox(alpha / 2 if alternative == "two-sided" else alpha, nx, ny))
    ql = nx * ny - qu
    lower = diffs[qu - 1] if alternative != "less" else -math.inf
    upper = diffs[ql] if alternative != "greater" else math.inf
    return float(lower), float(upper)


def kruskal(p: Params) -> Outcome:
    groups = p.groups()
    values = np.concatenate(list(groups.values()))
    check_variation(values, f"Column {p.raw['value']!r}")
    h, pval = sps.kruskal(*groups.values())
    n = len(values)
    res = TestResult(
        test=p.test, method="Kruskal-Wallis rank sum test", statistic=float(h), statistic_name="Kruskal-Wallis chi-squared",
        df=len(groups) - 1, p_value=float(pval), effect_size=float(h) / (n - 1), effect_size_name="epsilon squared",
        n={g: len(v) for g, v in groups.items()},
    )
    return res, f"{p.raw['value']} differs in distribution between at least two groups of {p.raw['group']}"


def _xy(p: Params) -> tuple[np.ndarray, np.ndarray]:
    x, y = p.pairs()
    if len(x) < 3:
        raise StatsError("A correlation test needs at least 3 complete pairs.")
    check_variation(x, f"Column {p.raw['x']!r}")
    check_variation(y, f"Column {p.raw['y']!r}")
    return x, y


def _corr_claim(p: Params, kind: str) -> str:
    rel = direction(p.alternative, "are correlated", "are negatively correlated", "are positively correlated")
    return f"{p.raw['x']} and {p.raw['y']} {rel} ({kind})"


def pearson(p: Params) -> Outcome:
    x, y = _xy(p)
    n = len(x)
    r = float(np.corrcoef(x, y)[0, 1])
    df = n - 2
    t = math.inf if abs(r) >= 1 else math.sqrt(df) * r / math.sqrt(1 - r * r)
    low = high = None
    if n > 3 and abs(r) < 1:
        z, sigma = math.atanh(r), 1 / math.sqrt(n - 3)
        if p.alternative == "two-sided":
            q = sps.norm.ppf((1 + p.conf) / 2)
            low, high = math.tanh(z - sigma * q), math.tanh(z + sigma * q)
        elif p.alternative == "less":
            low, high = -1.0, math.tanh(z + sigma * sps.norm.ppf(p.conf))
        else:
            low, high = math.tanh(z - sigma * sps.norm.ppf(p.conf)), 1.0
    from core.stats.parametric import t_p_value

    checks = normality({str(p.raw["x"]): x, str(p.raw["y"]): y}, p.alpha)
    res = TestResult(
        test=p.test, method="Pearson's product-moment correlation", statistic=t, statistic_name="t", df=df,
        p_value=t_p_value(t, df, p.alternative), estimate=r, estimate_name="cor", ci_low=low, ci_high=high,
        conf_level=p.conf if low is not None else None, effect_size=r, effect_size_name="r", n={"pairs": n},
        assumptions=checks,
        recommendation="A variable does not look normal; spearman or kendall make no such assumption."
        if violated(checks, "Normality") else "",
    )
    return res, _corr_claim(p, "linear")


def spearman(p: Params) -> Outcome:
    x, y = _xy(p)
    n = len(x)
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    r = float(np.corrcoef(rx, ry)[0, 1])
    q = (n**3 - n) * (1 - r) / 6
    exact = not (_has_ties(x) or _has_ties(y))
    if p.alternative == "two-sided":
        pv = rmath.pspearman(q, n, lower_tail=q <= (n**3 - n) / 6, exact=exact)
        pv = min(2 * pv, 1.0)
    else:
        pv = rmath.pspearman(q, n, lower_tail=p.alternative == "greater", exact=exact)
    res = TestResult(
        test=p.test, method="Spearman's rank correlation rho", statistic=q, statistic_name="S", p_value=pv,
        estimate=r, estimate_name="rho", effect_size=r, effect_size_name="rho", n={"pairs": n},
        notes=[] if exact else ["Ties present: p-value from the t approximation, as R does."],
    )
    return res, _corr_claim(p, "monotonic")


def kendall(p: Params) -> Outcome:
    x, y = _xy(p)
    n = len(x)
    tau = float(sps.kendalltau(x, y).statistic)
    ties = _has_ties(x) or _has_ties(y)
    if n < 50 and not ties:
        q = round((tau + 1) * n * (n - 1) / 4)
        cdf = lambda k, lower: rmath.pkendall(k, n) if lower else 1 - rmath.pkendall(k, n)  # noqa: E731
        pv, stat, name = _exact_p(q, n * (n - 1) / 4, cdf, p.alternative), float(q), "T"
        note = []
    else:
        stat, name = _kendall_z(x, y, tau), "z"
        pv = normal_p(stat, p.alternative)
        note = ["Ties or n >= 50: normal approximation, as R does."]
    res = TestResult(
        test=p.test, method="Kendall's rank correlation tau", statistic=stat, statistic_name=name, p_value=pv,
        estimate=tau, estimate_name="tau", effect_size=tau, effect_size_name="tau", n={"pairs": n}, notes=note,
    )
    return res, _corr_claim(p, "monotonic")


def _kendall_z(x: np.ndarray, y: np.ndarray, tau: float) -> float:
    n = len(x)
    xt = np.unique(x, return_counts=True)[1]
    yt = np.unique(y, return_counts=True)[1]
    xt, yt = xt[xt > 1].astype(float), yt[yt > 1].astype(float)
    t0 = n * (n - 1) / 2
    t1, t2 = (xt * (xt - 1)).sum() / 2, (yt * (yt - 1)).sum() / 2
    s = tau * math.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt, vu = (xt * (xt - 1) * (2 * xt + 5)).sum(), (yt * (yt - 1) * (2 * yt + 5)).sum()
    v1 = (xt * (xt - 1)).sum() * (yt * (yt - 1)).sum()
    v2 = (xt * (xt - 1) * (xt - 2)).sum() * (yt * (yt - 1) * (yt - 2)).sum()
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
    return s / math.sqrt(var_s)


# --- R's asymptotic confidence intervals and estimates (used when the exact distribution is not) ---------

TOL_ROOT = 1e-4  # wilcox.test's tol.root


def _signed_z(x: np.ndarray, d: float, correct: bool, alternative: str) -> float:
    xd = x - d
    xd = xd[xd != 0]
    nx = len(xd)
    dr = sps.rankdata(np.abs(xd))
    zd = dr[xd > 0].sum() - nx * (nx + 1) / 4
    sigma = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - _tie_sum(dr) / 48) if nx else 0.0
    corr = _r_correction(zd, alternative) if correct else 0.0
    return (zd - corr) / sigma if sigma else math.copysign(math.inf, zd - corr) if zd - corr else math.nan


def _r_correction(z: float, alternative: str) -> float:
    return {"two-sided": float(np.sign(z)) * 0.5, "greater": 0.5, "less": -0.5}[alternative]


def signed_rank_asymptotic(x: np.ndarray, alternative: str, conf: float) -> tuple[float, float, float] | None:
    """wilcox.test's asymptotic CI and (pseudo)median for the one-sample case (x: non-zero values + mu)."""
    lo, hi = float(x.min()), float(x.max())

    def w(d: float, correct: bool = True) -> float:
        return _signed_z(x, d, correct, alternative)

    w_lo, w_hi = w(lo), w(hi)
    if not (math.isfinite(w_lo) and math.isfinite(w_hi)):
        return None
    alpha = 1 - conf
    q = sps.norm.ppf

    def root(zq: float) -> float:
        return zeroin_root(lambda d: w(d) - zq, lo, hi)

    if alternative == "two-sided":
        while w_lo - q(1 - alpha / 2) < 0 or w_hi - q(alpha / 2) > 0:
            alpha *= 2
        ci = (root(q(1 - alpha / 2)), root(q(alpha / 2))) if alpha < 1 else (float(np.median(x)),) * 2
    elif alternative == "greater":
        while w_lo - q(1 - alpha) < 0:
            alpha *= 2
        ci = (root(q(1 - alpha)) if alpha < 1 else float(np.median(x)), math.inf)
    else:
        while w_hi - q(alpha / 2) > 0:
            alpha *= 2
        ci = (-math.inf, root(q(alpha)) if alpha < 1 else float(np.median(x)))
    estimate = zeroin_root(lambda d: w(d, correct=False), lo, hi)
    return ci[0], ci[1], estimate


def rank_sum_asymptotic(a: np.ndarray, b: np.ndarray, alternative: str, conf: float) -> tuple[float, float, float]:
    """wilcox.test's asymptotic CI and difference in location for the two-sample case."""
    nx, ny = len(a), len(b)
    lo, hi = float(a.min() - b.max()), float(a.max() - b.min())

    def w(d: float, correct: bool = True) -> float:
        dr = sps.rankdata(np.concatenate([a - d, b]))
        dz = dr[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
        corr = _r_correction(dz, alternative) if correct else 0.0
        sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - _tie_sum(dr) / ((nx + ny) * (nx + ny - 1))))
        return (dz - corr) / sigma

    w_lo, w_hi = w(lo), w(hi)

    def root(zq: float) -> float:
        if w_lo - zq <= 0:
            return lo
        if w_hi - zq >= 0:
            return hi
        return zeroin_root(lambda d: w(d) - zq, lo, hi)

    alpha, q = 1 - conf, sps.norm.ppf
    if alternative == "two-sided":
        ci = (root(q(1 - alpha / 2)), root(q(alpha / 2)))
    elif alternative == "greater":
        ci = (root(q(1 - alpha)), math.inf)
    else:
        ci = (-math.inf, root(q(alpha)))
    return ci[0], ci[1], zeroin_root(lambda d: w(d, correct=False), lo, hi)


def zeroin_root(f: Callable[[float], float], lo: float, hi: float) -> float:
    return rmath.zeroin(f, lo, hi, tol=TOL_ROOT)
