"""core.numfmt: p-values and statistics print as R prints them (format.pval, format(signif(x, 4)))."""

from __future__ import annotations

import math

import pytest

from core.numfmt import format_number, format_p

# Expected strings are what R 4.x prints: format.pval(p, digits = 4) (print.htest's setting), where a
# p-value below .Machine$double.eps (2.220446e-16) prints as "< 2.2e-16".
P_VALUES = [
    (8e-40, "< 2.2e-16"),
    (0.0, "< 2.2e-16"),
    (1e-16, "< 2.2e-16"),
    (3e-16, "3e-16"),
    (1.23456e-5, "1.235e-05"),
    (4.2e-9, "4.2e-09"),
    (0.000123456, "0.0001235"),
    (0.0123456, "0.01235"),
    (0.07939414, "0.07939"),  # t.test(extra ~ group, data = sleep)
    (0.05, "0.05"),
    (0.5, "0.5"),
    (0.999999, "1"),
    (1.0, "1"),
]

NUMBERS = [
    (0.8174234902529599, 4, "0.8174"),
    (-1.860813, 4, "-1.861"),  # sleep t statistic
    (17.77647, 4, "17.78"),  # its Welch df
    (123.456, 4, "123.5"),
    (12345.6, 4, "12346"),  # whole-number digits are kept
    (9999.6, 4, "10000"),
    (1.5, 4, "1.5"),
    (100.0, 4, "100"),
    (0.012345, 2, "0.012"),
    (-0.0004321, 4, "-0.0004321"),
    (1.23456e-7, 4, "1.235e-07"),
    (1e20, 4, "1e+20"),
    (0.0, 4, "0"),
    (math.inf, 4, "Inf"),
    (-math.inf, 4, "-Inf"),
]


@pytest.mark.parametrize(("p", "expected"), P_VALUES)
def test_p_values_print_as_r_format_pval(p: float, expected: str) -> None:
    assert format_p(p) == expected


@pytest.mark.parametrize(("x", "digits", "expected"), NUMBERS)
def test_numbers_print_with_significant_digits_as_r(x: float, digits: int, expected: str) -> None:
    assert format_number(x, digits) == expected


@pytest.mark.parametrize("missing", [None, math.nan])
def test_missing_values_print_as_a_dash(missing: float | None) -> None:
    assert format_p(missing) == "—"
    assert format_number(missing) == "—"


def test_the_long_p_value_of_the_report_is_short_now() -> None:
    text = format_p(float("0.0000000000000000000000000000000000000008"))
    assert text == "< 2.2e-16" and len(text) < 12
