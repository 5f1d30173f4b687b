"""The current project of this thread or task: what `projects.use()`, the pages and job workers set.

The lowest module of the projects feature (it imports nothing of ours), so the table module can
read it in its flush hook and `jobs` can set it around a job without importing `core.projects`.
A contextvar, not a global: each Streamlit session runs in its own thread, each job in its worker
thread, and neither sees the other's project.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_current: ContextVar[uuid.UUID | None] = ContextVar("workbench_current_project", default=None)


def current() -> uuid.UUID | None:
    """The id of the project new items join now, or None."""
    return _current.get()


def set_current(project_id: uuid.UUID | str | None) -> None:
    """Make `project_id` current for the rest of this thread (a page run); None clears it."""
    _current.set(_as_uuid(project_id))


@contextmanager
def using(project_id: uuid.UUID | str | None) -> Iterator[uuid.UUID | None]:
    """Make `project_id` current inside the block, and the previous one again after it."""
    token = _current.set(_as_uuid(project_id))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _as_uuid(value: uuid.UUID | str | None) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
