"""Tools about the datasets themselves: which there are, and one dataset's schema and profile."""

from __future__ import annotations

import pandas as pd

from agents import resolve
from agents.tools.registry import DatasetArg, NoArgs, ToolResult


def list_datasets(_: NoArgs) -> ToolResult:
    from core import datasets

    rows = datasets.list_datasets()
    if not rows:
        return ToolResult("There are no datasets yet. Import one on the Datasets page.")
    table = pd.DataFrame([{"name": r.name, "rows": r.rows, "columns": r.columns, "id": str(r.id)} for r in rows])
    return ToolResult(f"{len(rows)} dataset(s): " + ", ".join(r.name for r in rows) + ".", table=table)


def get_dataset_info(args: DatasetArg) -> ToolResult:
    from core import eda

    ds = resolve.dataset(args.dataset)
    prof = eda.profile(ds.id)
    fields = ("name", "dtype", "kind", "missing", "missing_pct", "distinct", "min", "max", "mean")
    table = pd.DataFrame([{f: getattr(c, f, None) for f in fields} for c in prof.columns])
    table[["min", "max"]] = table[["min", "max"]].astype(str).replace("None", "")
    cols = ", ".join(f"{c.name} ({c.kind}{f', {c.missing} missing' if c.missing else ''})" for c in prof.columns)
    return ToolResult(f"Dataset {ds.name}: {prof.rows:,} rows × {len(prof.columns)} columns. Columns: {cols}.",
                      table=table)

