"""SQLModel tables, one module per noun group.

Importing this package imports every module in it, so each table is registered on
`SQLModel.metadata` (a new feature adds a module here and a migration, nothing else).
"""

import importlib
import pkgutil

from core.models.dataset import Dataset
from core.models.job import Job, JobStatus, WorkerBeat

for _info in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["Dataset", "Job", "JobStatus", "WorkerBeat"]

from core import users as _users  # noqa: E402,F401  (its session hooks enforce ownership once sign-in is on)
