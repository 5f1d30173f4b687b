"""Job kinds: each is a function `(params, progress) -> result dict`, registered once by name.

Task modules live in `jobs/tasks/` and are discovered automatically, so a new
capability adds a module there and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput
from core.progress import Progress

QUEUES = ("default", "ml_tasks", "analysis_tasks", "gpu_tasks")  # gpu_tasks: deep learning (dl.train)

TaskFn = Callable[[dict[str, Any], Progress], dict[str, Any] | None]


@dataclass(frozen=True)
class Task:
    kind: str
    queue: str
    fn: TaskFn
    title: str


_TASKS: dict[str, Task] = {}


def task(kind: str, *, queue: str = "default", title: str = "") -> Callable[[TaskFn], TaskFn]:
    """Register the decorated function as the handler of job kind `kind` on `queue`."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(fn: TaskFn) -> TaskFn:
        _TASKS[kind] = Task(kind=kind, queue=queue, fn=fn, title=title or kind)
        return fn

    return register


def load_tasks() -> None:
    """Import every module of `jobs.tasks` so their kinds are registered."""
    import jobs.tasks as package

    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"jobs.tasks.{info.name}")


def get_task(kind: str) -> Task:
    """The task of `kind`. A kind not registered yet is looked for first in the module named like its
    first part (`dl.train` in `jobs.tasks.dl`), then in every task module: each pulls in its own heavy
    libraries (torch, the OpenAI SDK, LangChain...), which a process that submits one kind need not pay for."""
    if kind not in _TASKS:
        _load_named(kind)
    if kind not in _TASKS:
        load_tasks()
    if kind not in _TASKS:
        raise InvalidInput(f"Unknown job kind {kind!r}.", hint=f"Known kinds: {', '.join(sorted(_TASKS))}")
    return _TASKS[kind]


def _load_named(kind: str) -> None:
    import jobs.tasks as package

    name = kind.split(".", 1)[0]
    if name in {info.name for info in pkgutil.iter_modules(package.__path__)}:
        importlib.import_module(f"jobs.tasks.{name}")


def kinds() -> list[str]:
    load_tasks()
    return sorted(_TASKS)
