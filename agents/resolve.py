"""Find datasets and columns from what a person (or a model) typed: by id, by name, case-insensitively, fuzzily."""

from __future__ import annotations

import difflib
import re

from core.errors import InvalidInput, NotFound
from core.models import Dataset

NUMERIC_PREFIXES = ("int", "uint", "float", "double", "decimal", "halffloat")


def norm(text: str) -> str:
    """Lower case, with underscores, dashes and dots read as spaces and runs of spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-.]+", " ", text.lower())).strip()


def is_numeric(dtype: str) -> bool:
    return dtype.lower().startswith(NUMERIC_PREFIXES)


def column_names(ds: Dataset) -> list[str]:
    return [c["name"] for c in ds.schema_]


def column_kinds(ds: Dataset) -> dict[str, str]:
    """Column name -> 'numeric' or 'categorical' (text, boolean, dates count as categorical here)."""
    return {c["name"]: "numeric" if is_numeric(str(c["dtype"])) else "categorical" for c in ds.schema_}


def _close(word: str, choices: list[str], cutoff: float) -> list[str]:
    by_norm = {norm(c): c for c in choices}
    return [by_norm[m] for m in difflib.get_close_matches(norm(word), list(by_norm), n=3, cutoff=cutoff)]


def dataset(ref: str) -> Dataset:
    """A dataset by id or name; a near-miss name is corrected, an unknown one gets 'did you mean'."""
    from core import datasets

    try:
        return datasets.get_dataset(ref)
    except NotFound:
        rows = datasets.list_datasets()
    names = [r.name for r in rows]
    exact = [r for r in rows if norm(r.name) == norm(str(ref))]
    if exact:
        return exact[0]
    close = _close(str(ref), names, 0.8)
    if close:
        return next(r for r in rows if r.name == close[0])
    maybe = _close(str(ref), names, 0.5)
    hint = f"Did you mean {maybe[0]!r}?" if maybe else (
        f"Known datasets: {', '.join(names)}." if names else "Import one on the Datasets page first.")
    raise NotFound(f"No dataset {str(ref)!r}.", hint=hint)


def column(ds: Dataset, name: str) -> str:
    """The real name of a column typed loosely; raises InvalidInput with 'did you mean' when unknown."""
    names = column_names(ds)
    if name in names:
        return name
    for real in names:
        if norm(real) == norm(name) or norm(real).replace(" ", "") == norm(name).replace(" ", ""):
            return real
    close = _close(name, names, 0.8)
    if close:
        return close[0]
    maybe = _close(name, names, 0.4)
    hint = f"Did you mean {maybe[0]!r}?" if maybe else ""
    raise InvalidInput(f"No column {name!r} in {ds.name}. {hint}".strip(),
                       hint=f"Columns: {', '.join(names)}.")


def columns(ds: Dataset, names: list[str] | None) -> list[str] | None:
    return [column(ds, n) for n in names] if names else None
