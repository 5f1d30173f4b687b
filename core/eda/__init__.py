"""Profiling: per-column statistics, correlations and alerts over the stored Parquet file.

The work runs over chunks of columns read once through pyarrow (`source`): DuckDB computes moments,
quantiles and lengths of a whole chunk in one scan, pyarrow and numpy the exact distinct counts,
histograms and top values per column, so a 10,000-column dataset costs what its columns hold.
Correlations and duplicate rows run in DuckDB over the whole file. Spearman correlation uses a
reproducible sample of at most SPEARMAN_SAMPLE rows; every other figure uses all rows. A profile is
cached as JSON beside the version it describes.

Modules, lowest first (none imports one after it): `kinds` (column kinds), `models` (the Profile),
`source` (chunked reading), `values` (one column in pyarrow), `columns` (per-column statistics),
`correlations`, `alerts`, `column_info` (quick facts without a profile) and `profiler` (`profile`, the
entry point, and its cache).
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
