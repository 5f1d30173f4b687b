"""Tests on counts (R: chisq.test, fisher.test, mcnemar.test, binom.test, prop.test)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from core.errors import InvalidInput, StatsError
from core.stats import rmath
from core.stats.fisher import fisher_2x2, fisher_rxc
from core.stats.inputs import Params, as_table, check_counts
from core.stats.parametric import direction
from core.stats.ranks import normal_p
from core.stats.result import AssumptionCheck, TestResult

Outcome = tuple[TestResult, str]


def _expected_check(expected: np.ndarray, alternative_test: str) -> AssumptionCheck:
    low = int((expected < 5).sum())
    ok = low == 0
    return AssumptionCheck(
        name="Expected counts ≥ 5", test="expected frequencies", statistic=float(expected.min()), passed=ok,
        detail="all expected counts are at least 5" if ok else
        f"{low} expected count(s) below 5: the chi-squared approximation may be incorrect; use {alternative_test}",
    )


def _labels(p: Params) -> tuple[str, str]:
    return (str(p.raw.get("x", "rows")), str(p.raw.get("y", "columns")))


def chi2_independence(p: Params) -> Outcome:
    table, rows, cols = p.crosstab()
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        raise StatsError("A row or column of the table has no counts.", hint="Drop empty categories first.")
    n = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    correct = p.raw.get("correct", True) is not False
    yates = min(0.5, float(np.abs(table - expected).min())) if correct and table.shape == (2, 2) else 0.0
    stat = float(((np.abs(table - expected) - yates) ** 2 / expected).sum())
    df = (table.shape[0] - 1) * (table.shape[1] - 1)
    raw_chi2 = float(((table - expected) ** 2 / expected).sum())
    check = _expected_check(expected, "fisher_exact")
    method = "Pearson's Chi-squared test" + (" with Yates' continuity correction" if yates or (
        correct and table.shape == (2, 2)) else "")
    res = TestResult(
        test=p.test, method=method, statistic=stat, statistic_name="X-squared", df=df,
        p_value=float(sps.chi2.sf(stat, df)), effect_size=math.sqrt(raw_chi2 / (n * (min(table.shape) - 1))),
        effect_size_name="Cramér's V", n={"total": int(n)}, assumptions=[check],
        recommendation="" if check.passed else "Some expected counts are below 5; prefer fisher_exact.",
        tables={"observed": _table_rows(table, rows, cols), "expected": _table_rows(expected, rows, cols)},
    )
    x, y = _labels(p)
    return res, f"{x} and {y} are associated"


def _table_rows(table: np.ndarray, rows: list[str], cols: list[str]) -> list[dict[str, Any]]:
    return [{"": r, **{c: float(v) for c, v in zip(cols, line, strict=True)}} for r, line in zip(rows, table, strict=True)]


def _observed_counts(p: Params) -> tuple[np.ndarray, list[str]]:
    if p.has("table"):
        raw = p.raw["table"]
        if isinstance(raw, dict):
            labels, counts = [str(k) for k in raw], np.asarray(list(raw.values()), dtype=float)
        else:
            counts = np.asarray(raw, dtype=float)
            labels = [str(i + 1) for i in range(counts.size)]
        if counts.ndim != 1 or counts.size < 2:
            raise InvalidInput("chi2_goodness_of_fit needs a one-dimensional list of at least 2 counts.",
                               hint="Example: table=[20, 15, 25].")
        check_counts(counts, p.test)
        return counts, labels
    column = p.column("value")
    counts = p.data()[column].dropna().value_counts()
    counts = counts.sort_index(key=lambda s: s.astype(str))
    if len(counts) < 2:
        raise StatsError(f"Column {column!r} has only one category.", hint="A goodness-of-fit test needs 2 or more.")
    return counts.to_numpy(float), [str(v) for v in counts.index]


def _expected_probs(p: Params, labels: list[str]) -> np.ndarray:
    if not p.has("p"):
        return np.full(len(labels), 1 / len(labels))
    raw = p.raw["p"]
    if isinstance(raw, dict):
        missing = [lab for lab in labels if lab not in {str(k) for k in raw}]
        if missing:
            raise InvalidInput(f"p has no probability for {', '.join(missing)}.", hint=f"Categories: {', '.join(labels)}.")
        probs = np.array([float({str(k): v for k, v in raw.items()}[lab]) for lab in labels])
    else:
        probs = np.atleast_1d(np.asarray(raw, dtype=float))
    if probs.shape != (len(labels),):
        raise InvalidInput(f"p must give {len(labels)} probabilities, one per category ({', '.join(labels)}).")
    if (probs < 0).any() or abs(probs.sum() - 1) > math.sqrt(rmath.EPS):
        raise InvalidInput(f"The probabilities p must be non-negative and sum to 1 (they sum to {probs.sum():g}).")
    return probs


def chi2_goodness_of_fit(p: Params) -> Outcome:
    counts, labels = _observed_counts(p)
    probs = _expected_probs(p, labels)
    n = counts.sum()
    expected = n * probs
    stat = float(((counts - expected) ** 2 / expected).sum())
    df = len(counts) - 1
    check = _expected_check(expected, "a exact multinomial test or merged categories")
    res = TestResult(
        test=p.test, method="Chi-squared test for given probabilities", statistic=stat, statistic_name="X-squared",
        df=df, p_value=float(sps.chi2.sf(stat, df)), effect_size=math.sqrt(stat / n), effect_size_name="Cohen's w",
        n={"total": int(n)}, assumptions=[check],
        tables={"counts": [{"category": lab, "observed": float(o), "expected": float(e)}
                           for lab, o, e in zip(labels, counts, expected, strict=True)]},
    )
    return res, "the observed frequencies differ from the expected proportions"


def fisher_exact(p: Params) -> Outcome:
    table, _, _ = p.crosstab()
    x, y = _labels(p)
    if table.shape == (2, 2):
        out = fisher_2x2(table.astype(int), p.alternative, p.conf)
        res = TestResult(
            test=p.test, method="Fisher's Exact Test for Count Data", p_value=out["p_value"],
            estimate=out["estimate"], estimate_name="odds ratio (conditional MLE)", ci_low=out["ci_low"],
            ci_high=out["ci_high"], conf_level=p.conf, effect_size=out["estimate"], effect_size_name="odds ratio",
            n={"total": int(table.sum())},
        )
        rel = direction(p.alternative, "is not 1", "is below 1", "is above 1")
        return res, f"the odds ratio between {x} and {y} {rel}"
    if p.alternative != "two-sided":
        raise InvalidInput("A one-sided Fisher test needs a 2 x 2 table.", hint="Use alternative='two-sided'.")
    res = TestResult(test=p.test, method="Fisher's Exact Test for Count Data", p_value=fisher_rxc(table.astype(int)),
                     n={"total": int(table.sum())})
    return res, f"{x} and {y} are associated"


def mcnemar(p: Params) -> Outcome:
    if p.has("table"):
        table, _, _ = as_table(p.raw["table"], p.test)
    else:
        p.need("x", "y")
        frame = p.data()
        x, y = p.column("x"), p.column("y")
        both = frame[[x, y]].dropna()
        levels = sorted(set(both[x].astype(str)) | set(both[y].astype(str)))
        table = pd.crosstab(pd.Categorical(both[x].astype(str), levels), pd.Categorical(both[y].astype(str), levels),
                            dropna=False).to_numpy(float)
    r = table.shape[0]
    if table.shape[0] != table.shape[1] or r < 2:
        raise InvalidInput(f"McNemar's test needs a square table (same categories before and after), got {table.shape}.",
                           hint="Give a 2 x 2 table of paired outcomes, e.g. [[794, 86], [150, 570]].")
    upper = np.triu_indices(r, 1)
    discordant = table[upper] + table.T[upper]
    if (discordant == 0).any():
        raise StatsError("There are no discordant pairs for some categories, so McNemar's statistic is undefined.",
                         hint="McNemar's test needs pairs that changed category.")
    correct = p.raw.get("correct", True) is not False and r == 2
    if correct:
        b, c = table[0, 1], table[1, 0]
        stat = float((abs(b - c) - 1) ** 2 / (b + c))
    else:
        stat = float(((table[upper] - table.T[upper]) ** 2 / discordant).sum())
    df = r * (r - 1) // 2
    res = TestResult(
        test=p.test, method="McNemar's Chi-squared test" + (" with continuity correction" if correct else ""),
        statistic=stat, statistic_name="McNemar's chi-squared", df=df, p_value=float(sps.chi2.sf(stat, df)),
        n={"pairs": int(table.sum())},
    )
    if r == 2:
        b, c = table[0, 1], table[1, 0]
        res.estimate, res.estimate_name = (float(b / c) if c else math.inf), "odds ratio of discordant pairs (b/c)"
        res.effect_size, res.effect_size_name = float(abs(b / (b + c) - 0.5)), "Cohen's g"
    return res, "the paired proportions changed (marginal homogeneity does not hold)"


_TRUE_WORDS = frozenset({"1", "1.0", "true", "t", "yes", "y", "success", "positive", "pos"})


def success_level(p: Params, series: pd.Series) -> tuple[Any, str]:
    """Which value of a binary outcome column counts as a success, compared by meaning, not by its text.

    A 0/1 column stored as int, float or bool, and text such as yes/no, all work with and without success=:
    success=1 matches 1, 1.0 and True; without it the true level (1, True, "yes") is the success.
    """
    values = series.dropna()
    levels = sorted(values.unique(), key=lambda v: (str(type(v)), v))
    if p.has("success"):
        wanted = p.raw["success"]
        chosen = [lv for lv in levels if _same_level(lv, wanted)]
        if not chosen:
            raise InvalidInput(f"success={wanted!r} is not a value of column {series.name!r}.",
                               hint=f"Values: {', '.join(map(str, levels[:10]))}.")
        return chosen[0], str(chosen[0])
    if len(levels) == 2:
        truthy = [lv for lv in levels if str(lv).strip().lower() in _TRUE_WORDS]
        level = truthy[0] if len(truthy) == 1 else levels[1]
        return level, str(level)
    if len(levels) == 1 and str(levels[0]).strip().lower() in _TRUE_WORDS | {"0", "0.0", "false", "f", "no", "n"}:
        level = levels[0] if str(levels[0]).strip().lower() in _TRUE_WORDS else _opposite(levels[0])
        return level, str(level)
    raise StatsError(f"Column {series.name!r} has {len(levels)} distinct values; a binary column is needed.",
                     hint="Pick a yes/no column, or say which value is a success with success=...")


def _opposite(level: Any) -> Any:
    """The success level of a column that holds only failures (all 0, all False or all "no")."""
    if isinstance(level, bool | np.bool_):
        return True
    if isinstance(level, int | float | np.integer | np.floating):
        return 1
    return {"false": "true", "f": "t", "no": "yes", "n": "y"}.get(str(level).strip().lower(), "1")


def _same_level(level: Any, wanted: Any) -> bool:
    if str(level) == str(wanted):
        return True
    number = _as_number(wanted)
    if number is not None and isinstance(level, bool | int | float | np.bool_ | np.integer | np.floating):
        return float(level) == number
    return str(level).strip().lower() == str(wanted).strip().lower()


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool | np.bool_):
        return float(value)
    text = str(value).strip().lower()
    if text in {"true", "false"}:
        return 1.0 if text == "true" else 0.0
    try:
        return float(text)
    except ValueError:
        return None


def is_success(values: pd.Series, level: Any) -> np.ndarray:
    """True where a value equals the success level (values of one column share its type)."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        number = _as_number(level)
        if number is not None:
            return (values.astype(float) == number).to_numpy()
    text = values.astype(str)
    exact = text == str(level)
    return (exact | (text.str.strip().str.lower() == str(level).strip().lower())).to_numpy()


def success_counts(p: Params, series: pd.Series) -> tuple[int, int, str]:
    """Successes and trials in a binary column; which level counts as success."""
    values = series.dropna()
    level, name = success_level(p, series)
    return int(is_success(values, level).sum()), len(values), name


def binomial(p: Params) -> Outcome:
    if p.has("table"):
        counts = np.asarray(p.raw["table"], dtype=float).ravel()
        if counts.size != 2:
            raise InvalidInput("binomial needs table=[successes, failures].", hint="Example: table=[682, 243].")
        check_counts(counts, p.test)
        x, n, level = int(counts[0]), int(counts.sum()), "success"
    elif p.has("successes") or p.has("trials"):
        x, n, level = _successes_of_trials(p)
    else:
        x, n, level = success_counts(p, p.data()[p.column("value")])
    p0 = p.number("p", 0.5)
    if not 0 <= p0 <= 1:
        raise InvalidInput(f"p must be a probability between 0 and 1, not {p0}.")
    if p.alternative == "less":
        pval = float(sps.binom.cdf(x, n, p0))
    elif p.alternative == "greater":
        pval = float(sps.binom.sf(x - 1, n, p0))
    else:
        pval = rmath.binom_two_sided(x, n, p0)
    low, high = rmath.clopper_pearson(x, n, p.conf, p.alternative)
    est = x / n
    res = TestResult(
        test=p.test, method="Exact binomial test", statistic=x, statistic_name="number of successes",
        p_value=pval, estimate=est, estimate_name=f"probability of success ({level})", ci_low=low, ci_high=high,
        conf_level=p.conf, effect_size=2 * math.asin(math.sqrt(est)) - 2 * math.asin(math.sqrt(p0)),
        effect_size_name="Cohen's h", n={"trials": n},
    )
    rel = direction(p.alternative, "is not", "is less than", "is greater than")
    return res, f"the probability of success {rel} {p0:g}"


def _successes_of_trials(p: Params) -> tuple[int, int, str]:
    """binomial(successes=x, trials=n), as R's binom.test(x, n)."""
    p.need("successes", "trials")
    x, n = p.number("successes", 0), p.number("trials", 0)
    if not (x.is_integer() and n.is_integer()) or x < 0 or n < 1 or x > n:
        raise InvalidInput(f"successes and trials must be whole counts with 0 <= successes <= trials and trials >= 1, "
                           f"not successes={p.raw['successes']!r}, trials={p.raw['trials']!r}.",
                           hint="Example: successes=682, trials=925.")
    return int(x), int(n), "success"


def _prop_counts(p: Params) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if p.has("table"):
        arr = np.asarray(p.raw["table"], dtype=float)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise InvalidInput(f"proportions needs a k x 2 table of [successes, failures] rows, got shape {arr.shape}.",
                               hint="Example: table=[[83, 3], [90, 3], [129, 7], [70, 12]].")
        check_counts(arr, p.test)
        return arr[:, 0], arr.sum(axis=1), [str(i + 1) for i in range(len(arr))]
    p.need("value", "group")
    frame = p.data()
    value, group = p.column("value"), p.column("group")
    labels = sorted(frame[group].dropna().unique(), key=str)
    level, _ = success_level(p, frame[value])
    x, n = [], []
    for lab in labels:
        part = frame.loc[frame[group] == lab, value].dropna()
        if part.empty:
            raise StatsError(f"Group {lab!r} of {group!r} is empty.")
        x.append(int(is_success(part, level).sum()))
        n.append(len(part))
    if len(labels) < 2:
        raise StatsError(f"proportions compares groups, but column {group!r} has only one group.",
                         hint="Choose a grouping column with two or more categories, or use binomial.")
    return np.array(x, float), np.array(n, float), [str(lab) for lab in labels]


def proportions(p: Params) -> Outcome:
    x, n, labels = _prop_counts(p)
    if (n == 0).any():
        raise StatsError("A group has no trials.", hint="Every group needs at least one observation.")
    k = len(x)
    est = x / n
    p0 = p.number("p", float("nan")) if p.has("p") else None
    if k > 1 and p0 is not None:
        raise InvalidInput("p (a null proportion) is only used with one group.", hint="Leave p empty to compare groups.")
    yates = 0.5 if p.raw.get("correct", True) is not False and k <= 2 else 0.0
    low = high = None
    delta = None
    if k == 1:
        p0 = 0.5 if p0 is None else p0
        yates = min(yates, abs(x[0] - n[0] * p0))
        low, high = _wilson(float(x[0]), float(n[0]), yates, p.conf, p.alternative)
    elif k == 2:
        delta = float(est[0] - est[1])
        yates = min(yates, abs(delta) / (1 / n).sum())
        low, high = _diff_ci(est, n, delta, yates, p.conf, p.alternative)
    pooled = x.sum() / n.sum() if k > 1 else p0
    df = k - 1 if k > 1 else 1
    obs = np.column_stack([x, n - x])
    expected = np.column_stack([n * pooled, n * (1 - pooled)])
    stat = float(((np.abs(obs - expected) - yates) ** 2 / expected).sum())
    alternative = p.alternative if k <= 2 else "two-sided"  # as prop.test does for more than two groups
    if alternative == "two-sided":
        pval = float(sps.chi2.sf(stat, df))
    else:
        z = math.copysign(math.sqrt(stat), (est[0] - p0) if k == 1 else delta)
        pval = normal_p(z, alternative)
    check = _expected_check(expected, "fisher_exact (2 groups) or binomial (1 group)")
    res = TestResult(
        test=p.test, method=f"{k}-sample test for {'equality of proportions' if k > 1 else 'given proportions'}"
        + (" with continuity correction" if yates else " without continuity correction"),
        statistic=stat, statistic_name="X-squared", df=df, p_value=pval,
        estimate=delta if k == 2 else float(est[0]) if k == 1 else None,
        estimate_name="difference in proportions" if k == 2 else "proportion" if k == 1 else "",
        ci_low=low, ci_high=high, conf_level=p.conf if low is not None else None,
        effect_size=_prop_effect(est, p0, stat, n), effect_size_name="Cohen's h" if k <= 2 else "Cohen's w",
        n={lab: int(v) for lab, v in zip(labels, n, strict=True)}, assumptions=[check],
        tables={"proportions": [{"group": lab, "successes": float(s), "trials": float(t), "proportion": float(e)}
                                for lab, s, t, e in zip(labels, x, n, est, strict=True)]},
    )
    if k == 1:
        return res, f"the proportion {direction(p.alternative, 'is not', 'is less than', 'is greater than')} {p0:g}"
    if alternative != p.alternative:
        res.notes.append("With more than two groups the test is two-sided, as in R's prop.test.")
    rel = direction(alternative, "differ between groups", "is lower in the first group",
                    "is higher in the first group")
    return res, f"the proportions {rel}" if alternative == "two-sided" else f"the proportion {rel}"


def _prop_effect(est: np.ndarray, p0: float | None, stat: float, n: np.ndarray) -> float:
    if len(est) == 1:
        return 2 * math.asin(math.sqrt(est[0])) - 2 * math.asin(math.sqrt(p0))
    if len(est) == 2:
        return 2 * math.asin(math.sqrt(est[0])) - 2 * math.asin(math.sqrt(est[1]))
    return math.sqrt(stat / n.sum())


def _wilson(x: float, n: float, yates: float, conf: float, alternative: str) -> tuple[float, float]:
    z = sps.norm.ppf((1 + conf) / 2 if alternative == "two-sided" else conf)
    z22n = z * z / (2 * n)
    est = x / n
    pc = est + yates / n
    upper = 1.0 if pc >= 1 else (pc + z22n + z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    pc = est - yates / n
    lower = 0.0 if pc <= 0 else (pc + z22n - z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    if alternative == "less":
        return 0.0, min(upper, 1.0)
    if alternative == "greater":
        return max(lower, 0.0), 1.0
    return max(lower, 0.0), min(upper, 1.0)


def _diff_ci(est: np.ndarray, n: np.ndarray, delta: float, yates: float, conf: float,
             alternative: str) -> tuple[float, float]:
    q = sps.norm.ppf((1 + conf) / 2 if alternative == "two-sided" else conf)
    width = q * math.sqrt((est * (1 - est) / n).sum()) + yates * (1 / n).sum()
    if alternative == "less":
        return -1.0, min(delta + width, 1.0)
    if alternative == "greater":
        return max(delta - width, -1.0), 1.0
    return max(delta - width, -1.0), min(delta + width, 1.0)
