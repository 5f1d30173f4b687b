"""Applying a project template to new data, as a job on the analysis queue."""

from __future__ import annotations

from typing import Any

from core import projects
from core.progress import Progress
from jobs.registry import task


@task("projects.apply_template", queue="analysis_tasks", title="Apply a project template")
def apply_template(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    project = projects.apply_template(params["template_id"], params["dataset_id"], params.get("mapping"),
                                      progress, parameters=params.get("parameters"), name=params.get("name"))
    results = project.meta.get("results", [])
    return {"project_id": str(project.id), "steps": len(results),
            "failed": [r["index"] for r in results if r["status"] != "ok"]}
