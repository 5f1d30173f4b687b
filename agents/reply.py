"""What one turn of the assistant produces: the planned tool calls, the tool runs and the Reply.

The lowest layer of the assistant: the planner, the LLM loop and the orchestrator all build these,
so none of them needs to import another for its types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.specialists import SPECIALISTS
from agents.tools.registry import ToolResult

TextSink = Callable[[str], None]


class ToolCall(BaseModel):
    """One planned call of a registered tool."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Choice(BaseModel):
    """A reading the assistant offers as a button: its label and the calls it runs. `confirm` marks the
    button that runs a plan shown before it changes data."""

    label: str
    calls: list[ToolCall] = Field(default_factory=list)
    confirm: bool = False


@dataclass
class ToolRun:
    """One tool call that ran in a turn."""

    name: str
    arguments: dict[str, Any]
    agent: str
    result: ToolResult

    @property
    def ok(self) -> bool:
        return self.result.ok

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": self.arguments, "agent": self.agent, **self.result.record()}


@dataclass
class Reply:
    """The assistant's answer to one message."""

    text: str
    agent: str
    mode: Literal["offline", "llm"]
    tool_runs: list[ToolRun] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    conversation_id: str | None = None
    elapsed_s: float = 0.0
    refused: list[str] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)

    @property
    def agent_name(self) -> str:
        return SPECIALISTS[self.agent].name

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [ToolCall(name=r.name, arguments=r.arguments) for r in self.tool_runs]

    @property
    def tables(self) -> list[Any]:
        return [r.result.table for r in self.tool_runs if r.result.table is not None]

    @property
    def figures(self) -> list[Any]:
        return [r.result.figure for r in self.tool_runs if r.result.figure is not None]

    @property
    def job_ids(self) -> list[str]:
        return [r.result.job_id for r in self.tool_runs if r.result.job_id]
