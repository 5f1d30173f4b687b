"""Requests the assistant refuses before planning: deleting or changing data, running code.

Removing duplicate rows is not refused: it is a cleaning step that makes a new version (the old one is kept)."""

from __future__ import annotations

import re

FORBIDDEN = re.compile(
    r"\b(delete|drop|truncate|erase|wipe|destroy|remove|overwrite|alter|insert|update)\b(?!\s+(the\s+)?duplicat)"
    r".{0,60}"
    r"\b(data|dataset|datasets|table|tables|rows?|columns?|records?|files?|database|everything|all)\b"
    r"|\b(run|execute|exec|eval|evaluate)\b.{0,40}\b(code|python|script|shell|command|bash|snippet)\b"
    r"|\b(import os|subprocess|os\.system|rm -rf|__import__)\b|```(?!\s*sql\b)(?!\s*$)",
    re.IGNORECASE | re.DOTALL,
)


def forbidden(message: str) -> bool:
    """True for requests to delete or change data or to run code: there is no tool for that, by design."""
    return FORBIDDEN.search(message) is not None
