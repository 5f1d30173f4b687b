"""A scheduler process for the tests: `python -m tests.integration.schedule_ticker START MINUTES`.

It prints `ready` once imported and waits for `go` on stdin (so two of them start together), tries to
lead (the advisory lock), calls `schedules.tick(now=...)` for the simulated instants START + k minutes
+ 1 s, k = 1..MINUTES, and prints one JSON line: whether it led and the ids of the jobs it enqueued.
Then it goes on as a real scheduler (`jobs.scheduler.serve`, same lock) until SIGTERM.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timedelta

from core.schedules.leader import Leadership
from jobs import scheduler, schedules


def main(start: str, minutes: int) -> None:
    logging.basicConfig(level="INFO", stream=sys.stderr)
    begin = datetime.fromisoformat(start)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    leader = Leadership()
    led = leader.hold()
    enqueued = []
    for k in range(1, minutes + 1):
        enqueued += [str(job.id) for job in schedules.tick(begin + timedelta(minutes=k, seconds=1))]
    print(json.dumps({"led": led, "jobs": enqueued}), flush=True)
    scheduler.serve(leader)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
