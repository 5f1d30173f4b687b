"""Intent: statistics. Hypothesis tests (t-test, Mann-Whitney, ANOVA, chi-square, correlation, normality)."""

from __future__ import annotations

from agents.planner.clarify import missing_column
from agents.planner.parse import Ctx, _pair, _value_group
from agents.reply import ToolCall

TESTS = (
    (r"mann[\s\-]?whitney|\bu[\s\-]test\b|wilcoxon rank|rank[\s\-]sum", "mannwhitney", "value_group"),
    (r"\bt[\s\-]?test\b|\bttest\b|student|welch", "ttest_ind", "value_group"),
    (r"\banova\b|analysis of variance", "anova_oneway", "value_group"),
    (r"\bchi[\s\-]?(square|squared|sq|2)\b|\bchi2\b|contingency|\bindependen(t|ce)\b", "chi2_independence", "pair"),
    (r"\bspearman\b", "spearman", "pair"),
    (r"\bpearson\b|significant(ly)? correlat", "pearson", "pair"),
    (r"\bnormal(ly)?\b|normality|shapiro|gaussian|bell[\s\-]?(shaped|curve)", "shapiro", "value"),
    (r"(?m)^(?>.*?\b(differ|differs|different|difference|differences)\b).*\b(between|across|by|among)\b|"
     r"^(?>.*?\bcompare\b).*\b(between|across|by|among)\b", "anova_oneway", "value_group"),
)


def rule_tests(ctx: Ctx) -> list[ToolCall] | None:
    for pattern, test, shape in TESTS:
        if not ctx.has(pattern):
            continue
        calls = _test(ctx, test, shape)
        if not calls:
            missing_column(ctx, f"a {test} test")
        return calls
    return None


def _test(ctx: Ctx, test: str, shape: str) -> list[ToolCall] | None:
    if shape == "value":
        value = (ctx.of_kind("numeric") or ctx.cols or [None])[0]
        return ctx.call("hypothesis_test", test=test, value=value) if value else None
    if shape == "pair":
        x, y = _pair(ctx)
        return ctx.call("hypothesis_test", test=test, x=x, y=y) if x and y else None
    value, group = _value_group(ctx)
    return ctx.call("hypothesis_test", test=test, value=value, group=group) if value and group else None
