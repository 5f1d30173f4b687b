"""The SQL tab of the Analyze page: schema browser, editor, results, save as dataset, history."""

from __future__ import annotations

import logging
from functools import partial

import streamlit as st

from core import connections, sql
from core.config import get_settings
from core.errors import WorkbenchError
from core.models.dataset import DatabaseConnection
from core.sql import QueryResult, TableInfo
from ui.errors import guard
from ui.project_scope import scoped
from ui.safe import code_span, escape_markdown
from ui.state import Keys


class SqlKeys:
    """Session-state keys of the SQL tab (the editor's and source's widget keys double as their state)."""

    EDITOR = "sql-editor"
    SOURCE = "sql-source"
    RESULT = "sql-result"
    RESULT_SOURCE = "sql-result-source"
    ROLE_WARNINGS = "sql-role-warnings"


log = logging.getLogger(__name__)


DATASETS = "datasets"


def _load_into_editor(text: str) -> None:
    st.session_state[SqlKeys.EDITOR] = text


def _table_label(info: TableInfo) -> str:
    return f"{info.ref}  ·  {info.rows:,} rows"


def pick_source() -> DatabaseConnection | None:
    """Datasets (DuckDB) or one of the saved external connections (queried read-only)."""
    saved = connections.list_connections()
    if not saved:
        return None
    labels = {DATASETS: "Datasets (DuckDB)", **{str(c.id): f"{c.name} · {c.kind}, read-only" for c in saved}}
    choice = st.selectbox("Query", list(labels), format_func=labels.get, key=SqlKeys.SOURCE)
    return next((c for c in saved if str(c.id) == choice), None)


def role_warning_box(conn: DatabaseConnection, password: str | None = None) -> None:
    """A warning (checked once per session and connection) when the connection's login could write."""
    warnings = st.session_state.setdefault(SqlKeys.ROLE_WARNINGS, {})
    key = str(conn.id)
    if key not in warnings:
        try:
            warnings[key] = connections.role_warning(conn, password=password) or ""
        except WorkbenchError as exc:  # unreachable or refused: the table list shows that error
            log.info("no privilege check for %s: %s", conn.name, exc)
            return
    if warnings[key]:
        st.warning(warnings[key], icon="⚠️")


def external_browser(conn: DatabaseConnection) -> None:
    role_warning_box(conn)
    st.markdown(f"**Tables in {escape_markdown(conn.name)}**")
    with guard():
        st.markdown("\n".join(f"- {code_span(name)}" for name in connections.list_tables(conn)) or "No tables.")


def schema_browser(tables: list[TableInfo]) -> None:
    """Each dataset as a table: the name to use in SQL, then its columns and types."""
    st.markdown("**Tables**")
    missing = sql.unavailable()
    if missing:
        st.warning("Left out of SQL, their file is missing: " + ", ".join(missing) + ". Import them again or "
                   "delete them on the Datasets page.")
    if not tables:
        st.info("No datasets yet: import one on the Datasets page, then query it here.")
    for info in tables:
        with st.expander(escape_markdown(_table_label(info))):
            if info.alias and info.alias != info.name:
                st.caption(f"Also {escape_markdown(sql.quote(info.name))}")
            st.markdown("\n".join(f"- {code_span(c['name'])} {escape_markdown(c['dtype'])}" for c in info.columns))


def history_list() -> None:
    """Recent queries; 'Load' puts one back in the editor."""
    with st.expander("History", expanded=False):
        entries = scoped(sql.history(limit=20), "sql", what="queries")
        if not entries:
            st.caption("Queries you run appear here.")
        for entry in entries:
            status = f"❌ {entry.error[:80]}" if entry.error else f"{entry.rows:,} rows · {entry.duration_s:.2f} s"
            st.code(entry.sql[:300], language="sql")
            c1, c2 = st.columns([3, 1])
            c1.caption(f"{entry.created:%Y-%m-%d %H:%M:%S} · {status}")
            c2.button("Load", key=f"sql-history-{entry.id}", on_click=partial(_load_into_editor, entry.sql))


def _default_query(tables: list[TableInfo]) -> str:
    if not tables:
        return "SELECT 42 AS answer"
    return f"SELECT *\nFROM {tables[0].ref}\nLIMIT 100"


def show_result(result: QueryResult, source: DatabaseConnection | None) -> None:
    """The rows, how many, how long, whether cut at the limit; download and save as a dataset."""
    note = f"{result.rows:,} rows in {result.duration_s:.2f} s"
    if result.truncated:
        st.warning(f"Showing the first {result.limit:,} rows: the result has more. Raise the row limit, or save "
                   "it as a dataset to keep every row.")
    st.caption(note)
    st.dataframe(result.frame, width="stretch", hide_index=True, key="sql-result-table")
    st.download_button("Download CSV", result.frame.to_csv(index=False).encode(), file_name="query.csv",
                       mime="text/csv", key="sql-download", on_click="ignore")
    c1, c2 = st.columns([3, 1])
    name = c1.text_input("Save the whole result as a dataset named", key="sql-save-name",
                         placeholder="e.g. sales_by_region")
    if c2.button("Save as dataset", key="sql-save"):
        with guard():
            ds = sql.save_query(result.sql, name=name, connection=source)
            st.session_state[Keys.DATASET_ID] = str(ds.id)
            st.success(f"Saved {ds.rows:,} rows as the dataset '{ds.name}'.")


def render_sql() -> None:
    """The whole SQL tab."""
    with guard():
        tables = sql.tables()
        browse, work = st.columns([1, 3])
        with browse:
            source = pick_source()
            if source is None:
                schema_browser(tables)
            else:
                external_browser(source)
            history_list()
        with work:
            st.session_state.setdefault(SqlKeys.EDITOR, _default_query(tables))
            text = st.text_area("SQL (one read-only query over the datasets)", key=SqlKeys.EDITOR, height=180)
            c1, c2 = st.columns([1, 3])
            limit = c1.number_input("Row limit", 1, 1_000_000, get_settings().sql_max_rows, key="sql-limit")
            if c2.button("Run", type="primary", key="sql-run"):
                st.session_state.pop(SqlKeys.RESULT, None)
                with guard():
                    st.session_state[SqlKeys.RESULT] = sql.run(text, limit=int(limit), connection=source)
                    st.session_state[SqlKeys.RESULT_SOURCE] = source
            result = st.session_state.get(SqlKeys.RESULT)
            if result is not None:
                show_result(result, st.session_state.get(SqlKeys.RESULT_SOURCE))
