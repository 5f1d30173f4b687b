"""What a hypothesis test returns: `TestResult` and its parts (pydantic models)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from core.numfmt import format_number, format_p

ALTERNATIVES = ("two-sided", "less", "greater")


class AssumptionCheck(BaseModel):
    """One automatic check of an assumption of the test (normality, equal variances, expected counts)."""

    name: str
    test: str = ""
    statistic: float | None = None
    p_value: float | None = None
    passed: bool | None = None
    detail: str = ""


class TestResult(BaseModel):
    """The outcome of one hypothesis test, with everything needed to report it."""

    __test__ = False  # not a pytest test class

    test: str = Field(description="Test name as given to run_test, e.g. 'ttest_ind'.")
    method: str = Field(description="Full name of the method, as R prints it.")
    statistic: float | None = None
    statistic_name: str = ""
    p_value: float
    df: float | None = None
    df2: float | None = Field(None, description="Second degrees of freedom (F tests).")
    alternative: str = "two-sided"
    alpha: float = 0.05
    estimate: float | None = None
    estimate_name: str = ""
    ci_low: float | None = None
    ci_high: float | None = None
    conf_level: float | None = None
    effect_size: float | None = None
    effect_size_name: str = ""
    effect_size_interpretation: str = ""
    n: dict[str, int] = Field(default_factory=dict, description="Sample sizes (per group where there are groups).")
    assumptions: list[AssumptionCheck] = Field(default_factory=list)
    recommendation: str = Field("", description="A better-suited test when an assumption is violated.")
    notes: list[str] = Field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Extra tables: 'anova' (sums of squares), 'posthoc' (Tukey HSD)."
    )
    params: dict[str, Any] = Field(default_factory=dict, description="The parameters the test ran with.")
    p_adjusted: float | None = Field(None, description="p-value after a multiple-testing correction (batches).")
    hypothesis: str = Field("", description="The alternative hypothesis in words.")
    conclusion: str = ""

    @property
    def significant(self) -> bool:
        """True when the (adjusted, if any) p-value is below alpha."""
        p = self.p_adjusted if self.p_adjusted is not None else self.p_value
        return p < self.alpha

    def report(self) -> str:
        """One line as R's print.htest reads: 't = -1.861, df = 17.78, p-value = 0.07939', then the conclusion."""
        parts = []
        if self.statistic is not None:
            parts.append(f"{self.statistic_name or 'statistic'} = {format_number(self.statistic)}")
        if self.df is not None:
            df = format_number(self.df) + (f", {format_number(self.df2)}" if self.df2 is not None else "")
            parts.append(f"df = {df}")
        parts.append(p_phrase(self.p_value, "p-value"))
        if self.p_adjusted is not None:
            parts.append(p_phrase(self.p_adjusted, "adjusted p-value"))
        text = f"{self.method}: {', '.join(parts)}"
        return f"{text}. {self.conclusion}" if self.conclusion else text

    def __str__(self) -> str:
        return self.report()

    def summary(self) -> dict[str, Any]:
        """A flat dict for tables and storage (no nested lists)."""
        return {
            "test": self.test, "statistic": self.statistic, "df": self.df, "p_value": self.p_value,
            "p_adjusted": self.p_adjusted, "estimate": self.estimate, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "effect_size": self.effect_size, "effect_size_name": self.effect_size_name,
            "significant": self.significant,
        }


def p_phrase(p: float | None, label: str = "p") -> str:
    """'p = 0.01235', or 'p < 2.2e-16' for a p-value below machine precision."""
    shown = format_p(p)
    return f"{label} {shown}" if shown.startswith("<") else f"{label} = {shown}"


def clean(value: Any) -> Any:
    """numpy scalars to floats; NaN to None (JSON-safe)."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value
