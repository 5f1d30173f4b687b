"""Moved to `core.datasets.versions`; this name is kept so that `from core import versions` keeps working."""

from core.datasets.versions import *  # noqa: F403
