"""The progress callback that long-running `core` functions accept."""

from __future__ import annotations

from typing import Any, Protocol


class Progress(Protocol):
    """Report progress; raises `core.errors.JobCancelled` once the job is cancelled.

    fraction: 0..1 (None keeps the last value); message: what is happening now;
    metrics: one point appended to the job's metrics history (for live curves).
    """

    def __call__(
        self, fraction: float | None = None, message: str | None = None, metrics: dict[str, Any] | None = None
    ) -> None: ...


def no_progress(
    fraction: float | None = None, message: str | None = None, metrics: dict[str, Any] | None = None
) -> None:
    """A progress callback that does nothing (for direct calls from a notebook)."""
