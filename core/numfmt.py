"""Numbers for people: p-values as R's `format.pval` prints them, statistics to a few significant digits.

    format_p(3.1e-40)      -> "< 2.2e-16"     (below the double-precision epsilon, as R prints)
    format_p(0.0123456)    -> "0.01235"
    format_p(0.0000123456) -> "1.235e-05"     (scientific below 1e-4)
    format_number(0.8174234902529599) -> "0.8174"
    format_number(None)    -> "—"
"""

from __future__ import annotations

import math
import sys

MISSING = "—"
P_FLOOR = sys.float_info.epsilon  # R's .Machine$double.eps, 2.220446e-16
P_FLOOR_TEXT = "< 2.2e-16"
SMALL = 1e-4  # below this, scientific notation
LARGE = 1e15  # from here, scientific notation (R's fixed notation runs out of digits)


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _scientific(x: float, digits: int) -> str:
    """1.235e-05: `digits` significant digits, trailing zeros dropped, two-digit exponent as R prints it."""
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def format_number(x: float | None, digits: int = 4) -> str:
    """`x` to `digits` significant digits (R's `format(signif(x, digits))`); NaN and None as "—".

    Whole-number digits are never dropped (12345.6 -> "12346"); scientific below 1e-4 and from 1e15.
    """
    if _missing(x):
        return MISSING
    x = float(x)
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    digits = max(1, int(digits))
    size = abs(x)
    if size == 0:
        return "0"
    if size < SMALL or size >= LARGE:
        return _scientific(x, digits)
    rounded = float(f"{x:.{digits}g}")  # signif(x, digits)
    if abs(rounded) >= 10 ** digits:
        return f"{x:.0f}" if size >= 10 ** digits else f"{rounded:.0f}"
    return f"{rounded:.{digits}g}"


def format_p(p: float | None) -> str:
    """A p-value as R's `format.pval` prints it with 4 digits: "< 2.2e-16" below machine epsilon."""
    if _missing(p):
        return MISSING
    if float(p) < P_FLOOR:
        return P_FLOOR_TEXT
    return format_number(p, 4)
