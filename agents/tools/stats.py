"""The hypothesis-test tool: a statistical test on a dataset's columns through `core.stats`."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from agents import resolve
from agents.tools.registry import DatasetArg, ToolResult
from core.numfmt import format_number, format_p

TEST_ALIASES = {
    "ttest": "ttest_ind", "t-test": "ttest_ind", "t_test": "ttest_ind", "welch": "ttest_ind",
    "mann-whitney": "mannwhitney", "mann_whitney": "mannwhitney", "mannwhitneyu": "mannwhitney",
    "anova": "anova_oneway", "chi2": "chi2_independence", "chi-square": "chi2_independence",
    "chisquare": "chi2_independence", "normality": "shapiro", "shapiro-wilk": "shapiro",
    "correlation": "pearson",
}


class TestArgs(DatasetArg):
    test: str = Field(description="Test name: ttest_ind, mannwhitney, anova_oneway, chi2_independence, shapiro, "
                                  "pearson, spearman, ttest_1samp, ...")
    value: str | None = Field(None, description="Numeric column to compare (t-test, ANOVA, Mann-Whitney, Shapiro).")
    group: str | None = Field(None, description="Column holding the groups.")
    x: str | None = Field(None, description="First column (chi-square, correlation tests).")
    y: str | None = Field(None, description="Second column (chi-square, correlation tests).")
    levels: list[str | int | float | bool] | None = Field(
        None, description="Compare only these levels of the group column (e.g. two of its four).", max_length=50)
    alternative: Literal["two-sided", "less", "greater"] = "two-sided"

    @field_validator("test")
    @classmethod
    def _alias(cls, value: str) -> str:
        key = value.strip().lower().replace(" ", "-")
        return TEST_ALIASES.get(key, TEST_ALIASES.get(key.replace("-", "_"), value.strip().lower()))


def hypothesis_test(args: TestArgs) -> ToolResult:
    from core import datasets, stats

    ds = resolve.dataset(args.dataset)
    params = {k: resolve.column(ds, v) for k, v in
              (("value", args.value), ("group", args.group), ("x", args.x), ("y", args.y)) if v}
    frame = datasets.load_frame(ds.id, columns=list(dict.fromkeys(params.values())) or None)
    if args.levels and "group" in params:
        frame = _only_levels(frame, params["group"], args.levels)
    res = stats.run_test(args.test, frame, alternative=args.alternative, **params)
    rows = [{"field": k, "value": "" if v is None else str(v)} for k, v in res.summary().items()]
    text = f"{res.method}: {_statistic(res)}{_p_text(res.p_value)}. {res.conclusion}"
    failed = [a.name for a in res.assumptions if a.passed is False]
    if failed:
        text += f" Assumption(s) not met: {', '.join(failed)}."
    if res.recommendation:
        text += f" {res.recommendation}"
    return ToolResult(text, table=pd.DataFrame(rows))


def _only_levels(frame: pd.DataFrame, group: str, levels: list) -> pd.DataFrame:
    """The rows of the named levels (compared as text, so 1 matches '1'); InvalidInput when one is unknown."""
    from core.errors import InvalidInput

    text = frame[group].astype(str)
    wanted = {str(v) for v in levels}
    unknown = sorted(wanted - set(text.unique()))
    if unknown:
        raise InvalidInput(f"{group} has no level {', '.join(map(repr, unknown))}.",
                           hint=f"Levels: {', '.join(map(str, sorted(text.unique())[:20]))}.")
    return frame[text.isin(wanted)]


def _statistic(res: object) -> str:
    """"F = 0.817, " (3 significant digits), or nothing for a test without a statistic."""
    value = getattr(res, "statistic", None)
    if value is None:
        return ""
    name = getattr(res, "statistic_name", None) or "statistic"
    return f"{name} = {format_number(value, 3)}, "


def _p_text(p: float | None) -> str:
    """"p = 3.2e-08" or "p < 2.2e-16", as R prints p-values."""
    shown = format_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"
