"""Scoring planned tool calls against the expected ones of bench/agents_holdout.py and bench/agents_tuning.py.

Run as a script with a JSON list of cases on stdin to score the planner of the code on sys.path (the bench
runs it on a copy of the baseline commit this way, so the old rules are measured with their own parser).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any


def _sql(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def matches(tool: str | None, args: dict[str, Any], want_tool: str, want: dict[str, Any]) -> tuple[bool, bool]:
    """(right tool, right tool and every expected argument)."""
    if tool != want_tool:
        return False, False
    for key, value in want.items():
        if key == "sql~":
            sql = _sql(str(args.get("sql", "")))
            if not all(_sql(part) in sql for part in value):
                return True, False
        elif key == "xy":
            if {args.get("x"), args.get("y")} != set(value):
                return True, False
        elif key == "levels":
            if {str(v) for v in (args.get("levels") or [])} != {str(v) for v in value}:
                return True, False
        elif args.get(key) != value:
            return True, False
    return True, True


def schemas(datasets: dict[str, dict[str, Any]]) -> list[Any]:
    from agents.planner import Schema

    out = []
    for i, (name, spec) in enumerate(datasets.items()):
        kinds = {c: ("categorical" if k == "boolean" else k) for c, k in spec["kinds"].items()}
        try:
            out.append(Schema(f"{i}", name, kinds, spec.get("levels", {})))
        except TypeError:  # the baseline's Schema has no levels
            out.append(Schema(f"{i}", name, kinds))
    return out


def first_call(calls: list[Any]) -> tuple[str | None, dict[str, Any]]:
    return (calls[0].name, calls[0].arguments) if calls else (None, {})


def _main() -> None:
    """stdin: {"datasets": {...}, "cases": [[message, dataset, tool, args], ...]}; stdout: [[tool_ok, full_ok]]."""
    from agents import planner

    job = json.load(sys.stdin)
    found = schemas(job["datasets"])
    by_name = {s.name: s.id for s in found}
    out = []
    for message, current, want_tool, want in job["cases"]:
        ctx = planner.context(message, dataset_id=by_name[current], schemas=found)
        out.append(matches(*first_call(planner.plan(ctx)), want_tool, want))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    _main()
