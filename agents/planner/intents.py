"""The intent registry: what the planner can be asked, each with example phrasings and a builder.

An intent is registered once, by the module that knows its tool:

    from agents.planner.intents import Intent, register
    register(Intent("train_dl", examples=("train an lstm on {num}", "fit a neural network to predict {cat}"),
                    build=build_train_dl, tools=("train_dl_model",)))

`examples` are masked phrasings ({num} a numeric column, {cat} another column, {val} a value, {ds} the
dataset, {n} a number, {id} a model or job id): the semantic classifier (`semantic`) embeds them, so a new intent needs no
keyword rule. `build(ctx)` fills the tool call from the grounded message or returns None (or calls
`ctx.clarify`). `changes_data` marks intents whose call makes a new dataset version: a plan that holds
one is shown before it runs. Every module of the `agents.planner` package is imported by the
dispatcher, so a module under agents/planner/ that calls `register` at import is plugged in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.reply import ToolCall

Builder = Callable[..., "list[ToolCall] | None"]


@dataclass(frozen=True)
class Intent:
    name: str
    examples: tuple[str, ...]
    build: Builder
    tools: tuple[str, ...] = ()
    changes_data: bool = False


INTENTS: dict[str, Intent] = {}


def register(*intents: Intent) -> None:
    """Add intents (a later registration of the same name replaces the earlier one)."""
    for intent in intents:
        if not intent.examples:
            raise ValueError(f"Intent {intent.name!r} needs at least one example phrasing.")
        INTENTS[intent.name] = intent


def bank_key() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The registered intents and their examples, hashable (the semantic bank is cached on it)."""
    return tuple((i.name, i.examples) for i in INTENTS.values())


def changes_data(calls: list[ToolCall]) -> bool:
    tools = {t for i in INTENTS.values() if i.changes_data for t in i.tools}
    return any(c.name in tools for c in calls)
