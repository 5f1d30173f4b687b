"""Exact null distributions and root finding, written to reproduce R's `stats` results.

Each function names the R routine it follows. They work on plain floats and ints;
`core.stats` turns them into tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from itertools import permutations

import numpy as np
from scipy import stats as sps

EPS = float(np.finfo(float).eps)
UNIROOT_TOL = EPS**0.25  # R's uniroot() default tolerance
REL_ERR = 1 + 1e-7  # R's tolerance when comparing point probabilities (binom.test, fisher.test)


def zeroin(f: Callable[[float], float], ax: float, bx: float, tol: float = UNIROOT_TOL, maxit: int = 1000) -> float:
    """Brent's root finder exactly as R's `uniroot()` runs it (R_zeroin2 in stats/src/zeroin.c)."""
    fa, fb = f(ax), f(bx)
    a, b, c, fc = ax, bx, ax, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxit + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolate(a, b, c, fa, fb, fc, prev_step, tol_act, new_step)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _interpolate(a: float, b: float, c: float, fa: float, fb: float, fc: float,
                 prev_step: float, tol_act: float, bisect: float) -> float:
    cb = c - b
    if a == c:  # linear interpolation
        t1 = fb / fa
        p, q = cb * t1, 1.0 - t1
    else:  # inverse quadratic interpolation
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
        return p / q
    return bisect


# --- Wilcoxon signed rank (R: psignrank) and rank sum (R: pwilcox) ---------------------------

@lru_cache(maxsize=64)
def _signrank_counts(n: int) -> np.ndarray:
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    return counts


def psignrank(q: float, n: int, lower_tail: bool = True) -> float:
    """P[V <= q] (or P[V > q]) for the signed-rank statistic V of n observations."""
    counts = _signrank_counts(n)
    q = math.floor(q + 1e-7)
    if q < 0:
        return 0.0 if lower_tail else 1.0
    p = counts[: min(q, len(counts) - 1) + 1].sum() / 2.0**n
    return p if lower_tail else 1.0 - p


@lru_cache(maxsize=64)
def _wilcox_counts(m: int, n: int) -> np.ndarray:
    """Counts of the Mann-Whitney U = W for m and n observations (Gaussian binomial coefficients)."""
    top = m * n
    dp = np.zeros((m + 1, top + 1))  # dp[j, u]: subsets of size j of the items seen so far with U = u
    dp[0, 0] = 1.0
    for item in range(m + n):
        nxt = dp.copy()
        shift = item  # choosing the item as the j-th smallest adds (item - (j - 1)) to U
        for j in range(1, min(m, item + 1) + 1):
            s = shift - (j - 1)
            if s <= top:
                nxt[j, s:] += dp[j - 1, : top + 1 - s]
        dp = nxt
    return dp[m]


def pwilcox(q: float, m: int, n: int, lower_tail: bool = True) -> float:
    """P[W <= q] (or P[W > q]) for the rank-sum statistic W of samples of sizes m and n."""
    counts = _wilcox_counts(m, n)
    q = math.floor(q + 1e-7)
    if q < 0:
        return 0.0 if lower_tail else 1.0
    p = counts[: min(q, m * n) + 1].sum() / counts.sum()
    return p if lower_tail else 1.0 - p


def qsignrank(p: float, n: int) -> int:
    """Smallest q with P[V <= q] >= p (R: qsignrank, lower tail)."""
    cum = np.cumsum(_signrank_counts(n)) / 2.0**n
    return int(np.searchsorted(cum, p - 10 * EPS, side="left"))


def qwilcox(p: float, m: int, n: int) -> int:
    """Smallest q with P[W <= q] >= p (R: qwilcox, lower tail)."""
    counts = _wilcox_counts(m, n)
    cum = np.cumsum(counts) / counts.sum()
    return int(np.searchsorted(cum, p - 10 * EPS, side="left"))


# --- Spearman (R: prho, AS 89 with exact enumeration for n <= 9) ------------------------------

@lru_cache(maxsize=16)
def _spearman_s_values(n: int) -> np.ndarray:
    ranks = np.arange(1, n + 1)
    perms = np.array(list(permutations(range(1, n + 1))), dtype=np.int16)
    return np.sort(((perms - ranks) ** 2).sum(axis=1))


def prho(n: int, s: float, lower_tail: bool) -> float:
    """R's prho(): P[S >= s] (upper) or P[S < s] (lower) for Spearman's S = sum of squared rank differences."""
    pv = 0.0 if lower_tail else 1.0
    if n <= 1 or s <= 0:
        return pv
    n3 = n * (n * n - 1.0) / 3.0
    if s > n3:
        return 1 - pv
    if n <= 9:
        values = _spearman_s_values(n)
        nfac = len(values)
        ifr = 1 if s == n3 else int(len(values) - np.searchsorted(values, s, side="left"))
        return (nfac - ifr if lower_tail else ifr) / nfac
    return _prho_edgeworth(n, s, lower_tail)


def _prho_edgeworth(n: int, s: float, lower_tail: bool) -> float:
    c1, c2, c3, c4, c5, c6 = 0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932
    c7, c8, c9, c10, c11, c12 = 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4
    y = float(n)
    b = 1 / y
    x = (6.0 * (s - 1) * b / (y * y - 1) - 1) * math.sqrt(y - 1)
    y = x * x
    u = x * b * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b) - y * b * (
        c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))))
    y = u / math.exp(y / 2.0)
    tail = sps.norm.cdf(x) if lower_tail else sps.norm.sf(x)
    pv = (-y if lower_tail else y) + tail
    return min(max(pv, 0.0), 1.0)


def pspearman(q: float, n: int, lower_tail: bool, exact: bool) -> float:
    """cor.test's pspearman(): AS 89 when exact (n <= 1290), else the t approximation."""
    if n <= 1290 and exact:
        return prho(n, round(q) + 2 * lower_tail, lower_tail)
    den = n * (n * n - 1) / 6
    r = 1 - q / den
    t = r / math.sqrt((1 - r * r) / (n - 2))
    return float(sps.t.sf(t, n - 2) if lower_tail else sps.t.cdf(t, n - 2))


# --- Kendall (R: ckendall / pkendall) ----------------------------------------------------------

@lru_cache(maxsize=64)
def _kendall_counts(n: int) -> np.ndarray:
    counts = np.array([1.0])
    for i in range(2, n + 1):
        counts = np.convolve(counts, np.ones(i))
    return counts


def pkendall(q: float, n: int) -> float:
    """P[T <= q], T the number of concordant pairs among n untied observations."""
    q = math.floor(q + 1e-7)
    if q < 0:
        return 0.0
    if q > n * (n - 1) / 2:
        return 1.0
    return float(_kendall_counts(n)[: q + 1].sum() / math.gamma(n + 1))


# --- Binomial (R: binom.test two-sided rule) ---------------------------------------------------

def binom_two_sided(x: int, n: int, p: float) -> float:
    """binom.test's two-sided p-value: tables no more likely than the observed one (relErr 1 + 1e-7)."""
    d = sps.binom.pmf(x, n, p)
    m = n * p
    if x == m:
        return 1.0
    if x < m:
        i = np.arange(math.ceil(m), n + 1)
        y = int((sps.binom.pmf(i, n, p) <= d * REL_ERR).sum())
        pv = sps.binom.cdf(x, n, p) + sps.binom.sf(n - y, n, p)
    else:
        i = np.arange(0, math.floor(m) + 1)
        y = int((sps.binom.pmf(i, n, p) <= d * REL_ERR).sum())
        pv = sps.binom.cdf(y - 1, n, p) + sps.binom.sf(x - 1, n, p)
    return float(min(1.0, pv))


def clopper_pearson(x: int, n: int, conf: float, alternative: str) -> tuple[float, float]:
    """binom.test's exact confidence interval."""
    def lower(a: float) -> float:
        return 0.0 if x == 0 else float(sps.beta.ppf(a, x, n - x + 1))

    def upper(a: float) -> float:
        return 1.0 if x == n else float(sps.beta.ppf(1 - a, x + 1, n - x))

    if alternative == "less":
        return 0.0, upper(1 - conf)
    if alternative == "greater":
        return lower(1 - conf), 1.0
    a = (1 - conf) / 2
    return lower(a), upper(a)
