"""The SQL query history: what ran, where, how many rows, how long, the error; credentials masked.

A target is stored as a URL without any secret: the password of `user:pass@host` and query
parameters such as `?password=` or `?sslpassword=` become `***`, in the target and in any text
(the query itself, an error message) that quotes such a URL.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import select

from core.db import session
from core.models.explore import QueryHistory

log = logging.getLogger(__name__)

_URL = re.compile(r"\b[a-z][\w+.-]*://[^\s'\"]+", re.IGNORECASE)
_SECRET_PARAM = re.compile(r"(?i)([?&;](?:[\w.-]*pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|"
                           r"sslkey|auth|credentials?)=)([^&;]*)")
_USERINFO = re.compile(r"^([^/]*//[^/@:]*:)([^@/]*)(@)")


def _mask_url(url: str) -> str:
    url = _USERINFO.sub(lambda m: f"{m.group(1)}***{m.group(3)}" if m.group(2) else m.group(0), url)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}***", url)


def mask(text: str) -> str:
    """`text` with the password of every URL in it (user:password@ and password-like parameters) as ***."""
    return _URL.sub(lambda m: _mask_url(m.group(0)), text)


def record(sql: str, **fields: Any) -> None:
    """Store one query in the history (masked); a failure to store is logged, never raised."""
    fields = {k: mask(v) if isinstance(v, str) else v for k, v in fields.items()}
    try:
        with session() as s:
            s.add(QueryHistory(sql=mask(sql), **fields))
    except SQLAlchemyError:
        log.exception("could not record the query in the history")


def history(*, limit: int = 50) -> list[QueryHistory]:
    """The most recent queries, newest first."""
    with session() as s:
        stmt = select(QueryHistory).order_by(QueryHistory.created.desc()).limit(limit)
        return list(s.exec(stmt).all())


def clear_history() -> int:
    """Delete the whole query history; returns how many entries went."""
    with session() as s:
        return s.exec(delete(QueryHistory)).rowcount or 0


def history_entry(entry_id: uuid.UUID | str) -> QueryHistory | None:
    with session() as s:
        return s.get(QueryHistory, uuid.UUID(str(entry_id)))
