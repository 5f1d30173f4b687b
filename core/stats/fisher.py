"""Fisher's exact test as R's `fisher.test` computes it.

2 x 2: the conditional maximum-likelihood odds ratio and its exact confidence
interval, found with R's own root finder; r x c: the exact p-value summed over
every table with the observed margins (a column-by-column network enumeration).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln

from core.errors import StatsError
from core.stats.rmath import EPS, REL_ERR, zeroin

MAX_TABLES = 2_000_000
MAX_SECONDS = 10.0


class _Budget:
    """Stops an r x c enumeration that would keep the analyst waiting (R stops on its workspace limit)."""

    def __init__(self, seconds: float = MAX_SECONDS) -> None:
        self.deadline = time.monotonic() + seconds
        self.work = 0

    def spend(self, work: int = 0) -> None:
        self.work += work
        if self.work > MAX_TABLES or time.monotonic() > self.deadline:
            raise StatsError(
                "This table is too large for Fisher's exact test (too many tables share its margins).",
                hint="Use chi2_independence, or merge rare categories first.",
            )


class NoncentralHypergeometric:
    """The conditional distribution of the top-left cell of a 2 x 2 table given its margins."""

    def __init__(self, table: np.ndarray) -> None:
        self.x = int(table[0, 0])
        self.m = int(table[:, 0].sum())
        self.n = int(table[:, 1].sum())
        self.k = int(table[0, :].sum())
        self.lo, self.hi = max(0, self.k - self.n), min(self.k, self.m)
        self.support = np.arange(self.lo, self.hi + 1)
        self.logdc = sps.hypergeom.logpmf(self.support, self.m + self.n, self.m, self.k)

    def density(self, ncp: float) -> np.ndarray:
        d = self.logdc + math.log(ncp) * self.support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mean(self, ncp: float) -> float:
        if ncp == 0:
            return self.lo
        if math.isinf(ncp):
            return self.hi
        return float((self.support * self.density(ncp)).sum())

    def cdf(self, q: int, ncp: float, upper: bool = False) -> float:
        if ncp == 1:
            args = (self.m + self.n, self.m, self.k)
            return float(sps.hypergeom.sf(self.x - 1, *args) if upper else sps.hypergeom.cdf(self.x, *args))
        if ncp == 0:
            return float(q <= self.lo if upper else q >= self.lo)
        if math.isinf(ncp):
            return float(q <= self.hi if upper else q >= self.hi)
        mask = self.support >= q if upper else self.support <= q
        return float(self.density(ncp)[mask].sum())


def fisher_2x2(table: np.ndarray, alternative: str, conf: float) -> dict[str, float]:
    """p-value, conditional MLE odds ratio and its confidence interval (R's fisher.test, 2 x 2)."""
    h = NoncentralHypergeometric(table)
    x = h.x
    if alternative == "less":
        p = h.cdf(x, 1)
    elif alternative == "greater":
        p = h.cdf(x, 1, upper=True)
    else:
        d = h.density(1)
        p = float(d[d <= d[x - h.lo] * REL_ERR].sum())
    low, high = _fisher_ci(h, alternative, conf)
    return {"p_value": min(1.0, p), "estimate": _fisher_mle(h), "ci_low": low, "ci_high": high}


def _fisher_mle(h: NoncentralHypergeometric) -> float:
    x = h.x
    if x == h.lo:
        return 0.0
    if x == h.hi:
        return math.inf
    mu = h.mean(1)
    if mu > x:
        return zeroin(lambda t: h.mean(t) - x, 0, 1)
    if mu < x:
        return 1 / zeroin(lambda t: h.mean(1 / t) - x, EPS, 1)
    return 1.0


def _ncp_upper(h: NoncentralHypergeometric, alpha: float) -> float:
    x = h.x
    if x == h.hi:
        return math.inf
    p = h.cdf(x, 1)
    if p < alpha:
        return zeroin(lambda t: h.cdf(x, t) - alpha, 0, 1)
    if p > alpha:
        return 1 / zeroin(lambda t: h.cdf(x, 1 / t) - alpha, EPS, 1)
    return 1.0


def _ncp_lower(h: NoncentralHypergeometric, alpha: float) -> float:
    x = h.x
    if x == h.lo:
        return 0.0
    p = h.cdf(x, 1, upper=True)
    if p > alpha:
        return zeroin(lambda t: h.cdf(x, t, upper=True) - alpha, 0, 1)
    if p < alpha:
        return 1 / zeroin(lambda t: h.cdf(x, 1 / t, upper=True) - alpha, EPS, 1)
    return 1.0


def _fisher_ci(h: NoncentralHypergeometric, alternative: str, conf: float) -> tuple[float, float]:
    if alternative == "less":
        return 0.0, _ncp_upper(h, 1 - conf)
    if alternative == "greater":
        return _ncp_lower(h, 1 - conf), math.inf
    alpha = (1 - conf) / 2
    return _ncp_lower(h, alpha), _ncp_upper(h, alpha)


# --- r x c -----------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def _columns(total: int, bounds: tuple[int, ...]) -> np.ndarray:
    """Every vector v with sum(v) == total and 0 <= v[i] <= bounds[i]."""
    partial = np.zeros((1, 0), dtype=np.int64)
    for b in bounds[:-1]:
        values = np.arange(min(b, total) + 1)
        grown = np.column_stack([np.repeat(partial, len(values), axis=0), np.tile(values, len(partial))])
        partial = grown[grown.sum(axis=1) <= total]
    last = total - partial.sum(axis=1)
    keep = last <= bounds[-1]
    return np.column_stack([partial[keep], last[keep]])


@lru_cache(maxsize=8)
def _log_factorials(size: int) -> np.ndarray:
    return gammaln(np.arange(size) + 1.0)


def _lf(v: np.ndarray) -> np.ndarray:
    """Sum of log(v!) over the last axis."""
    v = np.asarray(v, dtype=np.int64)
    size = 1 << max(10, int(v.max(initial=0)).bit_length())
    return _log_factorials(size)[v].sum(axis=-1)


def fisher_rxc(table: np.ndarray) -> float:
    """Exact two-sided p-value: the total probability of tables no more likely than the observed one."""
    t = table if table.shape[0] <= table.shape[1] else table.T
    t = t[:, np.argsort(t.sum(axis=0), kind="stable")]
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    const = _lf(rows) + _lf(cols) - gammaln(t.sum() + 1.0)
    threshold = const - _lf(t.ravel()) + math.log(REL_ERR)  # log P(observed), with R's relative tolerance
    states = rows[None, :].astype(np.int64)
    keys, weights = np.zeros(1), np.ones(1)
    p, budget = 0.0, _Budget()
    for k, total in enumerate(cols[:-2]):
        future = tuple(int(c) for c in cols[k:])
        done, states, keys, weights = _resolve(states, keys, weights, future, const, threshold, budget)
        p += done
        if len(keys) == 0:
            return min(1.0, p)
        states, keys, weights = _advance(states, keys, weights, int(total), budget)
    return min(1.0, p + _finish(states, keys, weights, int(cols[-2]), const, threshold, budget))


def _even(total: int, caps: np.ndarray) -> np.ndarray:
    """The most even split of `total` under the caps: the likeliest column (a bound, rows ignored)."""
    order = np.sort(caps)
    out, left = [], total
    for i, cap in enumerate(order):
        share = left // (len(order) - i)
        if cap <= share:
            out.append(int(cap))
            left -= int(cap)
        else:
            rest = len(order) - i
            base, extra = divmod(left, rest)
            return np.array(out + [base + 1] * extra + [base] * (rest - extra))
    return np.array(out)


def _lumpy(total: int, caps: np.ndarray) -> np.ndarray:
    """The most concentrated split of `total` under the caps: the least likely column (a bound)."""
    out, left = [], total
    for cap in np.sort(caps)[::-1]:
        take = min(int(cap), left)
        out.append(take)
        left -= take
    return np.array(out)


@lru_cache(maxsize=65536)
def _bounds(state: tuple[int, ...], future: tuple[int, ...]) -> tuple[float, float, float]:
    """For the columns still to fill: bounds on their sum of log(x!), and log of the sum of 1/prod(x!)."""
    caps, fut = np.array(state), np.array(future)
    low = max(sum(float(_lf(_even(c, caps))) for c in future), sum(float(_lf(_even(r, fut))) for r in state))
    high = min(sum(float(_lf(_lumpy(c, caps))) for c in future), sum(float(_lf(_lumpy(r, fut))) for r in state))
    log_total = float(gammaln(sum(state) + 1.0) - _lf(caps) - _lf(np.array(future)))
    return low, high, log_total


def _resolve(states: np.ndarray, keys: np.ndarray, weights: np.ndarray, future: tuple[int, ...], const: float,
             threshold: float, budget: _Budget) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Settle paths whose every completion is (or none is) at most as likely as the observed table."""
    p, keep = 0.0, np.zeros(len(keys), dtype=bool)
    for state, idx in _group(states):
        budget.spend()
        low, high, log_total = _bounds(state, future)
        need = const - threshold - keys[idx]  # a completion counts when its sum of log(x!) >= need
        every = low >= need + 1e-9
        p += float((weights[idx][every] * np.exp(const - keys[idx][every] + log_total)).sum())
        keep[idx] = ~every & (high >= need - 1e-9)
    return p, states[keep], keys[keep], weights[keep]


def _advance(states: np.ndarray, keys: np.ndarray, weights: np.ndarray, total: int,
             budget: _Budget) -> tuple[np.ndarray, ...]:
    """Fill one more column in every way; merge paths that reach the same state with the same probability."""
    out_states, out_keys, out_weights = [], [], []
    for state, idx in _group(states):
        vecs = _columns(total, state)
        budget.spend(len(vecs) * len(idx))
        out_states.append(np.repeat(np.array(state) - vecs, len(idx), axis=0))
        out_keys.append((_lf(vecs)[:, None] + keys[idx][None, :]).ravel())
        out_weights.append(np.tile(weights[idx], len(vecs)))
    new_states, new_keys = np.vstack(out_states), np.concatenate(out_keys)
    ident = np.column_stack([new_states, np.round(new_keys * 1e9).astype(np.int64)])
    uniq, inverse = np.unique(ident, axis=0, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=np.concatenate(out_weights))
    first = np.zeros(len(uniq), dtype=np.int64)
    first[inverse.ravel()[::-1]] = np.arange(len(inverse))[::-1]
    return uniq[:, :-1], new_keys[first], merged


def _group(states: np.ndarray) -> list[tuple[tuple[int, ...], np.ndarray]]:
    uniq, inverse = np.unique(states, axis=0, return_inverse=True)
    order = np.argsort(inverse.ravel(), kind="stable")
    bounds = np.searchsorted(inverse.ravel()[order], np.arange(len(uniq) + 1))
    return [(tuple(int(a) for a in uniq[i]), order[bounds[i]:bounds[i + 1]]) for i in range(len(uniq))]


def _finish(states: np.ndarray, keys: np.ndarray, weights: np.ndarray, total: int, const: float,
            threshold: float, budget: _Budget) -> float:
    p = 0.0
    for state, idx in _group(states):
        budget.spend()
        vecs = _columns(total, state)
        rest = np.sort(_lf(vecs) + _lf(np.array(state) - vecs))  # the last column is what remains
        shift = rest[0]
        suffix = np.cumsum(np.exp(-(rest - shift))[::-1])[::-1]
        k, w = keys[idx], weights[idx]
        pos = np.searchsorted(rest, const - threshold - k - 1e-9, side="left")
        ok = pos < len(rest)
        p += float((w[ok] * np.exp(const - k[ok] - shift) * suffix[pos[ok]]).sum())
    return p
