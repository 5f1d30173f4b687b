"""What the offline planner understands, said to the analyst: example requests, and the answer to a
message no rule maps."""

from __future__ import annotations

from typing import Any

from agents.planner.parse import Ctx
from agents.reply import Choice
from agents.resolve import is_numeric

EXAMPLES = (
    "describe the dataset", "show missing values", "statistics of price", "correlation between price and area",
    "distribution of price", "outliers in price", "top values of region", "average price by region",
    "plot area vs price", "histogram of price", "box plot of price by region", "bar chart of sales by region",
    "t-test of price by group", "ANOVA of price across region", "chi-square between region and segment",
    "is price normal?", "train a model to predict churn", "job status", "ask the documents: what was Q3 revenue?",
    "SELECT region, count(*) FROM sales GROUP BY 1",
)


def examples_for(dataset: Any | None) -> list[str]:
    """Example requests written with a dataset's own column names (the generic list without one)."""
    if dataset is None:
        return list(EXAMPLES)
    numeric = [c["name"] for c in dataset.schema_ if is_numeric(str(c["dtype"]))]
    other = [c["name"] for c in dataset.schema_ if not is_numeric(str(c["dtype"]))]
    if not numeric:
        return ["describe the dataset", "show missing values", *(f"top values of {c}" for c in other[:3])]
    x, y = numeric[0], numeric[1] if len(numeric) > 1 else numeric[0]
    found = ["describe the dataset", "show missing values", f"statistics of {x}", f"distribution of {x}",
             f"outliers in {x}", f"histogram of {y}"]
    if len(numeric) > 1:
        found += [f"correlation between {x} and {y}", f"plot {y} vs {x}"]
    if other:
        group = other[0]
        found += [f"top values of {group}", f"average {x} by {group}", f"box plot of {x} by {group}"]
    return found


def explain_unmapped(ctx: Ctx) -> str:
    """What to say when no rule maps a message: the likeliest readings when it names columns, else why, and
    examples of what works."""
    if ctx.ds is not None and ctx.cols:
        return readings(ctx)
    if ctx.ds is None:
        why = "There is no dataset yet, so I cannot look at data. Import one on the Datasets page."
    else:
        cols = ", ".join(ctx.ds.columns[:12])
        why = (f"I could not turn that into an analysis of **{ctx.ds.name}** (columns: {cols}). Without an LLM "
               "configured I understand requests like these:")
    return why + "\n" + "\n".join(f"- {e}" for e in EXAMPLES)


def readings(ctx: Ctx) -> str:
    """The message names columns but no request: say so and offer the two likeliest readings."""
    cols = ctx.cols[:2]
    named = " and ".join(cols)
    if len(cols) == 2:
        options = [f"correlation between {cols[0]} and {cols[1]}", f"plot {cols[1]} vs {cols[0]}"]
    elif ctx.ds.kinds.get(cols[0]) == "numeric":
        options = [f"statistics of {cols[0]}", f"histogram of {cols[0]}"]
    else:
        options = [f"top values of {cols[0]}", f"bar chart of {cols[0]}"]
    ctx.choices = _as_choices(ctx, options)
    return (f"I understood that you mean {named} in **{ctx.ds.name}**, but not what to do with "
            f"{'them' if len(cols) == 2 else 'it'}. Did you mean one of these?\n"
            + "\n".join(f"- {o}" for o in options))


def _as_choices(ctx: Ctx, options: list[str]) -> list[Choice]:
    """Each offered reading with the calls it plans, so a button runs exactly the reading it shows."""
    from agents.planner.dispatch import plan
    from agents.planner.parse import context

    out = []
    for option in options:
        calls = plan(context(option, dataset_id=ctx.ds.id, schemas=ctx.schemas))
        if calls:
            out.append(Choice(label=option, calls=calls))
    return out
