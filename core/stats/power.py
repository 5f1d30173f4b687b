"""Power and sample size for t-tests and proportions (R: power.t.test, power.prop.test, strict = FALSE)."""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic import BaseModel
from scipy import stats as sps

from core.errors import InvalidInput, StatsError
from core.stats.rmath import zeroin

T_TYPES = {"two.sample": 2, "one.sample": 1, "paired": 1}


class PowerResult(BaseModel):
    """A solved power calculation: n is per group for two-sample designs."""

    kind: str
    solved_for: str
    n: float
    power: float
    sig_level: float
    alternative: str
    delta: float | None = None
    sd: float | None = None
    p1: float | None = None
    p2: float | None = None
    note: str = ""

    @property
    def n_required(self) -> int:
        """The sample size to plan for (n rounded up)."""
        return math.ceil(self.n - 1e-9)


def _one_unknown(**values: float | None) -> str:
    missing = [k for k, v in values.items() if v is None]
    if len(missing) != 1:
        raise InvalidInput(f"Give all but one of {', '.join(values)}; the missing one is solved for.",
                           hint=f"Now missing: {', '.join(missing) or 'none'}.")
    return missing[0]


def _tside(alternative: str) -> int:
    if alternative in ("two-sided", "two.sided"):
        return 2
    if alternative in ("one-sided", "one.sided", "less", "greater"):
        return 1
    raise InvalidInput(f"Unknown alternative {alternative!r}.", hint="Use 'two-sided' or 'one-sided'.")


def _solve(f: Callable[[float], float], lower: float, upper: float, what: str) -> float:
    if f(lower) * f(upper) > 0:
        raise StatsError(f"No {what} in [{lower:g}, {upper:g}] reaches the requested power.",
                         hint="Lower the power, or increase the effect or the sample size.")
    return zeroin(f, lower, upper)


def power_ttest(n: float | None = None, delta: float | None = None, sd: float = 1.0, sig_level: float = 0.05,
                power: float | None = None, type: str = "two.sample", alternative: str = "two-sided") -> PowerResult:
    """Solve for the one of n (per group), delta or power left as None, like R's power.t.test."""
    if type not in T_TYPES:
        raise InvalidInput(f"Unknown t-test type {type!r}.", hint=f"Use one of: {', '.join(T_TYPES)}.")
    _check_levels(sig_level, power)
    tsample, tside = T_TYPES[type], _tside(alternative)

    def pw(n_: float, delta_: float) -> float:
        nu = (n_ - 1) * tsample
        return float(sps.nct.sf(sps.t.isf(sig_level / tside, nu), nu, math.sqrt(n_ / tsample) * delta_ / sd))

    target = _one_unknown(n=n, delta=delta, power=power)
    if target == "power":
        power = pw(n, delta)
    elif target == "n":
        n = _solve(lambda v: pw(v, delta) - power, 2, 1e7, "sample size")
    else:
        delta = _solve(lambda v: pw(n, v) - power, sd * 1e-7, sd * 1e7, "difference")
    return PowerResult(kind=f"{type} t test", solved_for=target, n=n, power=power, sig_level=sig_level,
                       alternative="two-sided" if tside == 2 else "one-sided", delta=delta, sd=sd,
                       note="n is the number in *each* group" if type == "two.sample" else "n is the number of "
                       + ("pairs" if type == "paired" else "observations"))


def power_proportions(n: float | None = None, p1: float | None = None, p2: float | None = None,
                      sig_level: float = 0.05, power: float | None = None,
                      alternative: str = "two-sided") -> PowerResult:
    """Solve for n (per group), power or p2, like R's power.prop.test (an A/B test planner)."""
    _check_levels(sig_level, power)
    tside = _tside(alternative)
    if p1 is None or not 0 < p1 < 1 or (p2 is not None and not 0 < p2 < 1):
        raise InvalidInput("p1 and p2 must be proportions strictly between 0 and 1.", hint="Example: p1=0.5, p2=0.75.")

    def pw(n_: float, p2_: float) -> float:
        q = sps.norm.isf(sig_level / tside)
        num = math.sqrt(n_) * abs(p1 - p2_) - q * math.sqrt((p1 + p2_) * (1 - (p1 + p2_) / 2))
        return float(sps.norm.cdf(num / math.sqrt(p1 * (1 - p1) + p2_ * (1 - p2_))))

    target = _one_unknown(n=n, p2=p2, power=power)
    if target == "power":
        power = pw(n, p2)
    elif target == "n":
        if p1 == p2:
            raise StatsError("p1 equals p2: no sample size can detect a zero difference.")
        n = _solve(lambda v: pw(v, p2) - power, 2, 1e7, "sample size")
    else:
        p2 = _solve(lambda v: pw(n, v) - power, p1, 1 - 1e-10, "p2")
    return PowerResult(kind="two-sample comparison of proportions", solved_for=target, n=n, power=power,
                       sig_level=sig_level, alternative="two-sided" if tside == 2 else "one-sided", p1=p1, p2=p2,
                       note="n is the number in *each* group")


def _check_levels(sig_level: float, power: float | None) -> None:
    if not 0 < sig_level < 1:
        raise InvalidInput(f"sig_level must be between 0 and 1, not {sig_level}.")
    if power is not None and not 0 < power < 1:
        raise InvalidInput(f"power must be between 0 and 1, not {power}.")
