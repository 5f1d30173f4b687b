"""Profiling as a job on the analysis queue; the full profile is cached beside the dataset version."""

from __future__ import annotations

from typing import Any

from core import eda
from core.progress import Progress
from jobs.registry import task

SUMMARY_FIELDS = ("name", "dtype", "kind", "missing", "missing_pct", "distinct", "min", "max", "mean")


@task("profile", queue="analysis_tasks", title="Profile dataset")
def profile(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Result: a per-column summary (the page reads the full profile with `eda.cached_profile`)."""
    result = eda.profile(params["dataset_id"], progress=progress, refresh=bool(params.get("refresh")))
    return {
        "dataset_id": result.dataset_id, "version": result.version, "rows": result.rows,
        "columns": [c.model_dump(mode="json", include=set(SUMMARY_FIELDS)) for c in result.columns],
        "alerts": len(result.alerts), "duplicate_rows": result.duplicate_rows, "seconds": result.seconds,
    }
