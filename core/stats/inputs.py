"""Checking a test's parameters and pulling clean samples out of a DataFrame.

Every problem becomes a `StatsError` or `InvalidInput` with a hint an analyst can act on.
"""

from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidInput, StatsError
from core.stats.result import ALTERNATIVES

PARAMETERS = ("value", "group", "x", "y", "table", "alternative", "mu", "p", "equal_var", "alpha",
              "formula", "success", "successes", "trials", "conf_level")
MAX_GROUPS = 50


def resolve_frame(data: Any) -> pd.DataFrame | None:
    """A DataFrame as is; a dataset id or name loaded from storage; None stays None."""
    if data is None or isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str | uuid.UUID):
        from core import datasets

        return datasets.load_frame(data)
    raise InvalidInput(
        f"data must be a pandas DataFrame or a dataset id or name, not {type(data).__name__}.",
        hint="Pass a DataFrame, or data=None with table=... for contingency tests.",
    )


def suggest(name: str, options: list[str]) -> str:
    """' Did you mean ...?' for a close match, else ''."""
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


@dataclass
class Params:
    """The parameters of one test run, with typed, checked accessors."""

    test: str
    frame: pd.DataFrame | None
    raw: dict[str, Any] = field(default_factory=dict)
    usage: str = ""  # how the test is called, for hints (given by the registry, which sits above this module)

    @property
    def alternative(self) -> str:
        alt = str(self.raw.get("alternative") or "two-sided").replace("two.sided", "two-sided")
        if alt not in ALTERNATIVES:
            raise InvalidInput(f"Unknown alternative {alt!r}.", hint=f"Use one of: {', '.join(ALTERNATIVES)}.")
        return alt

    @property
    def alpha(self) -> float:
        alpha = self.number("alpha", 0.05)
        if not 0 < alpha < 1:
            raise InvalidInput(f"alpha must be between 0 and 1, not {alpha}.", hint="0.05 is the usual choice.")
        return alpha

    @property
    def conf(self) -> float:
        """Confidence level of intervals: conf_level, else 1 - alpha."""
        return self.number("conf_level", 1 - self.alpha)

    def number(self, name: str, default: float) -> float:
        value = self.raw.get(name)
        if value is None:
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{name} must be a number, not {value!r}.") from exc

    @property
    def usage_hint(self) -> str:
        return f"Usage: {self.usage}" if self.usage else ""

    def has(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def need(self, *names: str) -> None:
        missing = [n for n in names if not self.has(n)]
        if missing:
            raise InvalidInput(
                f"{self.test} needs the parameter(s) {', '.join(missing)}.",
                hint=self.usage_hint,
            )

    def data(self) -> pd.DataFrame:
        if self.frame is None:
            raise InvalidInput(f"{self.test} needs data (a DataFrame or a dataset).", hint=self.usage_hint)
        return self.frame

    def column(self, role: str) -> str:
        """The column named by parameter `role`, checked to exist."""
        self.need(role)
        name = self.raw[role]
        frame = self.data()
        if not isinstance(name, str | int):
            raise InvalidInput(f"{role} must be one column name, not {name!r}.",
                               hint="Several grouping columns are only for anova (group=[...] or formula=...).")
        if name not in frame.columns:
            cols = [str(c) for c in frame.columns]
            raise InvalidInput(
                f"Unknown column {name!r} for {role}.{suggest(str(name), cols)}",
                hint=f"Columns: {', '.join(cols[:30])}.",
            )
        return name

    def numeric(self, role: str) -> pd.Series:
        """The column for `role` as floats (missing values kept as NaN)."""
        name = self.column(role)
        series = self.data()[name]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            raise StatsError(
                f"Column {name!r} is not numeric ({series.dtype}); {self.test} needs numbers for {role}.",
                hint="Choose a numeric column, or a test for categories such as chi2_independence.",
            )
        return series.astype(float)

    def sample(self, role: str) -> np.ndarray:
        """A numeric column without missing values, checked to be usable."""
        values = self.numeric(role).dropna().to_numpy()
        check_sample(values, f"Column {self.raw[role]!r}", minimum=2)
        return values

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Columns x and y as paired samples: rows where both are present."""
        self.need("x", "y")
        both = pd.concat([self.numeric("x"), self.numeric("y")], axis=1).dropna()
        if len(both) < 2:
            raise StatsError(
                f"Columns {self.raw['x']!r} and {self.raw['y']!r} have fewer than 2 rows with both values.",
                hint="Paired tests need rows where both columns are filled in.",
            )
        return both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()

    def groups(self, *, exactly: int | None = None) -> dict[str, np.ndarray]:
        """Values of `value` split by `group`, in sorted level order; each group checked."""
        self.need("value", "group")
        values = self.numeric("value")
        gname = self.column("group")
        labels = self.data()[gname]
        levels = sorted(labels.dropna().unique(), key=_sort_key)
        if len(levels) > MAX_GROUPS:
            raise StatsError(
                f"Column {gname!r} has {len(levels)} distinct values: too many groups.",
                hint=f"Choose a grouping column with at most {MAX_GROUPS} categories.",
            )
        out = {str(level): values[labels == level].dropna().to_numpy() for level in levels}
        _check_group_count(self.test, gname, out, exactly)
        for level, sample in out.items():
            check_sample(sample, f"Group {level!r} of {gname!r}", minimum=1)
        return out

    def crosstab(self) -> tuple[np.ndarray, list[str], list[str]]:
        """A contingency table from `table`, or from the categorical columns x and y."""
        if self.has("table"):
            return as_table(self.raw["table"], self.test)
        self.need("x", "y")
        frame = self.data()
        x, y = self.column("x"), self.column("y")
        tab = pd.crosstab(frame[x], frame[y])
        if tab.shape[0] < 2 or tab.shape[1] < 2:
            raise StatsError(
                f"Columns {x!r} and {y!r} give a {tab.shape[0]} x {tab.shape[1]} table; at least 2 x 2 is needed.",
                hint="Each column needs at least two categories with data.",
            )
        return tab.to_numpy(dtype=float), [str(v) for v in tab.index], [str(v) for v in tab.columns]


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, value) if isinstance(value, int | float | np.number) else (1, str(value))


def _check_group_count(test: str, gname: str, out: dict[str, np.ndarray], exactly: int | None) -> None:
    found = f"found {len(out)}" + (f" ({', '.join(list(out)[:8])})" if out else "")
    if len(out) < 2:
        raise StatsError(
            f"{test} compares groups, but column {gname!r} has only one group ({found}).",
            hint="Choose a grouping column with at least two categories.",
        )
    if exactly is not None and len(out) != exactly:
        raise StatsError(
            f"{test} compares exactly {exactly} groups, but column {gname!r} has {found}.",
            hint="Use anova_oneway or kruskal for more than two groups, or filter the data first.",
        )


def check_sample(values: np.ndarray, what: str, *, minimum: int = 2) -> None:
    """A sample must have enough values (a group with none is 'empty')."""
    if len(values) == 0:
        raise StatsError(f"{what} is empty: it has no numeric values.", hint="Remove the empty group or fill it in.")
    if len(values) < minimum:
        raise StatsError(f"{what} has only {len(values)} value(s); at least {minimum} are needed.")


def check_variation(values: np.ndarray, what: str) -> None:
    """All-equal values make most statistics undefined."""
    if len(values) and np.ptp(values) == 0:
        raise StatsError(
            f"{what}: all values are equal ({values[0]:g}), so the test statistic is undefined.",
            hint="A test needs data that varies.",
        )


def as_table(table: Any, test: str) -> tuple[np.ndarray, list[str], list[str]]:
    """A 2-D table of non-negative counts, with row and column labels."""
    if isinstance(table, pd.DataFrame):
        arr, rows, cols = table.to_numpy(), [str(i) for i in table.index], [str(c) for c in table.columns]
    else:
        arr = np.asarray(table)
        rows = [str(i + 1) for i in range(arr.shape[0])] if arr.ndim == 2 else []
        cols = [str(i + 1) for i in range(arr.shape[1])] if arr.ndim == 2 else []
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The table for {test} must contain numbers (counts).") from exc
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InvalidInput(
            f"{test} needs a two-way table of counts (at least 2 x 2), got shape {arr.shape}.",
            hint="Give table as a list of rows, e.g. [[3, 1], [1, 3]].",
        )
    check_counts(arr, test)
    return arr, rows, cols


def check_counts(arr: np.ndarray, test: str) -> None:
    if np.isnan(arr).any() or (arr < 0).any() or (arr != np.round(arr)).any():
        raise InvalidInput(f"The table for {test} must hold non-negative whole counts.")
    if arr.sum() == 0:
        raise StatsError(f"The table for {test} is all zeros.", hint="A test needs observed counts.")

