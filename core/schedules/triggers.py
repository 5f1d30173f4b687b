"""When a schedule fires: cron or interval triggers (APScheduler 3) in a time zone, and the due slot.

APScheduler computes the fire times; this module only asks it for the latest one that is due. Missed
runs are coalesced: whatever number of slots passed since the last run (the scheduler was down), the
due slot is the latest one, and it fires once.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.errors import InvalidInput

MIN_EVERY_MINUTES = 1
MAX_EVERY_MINUTES = 366 * 24 * 60
RECENT = timedelta(days=2)  # a slot is looked for here first, so a long outage costs no long walk
MAX_STEPS = 10_000
_TICK = timedelta(microseconds=1)


def check_timezone(name: str) -> str:
    """The IANA time zone name stripped, or InvalidInput naming it."""
    name = (name or "").strip()
    try:
        if not name:
            raise KeyError(name)
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, KeyError, ValueError) as exc:
        raise InvalidInput(f"{name or 'An empty value'!r} is not a time zone.",
                           hint="Use an IANA name such as UTC, Europe/Paris or America/New_York.") from exc
    return name


def check_cron(expr: str, timezone: str = "UTC") -> str:
    """The cron expression normalised to single spaces, or InvalidInput saying what is wrong with it."""
    expr = " ".join((expr or "").split())
    if len(expr) > 200:
        raise InvalidInput("The cron expression is too long.", hint="Write five fields: minute hour day month weekday.")
    try:
        CronTrigger.from_crontab(expr, timezone=check_timezone(timezone))
    except ValueError as exc:
        raise InvalidInput(f"{expr or 'An empty value'!r} is not a valid cron expression: {exc}.",
                           hint="Write five fields: minute hour day month weekday, e.g. `0 6 * * mon-fri`.") from exc
    return expr


def check_every(minutes: object) -> int:
    """A whole number of minutes between MIN_EVERY_MINUTES and a year, or InvalidInput."""
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes != int(minutes):
        raise InvalidInput(f"The interval must be a whole number of minutes, not {minutes!r}.")
    if minutes < MIN_EVERY_MINUTES:
        raise InvalidInput(f"An interval of {int(minutes)} minute(s) is too short: the shortest is "
                           f"{MIN_EVERY_MINUTES} minute.", hint="Choose 1 minute or more.")
    if minutes > MAX_EVERY_MINUTES:
        raise InvalidInput("An interval over a year is too long.", hint="Use a cron expression for rare runs.")
    return int(minutes)


def make_trigger(*, cron: str | None, every_minutes: int | None, timezone: str, start: datetime) -> BaseTrigger:
    """The APScheduler trigger of a schedule; an interval counts from `start`."""
    if cron:
        return CronTrigger.from_crontab(cron, timezone=timezone)
    return IntervalTrigger(minutes=every_minutes or 0, start_date=start, timezone=timezone)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (SQLite hands naive UTC back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def next_after(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first fire time strictly after `after`, in UTC."""
    found = trigger.get_next_fire_time(None, as_utc(after) + _TICK)
    return None if found is None else as_utc(found)


def latest_due(trigger: BaseTrigger, after: datetime, now: datetime) -> datetime | None:
    """The latest fire time in (after, now], in UTC: the one slot that fires for every slot missed."""
    after, now = as_utc(after), as_utc(now)
    for start in (max(after, now - RECENT), after):
        found = _walk(trigger, start, now)
        if found is not None or start == after:
            return found
    return None


def _walk(trigger: BaseTrigger, start: datetime, now: datetime) -> datetime | None:
    last, current = None, next_after(trigger, start)
    for _ in range(MAX_STEPS):
        if current is None or current > now:
            break
        last, current = current, as_utc(trigger.get_next_fire_time(current, current + _TICK) or now + _TICK)
    return last
