"""Which scheduler process leads: a PostgreSQL advisory lock held on a connection of its own.

Only the process holding the lock ticks; when it dies its connection closes, the lock goes with it
and another scheduler takes over at its next round. On SQLite (the embedded default) the scheduler
runs inside the one app process and leads alone. Either way the unique (schedule, fire time) key,
not this lock, is what makes a double fire impossible; the lock only keeps the others idle.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from core.db import get_engine

log = logging.getLogger(__name__)

SCHEDULER_LOCK_KEY = 0x5742_5343_4844  # "WBSCHD"


class Leadership:
    """Call `hold()` each round: True while this process holds the lock (taking it when free)."""

    def __init__(self, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.key = key
        self._conn: Connection | None = None

    def hold(self) -> bool:
        engine = get_engine()
        if engine.dialect.name != "postgresql":
            return True
        if self._conn is not None and self._alive():
            return True
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except BaseException:
            conn.close()
            raise
        if got:
            self._conn = conn
            log.info("this scheduler leads (advisory lock %#x taken)", self.key)
        else:
            conn.close()
        return got

    def _alive(self) -> bool:
        try:
            self._conn.execute(text("SELECT 1"))  # type: ignore[union-attr]
            return True
        except DBAPIError:
            log.warning("lost the scheduler lock's connection; trying to lead again")
            self._drop()
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
            finally:
                self._conn = None

    def release(self) -> None:
        """Give the lock back (a clean shutdown); another scheduler leads from its next round."""
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.close()
        finally:
            self._conn = None
