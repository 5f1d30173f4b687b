"""The sidebar chat shown on every page (filled in by the assistant)."""

from __future__ import annotations


def sidebar_chat(*, page: str) -> None:
    """Render the compact assistant chat in the sidebar; the assistant lands in a later step."""
    return None
