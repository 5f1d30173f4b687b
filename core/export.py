"""Moved to `core.datasets.export`; this name is kept so that `from core import export` keeps working."""

from core.datasets.export import *  # noqa: F403
