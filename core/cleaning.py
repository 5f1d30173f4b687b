"""Cleaning steps. Each step is a small pydantic model that compiles to one DuckDB SELECT over the
current version; applying it writes a new version (`core.datasets.versions`) that records the step.

Steps never run Python on the data and never run the analyst's SQL as given: names are quoted,
values become literals, and expressions go through `core.expressions.validate`.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from core import duck
from core.datasets import get_dataset, versions
from core.duck import quote
from core.errors import InvalidInput
from core.expressions import literal, validate
from core.models.dataset import Dataset
from core.readers import unique_names

CAST_TYPES = {"integer": "BIGINT", "float": "DOUBLE", "text": "VARCHAR", "boolean": "BOOLEAN", "date": "DATE",
              "timestamp": "TIMESTAMP"}
FILL_METHODS = ("value", "mean", "median", "mode", "ffill", "bfill")
NUMERIC_PREFIXES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UTINYINT",
                    "USMALLINT", "UINTEGER", "UBIGINT", "REAL")
RN = "__wb_rn"


class Context:
    """A DuckDB connection with the version's rows as view `src` (plus the row number column RN)."""

    def __init__(self, path: Path) -> None:
        self.con = duck.cursor()
        self.con.execute(f"CREATE TEMP VIEW raw AS SELECT * FROM read_parquet({literal(str(path))})")
        self.types: dict[str, str] = dict(self.con.execute(
            "SELECT column_name, column_type FROM (DESCRIBE raw)").fetchall())
        self.columns = list(self.types)
        self.con.execute(f"CREATE TEMP VIEW src AS SELECT *, row_number() OVER () AS {RN} FROM raw")

    def scalar(self, sql: str) -> Any:
        return self.con.execute(sql).fetchone()[0]

    def need(self, *columns: str) -> None:
        missing = [c for c in columns if c not in self.types]
        if missing:
            raise InvalidInput(f"Unknown column(s): {', '.join(missing)}.",
                               hint="Columns: " + ", ".join(self.columns[:30]))

    def numeric(self, column: str) -> bool:
        return self.types[column].upper().startswith(NUMERIC_PREFIXES)

    def select(self, exprs: list[str], tail: str = "") -> str:
        return f"SELECT {', '.join(exprs)} FROM src {tail}"


class DropColumns(BaseModel):
    op: Literal["drop"] = "drop"
    columns: list[str]

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(*self.columns)
        if not self.columns or len(set(self.columns)) >= len(ctx.columns):
            raise InvalidInput("Choose at least one column to drop, and keep at least one.")
        keep = [quote(c) for c in ctx.columns if c not in self.columns]
        return ctx.select(keep), f"Dropped {', '.join(self.columns)}"


class Rename(BaseModel):
    op: Literal["rename"] = "rename"
    mapping: dict[str, str]

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(*self.mapping)
        new = [self.mapping.get(c, c).strip() for c in ctx.columns]
        if any(not n for n in new) or len(set(new)) != len(new) or any(n == RN for n in new):
            raise InvalidInput("The new names must be non-empty and unique.", hint="Choose names no column has yet.")
        exprs = [f"{quote(c)} AS {quote(n)}" for c, n in zip(ctx.columns, new, strict=True)]
        return ctx.select(exprs), "Renamed " + ", ".join(f"{a} -> {b}" for a, b in self.mapping.items())


class Cast(BaseModel):
    op: Literal["cast"] = "cast"
    column: str
    to: Literal["integer", "float", "text", "boolean", "date", "timestamp"]
    on_error: Literal["fail", "null"] = "fail"

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(self.column)
        q, target = quote(self.column), CAST_TYPES[self.to]
        bad_filter = f"{q} IS NOT NULL AND TRY_CAST({q} AS {target}) IS NULL"
        failed = ctx.scalar(f"SELECT count(*) FROM src WHERE {bad_filter}")
        if failed and self.on_error == "fail":
            examples = [r[0] for r in ctx.con.execute(f"SELECT DISTINCT {q}::VARCHAR FROM src WHERE {bad_filter} "
                                                       "LIMIT 3").fetchall()]
            raise InvalidInput(f"{failed:,} value(s) of {self.column!r} cannot become {self.to}, e.g. "
                               f"{', '.join(repr(e) for e in examples)}.",
                               hint="Fix or filter those rows first, or choose 'set failures to empty'.")
        exprs = [f"TRY_CAST({q} AS {target}) AS {q}" if c == self.column else quote(c) for c in ctx.columns]
        note = f" ({failed:,} value(s) became empty)" if failed else ""
        return ctx.select(exprs), f"Cast {self.column} to {self.to}{note}"


class FillMissing(BaseModel):
    op: Literal["fill"] = "fill"
    column: str
    method: Literal["value", "mean", "median", "mode", "ffill", "bfill"] = "value"
    value: Any = None

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(self.column)
        q, dtype = quote(self.column), ctx.types[self.column]
        if self.method in ("mean", "median") and not ctx.numeric(self.column):
            raise InvalidInput(f"{self.column!r} is not numeric, so it has no {self.method}.",
                               hint="Use the mode, a fixed value or forward fill.")
        fill = self._fill(ctx, q, dtype)
        exprs = [f"COALESCE({q}, {fill}) AS {q}" if c == self.column else quote(c) for c in ctx.columns]
        how = f"the value {self.value!r}" if self.method == "value" else f"the {self.method}"
        return ctx.select(exprs, f"ORDER BY {RN}"), f"Filled missing {self.column} with {how}"

    def _fill(self, ctx: Context, q: str, dtype: str) -> str:
        if self.method == "value":
            if self.value is None or self.value == "":
                raise InvalidInput("Give the value to fill missing cells with.")
            if ctx.scalar(f"SELECT TRY_CAST({literal(self.value)} AS {dtype}) IS NULL"):
                raise InvalidInput(f"{self.value!r} does not fit column {self.column!r} of type {dtype}.",
                                   hint="Cast the column first, or give a value of its type.")
            return f"CAST({literal(self.value)} AS {dtype})"
        if self.method == "ffill":
            return f"last_value({q} IGNORE NULLS) OVER (ORDER BY {RN} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
        if self.method == "bfill":
            return f"first_value({q} IGNORE NULLS) OVER (ORDER BY {RN} ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)"
        agg = {"mean": f"avg({q})", "median": f"median({q})", "mode": f"mode({q})"}[self.method]
        value = ctx.scalar(f"SELECT {agg} FROM src")
        if value is None:
            raise InvalidInput(f"{self.column!r} has no values, so there is nothing to fill from.")
        rounded = "round" if dtype.upper().startswith(NUMERIC_PREFIXES[:5]) and self.method != "mode" else ""
        return f"CAST({rounded}({literal(value)}) AS {dtype})" if rounded else f"CAST({literal(value)} AS {dtype})"


class DropMissing(BaseModel):
    op: Literal["drop_missing"] = "drop_missing"
    columns: list[str] = Field(default_factory=list)
    how: Literal["any", "all"] = "any"

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(*self.columns)
        cols = self.columns or ctx.columns
        joiner = " OR " if self.how == "any" else " AND "
        cond = joiner.join(f"{quote(c)} IS NULL" for c in cols)
        which = ", ".join(self.columns) if self.columns else "any column"
        return ctx.select([quote(c) for c in ctx.columns], f"WHERE NOT ({cond})"), f"Dropped rows missing {which}"


class FilterRows(BaseModel):
    op: Literal["filter"] = "filter"
    expression: str

    def compile(self, ctx: Context) -> tuple[str, str]:
        expr = validate(self.expression, ctx.columns, what="filter")
        return ctx.select([quote(c) for c in ctx.columns], f"WHERE ({expr})"), f"Kept rows where {self.expression}"


class Deduplicate(BaseModel):
    op: Literal["dedupe"] = "dedupe"
    columns: list[str] = Field(default_factory=list)

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(*self.columns)
        keys = ", ".join(quote(c) for c in (self.columns or ctx.columns))
        tail = f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {RN}) = 1 ORDER BY {RN}"
        which = f" by {', '.join(self.columns)}" if self.columns else ""
        return ctx.select([quote(c) for c in ctx.columns], tail), f"Removed duplicate rows{which}"


class Derive(BaseModel):
    op: Literal["derive"] = "derive"
    name: str
    expression: str

    def compile(self, ctx: Context) -> tuple[str, str]:
        name = self.name.strip()
        if not name or name == RN:
            raise InvalidInput("Give the new column a name.")
        expr = validate(self.expression, ctx.columns, what="expression")
        try:
            ctx.con.execute(f"SELECT {expr} FROM src LIMIT 1").fetchall()
        except duckdb.Error as exc:
            raise InvalidInput(f"The expression {self.expression!r} fails: {str(exc).splitlines()[0][:200]}",
                               hint="Check column types; cast text to numbers first.") from exc
        exprs = [f"{expr} AS {quote(c)}" if c == name else quote(c) for c in ctx.columns]
        if name not in ctx.columns:
            exprs.append(f"{expr} AS {quote(name)}")
        verb = "Replaced" if name in ctx.columns else "Added"
        return ctx.select(exprs), f"{verb} column {name} = {self.expression}"


class OneHot(BaseModel):
    op: Literal["one_hot"] = "one_hot"
    column: str
    max_categories: int = Field(20, ge=1, le=200)
    drop_original: bool = True

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(self.column)
        q = quote(self.column)
        top = [r[0] for r in ctx.con.execute(
            f"SELECT {q} FROM src WHERE {q} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 "
            f"LIMIT {self.max_categories + 1}").fetchall()]
        if not top:
            raise InvalidInput(f"{self.column!r} has no values to encode.", hint="Fill its missing values first.")
        others = len(top) > self.max_categories
        top = top[: self.max_categories]
        keep = [c for c in ctx.columns if not (self.drop_original and c == self.column)]
        names = unique_names(keep + [f"{self.column}_{v}" for v in top] + ([f"{self.column}_other"] if others else []),
                             [])[len(keep):]
        exprs = [quote(c) for c in keep]
        exprs += [f"CAST(coalesce({q} = {literal(v)}, false) AS TINYINT) AS {quote(n)}" for v, n in zip(top, names, strict=False)]
        if others:
            listed = ", ".join(literal(v) for v in top)
            exprs.append(f"CAST(coalesce({q} NOT IN ({listed}), false) AS TINYINT) AS {quote(names[-1])}")
        return ctx.select(exprs), f"One-hot encoded {self.column} into {len(names)} column(s)"


class Bin(BaseModel):
    op: Literal["bin"] = "bin"
    column: str
    bins: int = Field(5, ge=2, le=100)
    method: Literal["width", "quantile"] = "width"
    name: str | None = None

    def compile(self, ctx: Context) -> tuple[str, str]:
        ctx.need(self.column)
        if not ctx.numeric(self.column):
            raise InvalidInput(f"{self.column!r} is not numeric, so it cannot be binned.", hint="Cast it first.")
        q, edges = quote(self.column), self._edges(ctx)
        if len(edges) < 2:
            raise InvalidInput(f"{self.column!r} has a single value; there is nothing to bin.")
        cases = " ".join(f"WHEN {q} < {edges[i + 1]!r} THEN {literal(_label(edges[i], edges[i + 1]))}"
                         for i in range(len(edges) - 2))
        last = literal(_label(edges[-2], edges[-1], closed=True))
        name = (self.name or f"{self.column}_bin").strip()
        expr = f"CASE WHEN {q} IS NULL THEN NULL {cases} ELSE {last} END"
        exprs = [f"{expr} AS {quote(c)}" if c == name else quote(c) for c in ctx.columns]
        if name not in ctx.columns:
            exprs.append(f"{expr} AS {quote(name)}")
        return ctx.select(exprs), f"Binned {self.column} into {len(edges) - 1} {self.method} bins as {name}"

    def _edges(self, ctx: Context) -> list[float]:
        q = quote(self.column)
        if self.method == "quantile":
            qs = [i / self.bins for i in range(self.bins + 1)]
            values = ctx.scalar(f"SELECT quantile_cont({q}::DOUBLE, {qs!r}) FROM src")
            return sorted({round(float(v), 10) for v in values or []})
        lo, hi = ctx.con.execute(f"SELECT min({q})::DOUBLE, max({q})::DOUBLE FROM src").fetchone()
        if lo is None or lo == hi:
            return []
        width = (hi - lo) / self.bins
        return [round(lo + i * width, 10) for i in range(self.bins)] + [hi]


def _label(lo: float, hi: float, *, closed: bool = False) -> str:
    return f"[{lo:g}, {hi:g}{']' if closed else ')'}"


Step = Annotated[DropColumns | Rename | Cast | FillMissing | DropMissing | FilterRows | Deduplicate | Derive | OneHot
                 | Bin, Field(discriminator="op")]
_STEP = TypeAdapter(Step)
OPS = ("drop", "rename", "cast", "fill", "drop_missing", "filter", "dedupe", "derive", "one_hot", "bin")


def parse_step(step: dict[str, Any] | BaseModel) -> BaseModel:
    """A step from its dict form ({'op': 'fill', 'column': ..., ...}); raises InvalidInput."""
    if isinstance(step, BaseModel):
        return step
    try:
        return _STEP.validate_python(step)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"The cleaning step is not valid: {where}: {first['msg']}.",
                           hint=f"Steps: {', '.join(OPS)}.") from exc


def apply_step(ref: uuid.UUID | str, step: dict[str, Any] | BaseModel) -> Dataset:
    """Apply one cleaning step to the current version and return the dataset at its new version."""
    parsed = parse_step(step)
    ds = get_dataset(ref)
    ctx = Context(versions.version_path(ds.id))
    try:
        with duck.explained("The cleaning step"):
            sql, summary = parsed.compile(ctx)  # type: ignore[attr-defined]
            check_not_empty(ctx, sql)

            def write(tmp: Path) -> None:
                ctx.con.execute(f"COPY ({sql}) TO {literal(str(tmp))} (FORMAT parquet, COMPRESSION snappy)")

            return versions.add_version(ds.id, write, step=parsed.model_dump(mode="json"), summary=summary)
    except duckdb.Error as exc:
        raise InvalidInput(f"The step could not run: {str(exc).splitlines()[0][:300]}",
                           hint="Check the column types and values used by the step.") from exc
    finally:
        ctx.con.close()


def check_not_empty(ctx: Context, sql: str) -> None:
    """Refuse a step that would leave no rows (the analyst can still filter in a view)."""
    if not ctx.scalar(f"SELECT count(*) FROM ({sql}) AS t"):
        raise InvalidInput("This step would remove every row.", hint="Loosen the condition or choose other columns.")


def preview_step(ref: uuid.UUID | str, step: dict[str, Any] | BaseModel, *, limit: int = 20) -> Any:
    """The first rows the step would produce, without saving anything (a pandas DataFrame)."""
    parsed = parse_step(step)
    ctx = Context(versions.version_path(ref))
    try:
        with duck.explained("The step's preview"):
            sql, _ = parsed.compile(ctx)  # type: ignore[attr-defined]
            return ctx.con.execute(f"SELECT * FROM ({sql}) AS t LIMIT {int(limit)}").df()
    except duckdb.Error as exc:
        raise InvalidInput(f"The step could not run: {str(exc).splitlines()[0][:300]}") from exc
    finally:
        ctx.con.close()
