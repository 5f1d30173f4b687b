"""Moved to `core.datasets.importers`; this name is kept so that `from core import importers` keeps working."""

from core.datasets.importers import *  # noqa: F403
