"""The tool registry's building blocks: a tool's result, its description, its argument models, and how one runs.

A tool is registered once (see `agents.tools.catalog`): name, description, a pydantic argument model
(its JSON schema is what the LLM sees) and the function. `execute` validates the arguments and turns
every failure into a failed ToolResult whose text explains it, so errors go back to the model as text.
"""

from __future__ import annotations

import importlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import WorkbenchError

log = logging.getLogger(__name__)

MAX_TABLE_ROWS = 200


@dataclass
class ToolResult:
    """What a tool returns: text for the model and the person, plus an optional table, figure, job or SQL."""

    text: str
    table: pd.DataFrame | None = None
    figure: Any = None
    job_id: str | None = None
    sql: str | None = None
    ok: bool = True

    def record(self) -> dict[str, Any]:
        """A JSON-safe copy for storage (tables cut to MAX_TABLE_ROWS, figures as Plotly JSON)."""
        out: dict[str, Any] = {"text": self.text, "ok": self.ok, "job_id": self.job_id, "sql": self.sql}
        if self.table is not None:
            out["table"] = json.loads(self.table.head(MAX_TABLE_ROWS).to_json(orient="split", date_format="iso"))
        if self.figure is not None:
            out["figure"] = self.figure.to_json()
        return out


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[BaseModel]
    fn: Callable[[Any], ToolResult]
    requires: tuple[str, ...] = ()
    enabled: Callable[[], bool] = field(default=lambda: True)

    def spec(self) -> dict[str, Any]:
        """The OpenAI function-calling description of this tool."""
        schema = self.args.model_json_schema()
        schema.pop("title", None)
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": schema}}

    def available(self) -> bool:
        for module in self.requires:
            try:
                importlib.import_module(module)
            except Exception:  # a module still being written, or missing optional dependencies
                log.debug("tool %s unavailable: %s does not import", self.name, module)
                return False
        return self.enabled()


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetArg(Args):
    dataset: str = Field(description="Dataset name or id.")


class QueryArgs(Args):
    query: str = Field(description="What to search for.")


class NoArgs(Args):
    pass


def execute(tool: Tool, arguments: dict[str, Any] | str | None) -> ToolResult:
    """Validate the arguments and run the tool. Errors come back as a failed ToolResult whose text explains them."""
    name = tool.name
    try:
        if isinstance(arguments, str):
            arguments = json.loads(arguments or "{}")
        args = tool.args.model_validate(arguments or {})
        return tool.fn(args)
    except json.JSONDecodeError as exc:
        return ToolResult(f"The arguments of {name} are not valid JSON ({exc.msg}). Send a JSON object.", ok=False)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
        return ToolResult(f"Invalid arguments for {name}: {problems}.", ok=False)
    except WorkbenchError as exc:
        return ToolResult(str(exc), ok=False)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("tool %s failed (error id %s)", name, error_id)
        return ToolResult(f"The tool {name} failed unexpectedly (error id {error_id}).", ok=False)
