"""The profile's data: per-column profiles, correlations, alerts and the whole Profile (cached as JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

PROFILE_FORMAT = 2


class Bin(BaseModel):
    start: Any
    end: Any
    count: int


class ValueCount(BaseModel):
    value: Any
    count: int


class ColumnProfile(BaseModel):
    """One column. `dtype` is the storage type; `kind` the semantic type (numeric, categorical, boolean,
    datetime, text, identifier)."""

    name: str
    dtype: str
    kind: str
    missing: int
    missing_pct: float
    distinct: int
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    skewness: float | None = None
    kurtosis: float | None = None
    zeros: int | None = None
    negatives: int | None = None
    histogram: list[Bin] = Field(default_factory=list)
    top_values: list[ValueCount] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    length_min: int | None = None
    length_mean: float | None = None
    length_max: int | None = None
    range_days: float | None = None
    largest_gap_days: float | None = None
    numeric_share: float | None = None
    true_count: int | None = None
    memory_bytes: int = 0


class Correlation(BaseModel):
    a: str
    b: str
    method: str  # pearson, spearman, cramers_v, correlation_ratio
    value: float


class Alert(BaseModel):
    kind: str
    column: str
    message: str
    severity: str = "warning"


class Profile(BaseModel):
    dataset_id: str
    dataset_name: str
    version: int
    rows: int
    columns: list[ColumnProfile]
    duplicate_rows: int = 0
    duplicate_pct: float = 0.0
    memory_bytes: int = 0
    correlations: list[Correlation] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    spearman_sample_rows: int = 0
    seconds: float = 0.0
    format: int = PROFILE_FORMAT

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    def matrix(self, method: str) -> dict[str, dict[str, float]]:
        """Correlations of one method as a symmetric {a: {b: value}} mapping (diagonal 1)."""
        out: dict[str, dict[str, float]] = {}
        for c in self.correlations:
            if c.method == method:
                out.setdefault(c.a, {c.a: 1.0})[c.b] = c.value
                out.setdefault(c.b, {c.b: 1.0})[c.a] = c.value
        return out

    def top_pairs(self, method: str, limit: int = 20) -> list[Correlation]:
        """The `limit` strongest correlations of one method (largest absolute value first)."""
        pairs = [c for c in self.correlations if c.method == method]
        return sorted(pairs, key=lambda c: (-abs(c.value), c.a, c.b))[:limit]

    def has_missing(self) -> bool:
        """Whether any column has a missing value."""
        return any(c.missing for c in self.columns)
