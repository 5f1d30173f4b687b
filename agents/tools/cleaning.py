"""The cleaning tool: one step (fill missing values, remove duplicate rows) that makes a NEW version of a dataset.

The step goes through `core.cleaning`, which compiles it to one DuckDB SELECT over quoted names and literals
and writes version N+1; the previous version stays, so nothing is overwritten and the Datasets page can roll
back. The offline planner shows a plan with this step before it runs.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from agents import resolve
from agents.tools.registry import DatasetArg, ToolResult


class CleanArgs(DatasetArg):
    op: Literal["fill", "dedupe"] = Field(description="fill: fill a column's missing values; dedupe: remove "
                                                      "duplicate rows.")
    column: str | None = Field(None, description="The column to fill (op fill).")
    method: Literal["value", "mean", "median", "mode", "ffill", "bfill"] | None = Field(
        None, description="How to fill (op fill): mean, median, mode, ffill, bfill, or a fixed value.")
    value: Any = Field(None, description="The fixed value (method value).")


def clean_dataset(args: CleanArgs) -> ToolResult:
    from core import cleaning
    from core.datasets import versions

    ds = resolve.dataset(args.dataset)
    step: dict[str, Any] = {"op": args.op}
    if args.op == "fill":
        if not args.column:
            return ToolResult("Say which column to fill, e.g. 'fill missing price with the median'.", ok=False)
        step |= {"column": resolve.column(ds, args.column), "method": args.method or "median", "value": args.value}
    before = ds.version
    new = cleaning.apply_step(ds.id, step)
    summary = versions.get_version(new.id).summary or _summary(step)
    return ToolResult(f"{summary} in {new.name}: version {new.version} made ({new.rows:,} rows); version {before} "
                      "is kept and can be restored on the Datasets page.")


def _summary(step: dict[str, Any]) -> str:
    if step["op"] == "dedupe":
        return "Removed duplicate rows"
    return f"Filled missing {step['column']} ({step['method']})"
