"""Factorial ANOVA from a formula such as 'breaks ~ wool * tension' (R: summary(aov(...)), TukeyHSD).

The formula is parsed here (column names, '+', '*', ':'), never evaluated. Sums of
squares are sequential (type I), as R's `anova`/`summary.aov` print them.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
from scipy import stats as sps

from core.errors import InvalidInput, StatsError
from core.stats.inputs import MAX_GROUPS, Params, suggest
from core.stats.interpret import equal_variances, fmt, normality, p_phrase, violated
from core.stats.parametric import tukey_hsd
from core.stats.result import TestResult

_NAME = re.compile(r"`([^`]+)`|([^+*:~`\s]+)")


def parse_formula(formula: str, columns: list[str]) -> tuple[str, list[tuple[str, ...]]]:
    """'y ~ a * b + c' -> ('y', [('a',), ('b',), ('c',), ('a', 'b')]) with R's term order."""
    if formula.count("~") != 1:
        raise InvalidInput(f"Formula {formula!r} needs exactly one '~'.", hint="Example: breaks ~ wool * tension")
    lhs, rhs = formula.split("~")
    response = _names(lhs, columns)
    if len(response) != 1:
        raise InvalidInput("The left of '~' must be one numeric column.", hint="Example: breaks ~ wool * tension")
    terms: list[tuple[str, ...]] = []
    for piece in rhs.split("+"):
        factors = _names(piece, columns)
        if not factors:
            raise InvalidInput(f"Formula {formula!r} has an empty term.", hint="Example: breaks ~ wool * tension")
        if "*" in piece:
            expanded = [c for r in range(1, len(factors) + 1) for c in itertools.combinations(factors, r)]
        else:
            expanded = [tuple(factors)]
        terms += [t for t in expanded if t not in terms]
    return response[0], sorted(terms, key=len)


def _names(text: str, columns: list[str]) -> list[str]:
    cleaned = _NAME.sub("", text).strip()
    if cleaned.replace("*", "").replace(":", "").strip():
        raise InvalidInput(f"Cannot read {text.strip()!r} in the formula.", hint="Use column names joined by + * :")
    names = [a or b for a, b in _NAME.findall(text)]
    for name in names:
        if name not in columns:
            raise InvalidInput(f"Unknown column {name!r} in the formula.{suggest(name, columns)}",
                               hint=f"Columns: {', '.join(columns[:30])}.")
    return names


def _dummies(column: pd.Series) -> np.ndarray:
    levels = sorted(column.unique(), key=str)
    if len(levels) > MAX_GROUPS:
        raise StatsError(f"Column {column.name!r} has {len(levels)} levels: too many for ANOVA.",
                         hint="Use a factor with fewer categories.")
    return np.column_stack([(column == lv).to_numpy(float) for lv in levels[1:]])


def _term_matrix(frame: pd.DataFrame, term: tuple[str, ...]) -> np.ndarray:
    parts = [_dummies(frame[name]) for name in term]
    out = parts[0]
    for part in parts[1:]:
        out = np.column_stack([out[:, i] * part[:, j] for i in range(out.shape[1]) for j in range(part.shape[1])])
    return out


def _rss(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    return float(resid @ resid), int(rank)


def anova(p: Params) -> tuple[TestResult, str]:
    frame = p.data()
    formula = p.raw.get("formula") or _formula_from(p)
    response, terms = parse_formula(str(formula), [str(c) for c in frame.columns])
    used = sorted({name for t in terms for name in t})
    sub = frame[[response, *used]].dropna()
    if not pd.api.types.is_numeric_dtype(sub[response]) or pd.api.types.is_bool_dtype(sub[response]):
        raise StatsError(f"Column {response!r} is not numeric; ANOVA needs a numeric response.")
    sub = sub.assign(**{name: sub[name].astype(str) for name in used})
    for name in used:
        if sub[name].nunique() < 2:
            raise StatsError(f"Factor {name!r} has only one group.", hint="A factor needs at least two levels.")
    y = sub[response].to_numpy(float)
    if np.ptp(y) == 0:
        raise StatsError(f"All values of {response!r} are equal; ANOVA is undefined.")
    rows, resid_df, mse = _sequential_ss(sub, terms, y)
    res = _result(p, sub, response, terms, rows, resid_df, mse)
    return res, f"{rows[0]['term']} affects the mean of {response} (see the notes for every term)"


def _formula_from(p: Params) -> str:
    p.need("value", "group")
    groups = p.raw["group"] if isinstance(p.raw["group"], list | tuple) else [p.raw["group"]]
    return f"`{p.raw['value']}` ~ " + " * ".join(f"`{g}`" for g in groups)


def _sequential_ss(sub: pd.DataFrame, terms: list[tuple[str, ...]], y: np.ndarray) -> tuple[list[dict], int, float]:
    x = np.ones((len(y), 1))
    prev_rss, prev_rank = _rss(x, y)
    rows = []
    for term in terms:
        x = np.column_stack([x, _term_matrix(sub, term)])
        rss, rank = _rss(x, y)
        rows.append({"term": ":".join(term), "df": rank - prev_rank, "sum_sq": prev_rss - rss})
        prev_rss, prev_rank = rss, rank
    resid_df = len(y) - prev_rank
    if resid_df < 1 or prev_rss <= 1e-12 * float(((y - y.mean()) ** 2).sum()):
        raise StatsError("The model leaves no residual variation (too few rows per cell).",
                         hint="Use fewer factors or drop the interaction.")
    mse = prev_rss / resid_df
    for row in rows:
        row["mean_sq"] = row["sum_sq"] / row["df"] if row["df"] else float("nan")
        row["F"] = row["mean_sq"] / mse
        row["p_value"] = float(sps.f.sf(row["F"], row["df"], resid_df))
        row["partial_eta_sq"] = row["sum_sq"] / (row["sum_sq"] + prev_rss)
    rows.append({"term": "Residuals", "df": resid_df, "sum_sq": prev_rss, "mean_sq": mse})
    return rows, resid_df, mse


def _result(p: Params, sub: pd.DataFrame, response: str, terms: list[tuple[str, ...]], rows: list[dict],
            resid_df: int, mse: float) -> TestResult:
    factors = [t[0] for t in terms if len(t) == 1]
    cell_samples = {" / ".join(map(str, k if isinstance(k, tuple) else (k,))): g[response].to_numpy(float)
                    for k, g in sub.groupby(factors)}
    fitted = sub.groupby(sorted({n for t in terms for n in t}))[response].transform("mean")
    checks = [*normality({"residuals": (sub[response] - fitted).to_numpy(float)}, p.alpha),
              equal_variances(cell_samples, p.alpha)]
    posthoc = []
    for name in factors:
        grouped = sub.groupby(name)[response]
        means = {str(k): float(v) for k, v in grouped.mean().items()}
        sizes = {str(k): int(v) for k, v in grouped.size().items()}
        posthoc += [{"term": name, **row} for row in tukey_hsd(means, sizes, mse, resid_df, p.conf)]
    first = rows[0]
    return TestResult(
        test=p.test, method="Analysis of variance (type I sums of squares)", statistic=first["F"],
        statistic_name=f"F ({first['term']})", df=first["df"], df2=resid_df, p_value=first["p_value"],
        effect_size=first["partial_eta_sq"], effect_size_name="partial eta squared",
        n={"observations": len(sub)}, assumptions=checks, tables={"anova": rows, "posthoc": posthoc},
        recommendation="Residuals do not look normal; consider kruskal for a single factor."
        if violated(checks, "Normality") else "",
        notes=[f"{r['term']}: F = {fmt(r['F'])}, {p_phrase(r['p_value'])} "
               f"({'significant' if r['p_value'] < p.alpha else 'not significant'} at α = {p.alpha:g})"
               for r in rows[:-1]],
    )
