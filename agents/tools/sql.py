"""The SQL tool: one read-only query over the datasets, through `core.sql`'s guard and limits."""

from __future__ import annotations

from pydantic import Field

from agents.tools.registry import MAX_TABLE_ROWS, Args, ToolResult


class SqlArgs(Args):
    sql: str = Field(description="One read-only SELECT statement; tables are named after the datasets.")


def sql_query(args: SqlArgs) -> ToolResult:
    from core import sql

    frame = sql.query(args.sql)
    shown = f"{len(frame):,} row(s)" + (f", showing the first {MAX_TABLE_ROWS}" if len(frame) > MAX_TABLE_ROWS
                                       else "")
    if frame.attrs.get("truncated"):
        shown += f" (cut at the {frame.attrs.get('limit'):,}-row limit)"
    return ToolResult(f"The query returned {shown}.", table=frame, sql=args.sql)

