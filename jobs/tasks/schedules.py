"""The jobs scheduled runs are carried out by: each records its outcome on the schedule's run row.

A handler gets `schedule_id`, `run_id`, `target_id` and the schedule's `params`. The run row is
marked running, then succeeded with the work's summary or failed with its reason (the job fails too,
so the Jobs page shows it); the schedule and its history stay either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core import projects, schedules
from core.errors import WorkbenchError
from core.progress import Progress
from jobs.registry import task

log = logging.getLogger(__name__)

Work = Callable[[dict[str, Any], Progress], schedules.Outcome]


def _carry_out(params: dict[str, Any], progress: Progress, work: Work) -> dict[str, Any]:
    run_id = params["run_id"]
    schedules.start_run(run_id)
    try:
        outcome = work(params, progress)
    except WorkbenchError as exc:
        schedules.finish_run(run_id, error=str(exc))
        raise
    except Exception as exc:
        log.exception("scheduled run %s failed", run_id)
        schedules.finish_run(run_id, error=f"Unexpected error ({type(exc).__name__}); see the worker log.")
        raise
    schedules.finish_run(run_id, summary=outcome.summary, result=outcome.result, drift=outcome.drift)
    return {**outcome.result, "summary": outcome.summary, "drift": outcome.drift}


@task("schedule.dataset.refresh", queue="default", title="Refresh dataset")
def refresh(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Re-import a dataset from its source; a new version only when its content changed."""
    return _carry_out(params, progress, lambda p, prog: schedules.refresh_dataset(p["target_id"], progress=prog))


@task("schedule.dataset.profile", queue="analysis_tasks", title="Re-profile dataset")
def profile(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Profile a dataset again; alerts the previous run did not see are flagged."""
    def work(p: dict[str, Any], prog: Progress) -> schedules.Outcome:
        previous = schedules.previous_result(p["schedule_id"], p["run_id"])
        return schedules.profile_dataset(p["target_id"], previous=previous, progress=prog)

    return _carry_out(params, progress, work)


@task("schedule.template.apply", queue="analysis_tasks", title="Apply template")
def apply_template(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Replay a template on the latest version of its dataset; each run makes a new project."""
    def work(p: dict[str, Any], prog: Progress) -> schedules.Outcome:
        options = p.get("params") or {}
        project = projects.apply_template(p["target_id"], options["dataset_id"], options.get("mapping"), prog)
        results = project.meta.get("results", [])
        failed = [r for r in results if r.get("status") != "ok"]
        summary = f"{len(results) - len(failed)} of {len(results)} step(s) ran into project {project.name!r}"
        return schedules.Outcome(summary=summary, result={"project_id": str(project.id), "steps": len(results),
                                                          "failed_steps": len(failed)})

    return _carry_out(params, progress, work)
