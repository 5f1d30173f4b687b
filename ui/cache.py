"""`st.cache_data` per acting user: a cached result is never handed to another user's session.

Streamlit's cache is shared by every session of the server. Keyed by ids alone, a result computed for
one analyst would be returned to another who named the same id, past `core.users`' checks. `per_user`
adds the acting user to the key (off sign-in it is the one local user: nothing changes).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from core import users

F = TypeVar("F", bound=Callable[..., Any])


def per_user(**cache_options: Any) -> Callable[[F], F]:
    """Like `@st.cache_data(**cache_options)`, with the acting user part of the key."""

    def decorate(fn: F) -> F:
        def for_viewer(viewer: str, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        for_viewer.__qualname__ = f"{fn.__qualname__}.for_viewer"  # one cache per decorated function
        for_viewer.__module__ = fn.__module__
        cached = st.cache_data(**cache_options)(for_viewer)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            return cached(str(users.current_id()), *args, **kwargs)

        call.clear = cached.clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return decorate
