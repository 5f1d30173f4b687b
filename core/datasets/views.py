"""Views: one SELECT over a version's Parquet file with a validated filter, column choice, sort and limit.

Shared by previews (`frames`) and exports (`export`), so both read rows the same way.
"""

from __future__ import annotations

from pathlib import Path

from core.duck import quote
from core.errors import InvalidInput
from core.expressions import literal, validate


def view_sql(path: Path, columns: list[str], *, where: str | None = None, select: list[str] | None = None,
             sort_by: str | None = None, descending: bool = False, limit: int | None = None) -> str:
    """A SELECT over a version's file with a validated filter, column choice, sort and limit."""
    chosen = select or columns
    unknown = [c for c in chosen + ([sort_by] if sort_by else []) if c not in columns]
    if unknown:
        raise InvalidInput(f"Unknown column(s): {', '.join(unknown)}.", hint="Columns: " + ", ".join(columns[:30]))
    sql = f"SELECT {', '.join(quote(c) for c in chosen)} FROM read_parquet({literal(str(path))})"
    if where and where.strip():
        sql += f" WHERE ({validate(where, columns, what='filter')})"
    if sort_by:
        sql += f" ORDER BY {quote(sort_by)} {'DESC' if descending else 'ASC'} NULLS LAST"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql
