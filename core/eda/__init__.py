"""Profiling: per-column statistics, correlations and alerts, computed in DuckDB over the stored Parquet file.

The work runs over chunks of columns (`source`), each covered by a handful of scans (base statistics,
histograms, top values through GROUPING SETS) instead of one pass per column and statistic, so a
10,000-column dataset costs what its columns hold. Spearman correlation is computed on a reproducible
sample of at most SPEARMAN_SAMPLE rows; every other figure uses all rows. A profile is cached as JSON
beside the version it describes.

Modules, lowest first (none imports one above it): `kinds` (column kinds), `models` (the Profile),
`source` (chunked reading), `columns` (per-column statistics), `correlations`, `alerts`,
`column_info` (quick facts without a profile) and `profiler` (`profile`, the entry point, and its cache).
"""

from __future__ import annotations

import json

from core.eda.alerts import alerts
from core.eda.column_info import ColumnInfo, column_info
from core.eda.columns import HIST_BINS, LOW_CARD_TOP, TOP_K
from core.eda.correlations import MAX_CORR_COLUMNS, SPEARMAN_SAMPLE
from core.eda.kinds import CATEGORICAL_MAX, INTEGER, KINDS, NUMERIC, semantic_kind, storage_kind
from core.eda.models import PROFILE_FORMAT, Alert, Bin, ColumnProfile, Correlation, Profile, ValueCount
from core.eda.profiler import cache_path, cached_profile, profile
from core.eda.source import CHUNK


def dumps(prof: Profile) -> str:
    """The profile as JSON text."""
    return json.dumps(prof.model_dump(mode="json"))


__all__ = [
    "CATEGORICAL_MAX", "CHUNK", "HIST_BINS", "INTEGER", "KINDS", "LOW_CARD_TOP", "MAX_CORR_COLUMNS", "NUMERIC",
    "PROFILE_FORMAT", "SPEARMAN_SAMPLE", "TOP_K", "Alert", "Bin", "ColumnInfo", "ColumnProfile", "Correlation",
    "Profile", "ValueCount", "alerts", "cache_path", "cached_profile", "column_info", "dumps", "profile",
    "semantic_kind", "storage_kind",
]
