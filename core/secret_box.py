"""Short-lived secrets handed from a page to a job without passing through the database.

A password typed for one import is put here and the job gets only an opaque token. In embedded
mode the worker runs in this process, so an in-memory box is enough; with Redis the secret is kept
in Redis under a random key with a short expiry and deleted when taken (read once).
"""

from __future__ import annotations

import secrets
import threading
import time

from core.config import get_settings

DEFAULT_TTL_S = 600
_PREFIX = "workbench:secret:"
_lock = threading.Lock()
_memory: dict[str, tuple[float, str]] = {}


def put(value: str, *, ttl_s: int = DEFAULT_TTL_S) -> str:
    """Keep `value` for at most `ttl_s` seconds; return the token that takes it back once."""
    token = secrets.token_urlsafe(24)
    url = get_settings().redis_url
    if url:
        _redis(url).set(_PREFIX + token, value, ex=ttl_s)
        return token
    with _lock:
        _purge()
        _memory[token] = (time.monotonic() + ttl_s, value)
    return token


def take(token: str | None) -> str | None:
    """The secret for `token` (removed as it is read), or None when unknown or expired."""
    if not token:
        return None
    url = get_settings().redis_url
    if url:
        value = _redis(url).getdel(_PREFIX + token)
        return value.decode() if isinstance(value, bytes) else value
    with _lock:
        _purge()
        item = _memory.pop(token, None)
    return item[1] if item else None


def _purge() -> None:
    now = time.monotonic()
    for key in [k for k, (expires, _) in _memory.items() if expires < now]:
        del _memory[key]


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=5)
