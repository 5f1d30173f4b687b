"""A dataset opened in DuckDB for charting (`Source`) and the checks of the columns a spec names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from core.charts.spec import MAX_CATEGORIES, MAX_FACETS, ChartSpec
from core.duck import quote as q
from core.errors import InvalidInput


@dataclass


class Source:
    """A dataset opened in DuckDB as the view `data`, with its schema and row count."""

    con: duckdb.DuckDBPyConnection
    dataset_id: str
    name: str
    version: int
    rows: int
    dtypes: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def df(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()


def is_numeric(dtype: str) -> bool:
    return dtype.startswith(("int", "uint", "float", "double", "decimal", "halffloat"))


def is_temporal(dtype: str) -> bool:
    return dtype.startswith(("date", "timestamp", "time"))


def column(src: Source, name: str | None, role: str, *, numeric: bool = False, required: bool = True) -> str | None:
    """Check that `name` is a column of the dataset (and numeric when asked); raise InvalidInput if not."""
    if name is None or name == "":
        if required:
            raise InvalidInput(f"Choose a column for {role}.", hint=f"Columns: {', '.join(src.dtypes)}")
        return None
    if name not in src.dtypes:
        close = difflib.get_close_matches(name, list(src.dtypes), n=1, cutoff=0.5)
        hint = f"Did you mean {close[0]!r}?" if close else f"Columns: {', '.join(src.dtypes)}"
        raise InvalidInput(f"Unknown column {name!r} for {role} in dataset {src.name!r}.", hint=hint)
    if numeric and not is_numeric(src.dtypes[name]):
        numerics = [c for c, t in src.dtypes.items() if is_numeric(t)]
        raise InvalidInput(f"Column {name!r} ({src.dtypes[name]}) is not numeric; {role} needs numbers.",
                           hint=f"Numeric columns: {', '.join(numerics) or 'none'}")
    return name


def color_column(src: Source, name: str | None) -> str | None:
    """The colour column, checked: a text colour may have at most MAX_CATEGORIES values (one trace each)."""
    if column(src, name, "color", required=False) is None:
        return None
    if not is_numeric(src.dtypes[name]):
        distinct = src.df(f"SELECT count(DISTINCT {q(name)}) AS n FROM data")["n"][0]
        if distinct > MAX_CATEGORIES:
            raise InvalidInput(f"The colour column {name!r} has {distinct:,} values; at most {MAX_CATEGORIES} can "
                               "be told apart.", hint="Colour by a column with fewer values, or facet instead.")
    return name


def group_columns(src: Source, spec: ChartSpec) -> list[str]:
    """The colour and facet columns (checked; facets limited to MAX_FACETS values)."""
    out = []
    if color_column(src, spec.color):
        out.append(spec.color)
    for role, name in (("facet", spec.facet), ("facet row", spec.facet_row)):
        if column(src, name, role, required=False) is None:
            continue
        distinct = src.df(f"SELECT count(DISTINCT {q(name)}) AS n FROM data")["n"][0]
        if distinct > MAX_FACETS:
            raise InvalidInput(f"The facet column {name!r} has {distinct} values; at most {MAX_FACETS} fit.",
                               hint="Facet by a column with fewer distinct values.")
        if name not in out:
            out.append(name)
    return out
