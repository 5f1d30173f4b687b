"""A worker self-test job: sleeps in steps, reporting progress (used by Settings, tests and benchmarks)."""

from __future__ import annotations

import time
from typing import Any

from core.errors import InvalidInput
from core.progress import Progress
from jobs.registry import task


@task("diagnostics.sleep", queue="default", title="Worker self-test")
def sleep(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    steps = int(params.get("steps", 5))
    interval = float(params.get("interval", 0.2))
    fail_at = params.get("fail_at")
    started = time.time()
    for step in range(steps):
        if fail_at is not None and step == int(fail_at):
            raise InvalidInput(f"Self-test asked to fail at step {step}.")
        progress(step / steps, f"step {step + 1} of {steps}",
                 {"step": step, "t": round(time.time() - started, 3), "ts": time.time()})
        time.sleep(interval)
    progress(1.0, "done")
    return {"steps": steps, "seconds": round(time.time() - started, 3), "sent_at": params.get("sent_at")}
