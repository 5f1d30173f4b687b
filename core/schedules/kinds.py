"""What a schedule can do: each kind names the job that runs it and checks its target at save time.

A kind is registered once (name, job kind, title, target check). The job that runs it lives in the
jobs layer (`jobs/tasks/schedules.py`), which `core` cannot import; the kind only names it. Adding
a kind is one `register` call here and one handler there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.datasets.store import get_dataset
from core.errors import InvalidInput

REFRESHABLE_SOURCES = ("url", "kaggle", "database")

TargetCheck = Callable[[str, dict[str, Any]], str]


@dataclass(frozen=True)
class Kind:
    """`check(target_id, params)` raises NotFound/InvalidInput for a bad target and returns its label."""

    name: str
    job_kind: str
    title: str
    check: TargetCheck


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Make `kind` available to `schedules.create` (once per name)."""
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> Kind:
    """The registered kind called `name`, or InvalidInput listing the known ones."""
    if name not in _KINDS:
        raise InvalidInput(f"{name!r} is not something a schedule can do.", hint=f"Choose one of: {', '.join(kinds())}.")
    return _KINDS[name]


def kinds() -> list[str]:
    return sorted(_KINDS)


def _refreshable_dataset(target_id: str, _params: dict[str, Any]) -> str:
    ds = get_dataset(target_id)
    if ds.source not in REFRESHABLE_SOURCES:
        raise InvalidInput(f"Dataset {ds.name!r} was imported from {ds.source!r}, which cannot be fetched again.",
                           hint="Only datasets imported from a URL, Kaggle or a database can be refreshed; "
                                "schedule a re-profile instead.")
    return ds.name


def _any_dataset(target_id: str, _params: dict[str, Any]) -> str:
    return get_dataset(target_id).name


def _template_on_dataset(target_id: str, params: dict[str, Any]) -> str:
    """A template and the dataset it runs on (`params["dataset_id"]`); the plan is checked now, so a
    dataset that lacks a required column is refused at save time, not at the first run."""
    from core import projects

    template = projects.get_template(target_id)
    dataset_id = params.get("dataset_id")
    if not dataset_id:
        raise InvalidInput("A template schedule needs the dataset it runs on.",
                           hint="Pass params={'dataset_id': ...}; each run uses that dataset's latest version.")
    dataset = get_dataset(dataset_id)
    projects.plan_template(template.id, dataset.id, params.get("mapping"))
    return f"{template.name} on {dataset.name}"


register(Kind("dataset.refresh", "schedule.dataset.refresh", "Refresh dataset", _refreshable_dataset))
register(Kind("dataset.profile", "schedule.dataset.profile", "Re-profile dataset", _any_dataset))
register(Kind("template.apply", "schedule.template.apply", "Apply template", _template_on_dataset))


@dataclass(frozen=True)
class Outcome:
    """What a run did: a one-line summary, a JSON result, and whether the data drifted (a schema change
    or a new profile alert) so Home can flag it."""

    summary: str
    result: dict[str, Any]
    drift: bool = False
