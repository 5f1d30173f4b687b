"""The progress callback handed to `core` functions inside a job."""

from __future__ import annotations

import time
import uuid
from typing import Any

from core.errors import JobCancelled
from core.progress import Progress
from jobs import store


def for_job(job_id: uuid.UUID, *, min_interval_s: float = 0.1) -> Progress:
    """A callback writing progress + heartbeat (at most every `min_interval_s` unless metrics or the end arrive).

    It raises JobCancelled once the job's row is cancelled.
    """
    last = 0.0

    def report(fraction: float | None = None, message: str | None = None,
               metrics: dict[str, Any] | None = None) -> None:
        nonlocal last
        now = time.monotonic()
        final = fraction is not None and fraction >= 1.0
        if not metrics and not final and now - last < min_interval_s:
            return
        last = now
        if store.write_progress(job_id, fraction, message, metrics):
            raise JobCancelled()

    return report
