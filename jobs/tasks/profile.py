"""Profiling as a job on the analysis queue."""

from __future__ import annotations

from typing import Any

from core import eda
from core.progress import Progress
from jobs.registry import task


@task("profile", queue="analysis_tasks", title="Profile dataset")
def profile(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    result = eda.profile(params["dataset_id"], progress=progress)
    return result.model_dump(mode="json")
