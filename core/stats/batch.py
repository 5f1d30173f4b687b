"""Several tests at once, with a multiple-testing correction (R: p.adjust)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from core.errors import InvalidInput
from core.stats.interpret import conclude
from core.stats.registry import run_test
from core.stats.result import TestResult

METHODS = ("holm", "BH", "bonferroni")
_ALIASES = {"holm": "holm", "bh": "BH", "fdr": "BH", "benjamini-hochberg": "BH", "bonferroni": "bonferroni"}


class BatchItem(BaseModel):
    """One test of a batch: its name and parameters (data is shared by the batch)."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


def _method(method: str) -> str:
    key = _ALIASES.get(str(method).lower())
    if key is None:
        raise InvalidInput(f"Unknown correction {method!r}.", hint=f"Use one of: {', '.join(METHODS)}.")
    return key


def adjust_pvalues(pvalues: list[float], method: str = "holm") -> list[float]:
    """Adjusted p-values exactly as R's p.adjust: 'holm' (default), 'BH' (Benjamini-Hochberg) or 'bonferroni'."""
    method = _method(method)
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise InvalidInput("p-values must be a list of numbers between 0 and 1.")
    n = len(p)
    if n == 0:
        return []
    if method == "bonferroni":
        return np.minimum(1, n * p).tolist()
    if method == "holm":
        order = np.argsort(p, kind="stable")
        adj = np.minimum(1, np.maximum.accumulate((n - np.arange(n)) * p[order]))
    else:
        order = np.argsort(-p, kind="stable")
        adj = np.minimum(1, np.minimum.accumulate(n / np.arange(n, 0, -1) * p[order]))
    out = np.empty(n)
    out[order] = adj
    return out.tolist()


def run_batch(items: list[BatchItem | dict[str, Any]], data: Any = None, *, method: str = "holm") -> list[TestResult]:
    """Run every test on the same data, then correct their p-values together ('holm' or 'BH')."""
    method = _method(method)
    parsed = [BatchItem.model_validate(i) if isinstance(i, dict) else i for i in items]
    if not parsed:
        raise InvalidInput("The batch is empty.", hint="Add at least one test.")
    results = [run_test(i.name, data, **i.params) for i in parsed]
    for res, adj in zip(results, adjust_pvalues([r.p_value for r in results], method), strict=True):
        res.p_adjusted = adj
        res.notes.append(f"p-value adjusted for {len(results)} tests ({method}).")
        res.conclusion = conclude(res, res.hypothesis)
    return results
