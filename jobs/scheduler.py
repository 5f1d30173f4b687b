"""The scheduler process (`make scheduler`, the compose `scheduler` service); in embedded mode, a thread.

APScheduler runs one round every SCHEDULER_TICK_S: the process that holds the advisory lock
(`core.schedules.leader`) calls `jobs.schedules.tick()`, which only enqueues jobs; workers do the work.
Two schedulers may run: one leads, the other waits to take over; and even two leaders could not fire
a slot twice (the run rows' unique key decides). Missed slots while everything was down fire once
at the first round (coalesced). In embedded mode (no REDIS_URL) the app process runs the same rounds
in a background thread, started once per process by `start_in_app`.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core.config import get_settings
from core.db import utcnow
from core.schedules.leader import Leadership
from jobs import schedules

log = logging.getLogger(__name__)
logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # not a line per round

_in_app: BackgroundScheduler | None = None
_lock = threading.Lock()


def one_round(leader: Leadership) -> int:
    """Tick if this process leads; return how many runs it enqueued. Errors are logged, not raised:
    the scheduler must outlive a database or queue hiccup and try again next round."""
    try:
        if not leader.hold():
            return 0
        fired = schedules.tick()
    except Exception:
        log.exception("scheduler round failed; trying again next round")
        return 0
    if fired:
        log.info("enqueued %d scheduled run(s)", len(fired))
    return len(fired)


def build(scheduler: BaseScheduler, leader: Leadership, *,
          round_fn: Callable[[Leadership], int] = one_round) -> BaseScheduler:
    """Add the round to an APScheduler scheduler: every SCHEDULER_TICK_S, the first one at once."""
    every = IntervalTrigger(seconds=get_settings().scheduler_tick_s, timezone="UTC")
    scheduler.add_job(round_fn, every, args=[leader], id="workbench-schedules", max_instances=1, coalesce=True,
                      next_run_time=utcnow(), misfire_grace_time=None)
    return scheduler


def _wanted_in_app() -> bool:
    settings = get_settings()
    return settings.embedded and settings.scheduler_in_app


def in_app_round(leader: Leadership) -> int:
    """A round of the in-app scheduler; none once the settings say the app should not schedule."""
    return one_round(leader) if _wanted_in_app() else 0


def start_in_app() -> None:
    """Embedded mode (and SCHEDULER_IN_APP): run the rounds in a daemon thread of this process, once."""
    global _in_app
    if not _wanted_in_app():
        return
    with _lock:
        if _in_app is None or not _in_app.running:
            _in_app = build(BackgroundScheduler(daemon=True, timezone="UTC"), Leadership(), round_fn=in_app_round)
            _in_app.start()
            log.info("in-app scheduler started (every %s s)", get_settings().scheduler_tick_s)


def serve(leader: Leadership | None = None) -> None:
    """Run the rounds in this thread until SIGTERM/SIGINT, then give the lock back."""
    leader = leader or Leadership()
    scheduler = build(BlockingScheduler(timezone="UTC"), leader)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started (a round every %s s)", get_settings().scheduler_tick_s)
    try:
        scheduler.start()
    finally:
        leader.release()
        log.info("scheduler stopped")


def main() -> None:
    """`python -m jobs.scheduler`: lead or stand by until SIGTERM/SIGINT."""
    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not get_settings().redis_url:
        raise SystemExit("REDIS_URL is not set: the scheduler service enqueues into Redis "
                         "(in embedded mode the app runs the schedules itself).")
    serve()


if __name__ == "__main__":
    main()
