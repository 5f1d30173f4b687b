"""The Datasets page's database import: saved connections, a table or a read-only query, run as a job."""

from __future__ import annotations

from typing import Any

import streamlit as st

import jobs
from core import connections, secret_box
from ui.errors import guard
from ui.jobs import job_panel
from ui.safe import escape_markdown
from ui.sql_view import role_warning_box
from ui.state import DatasetKeys, Keys


def database_import() -> None:
    saved = connections.list_connections()
    with st.popover("New connection"):
        _new_connection()
    if not saved:
        st.info("No saved database connections yet: add one with 'New connection'.")
        return
    names = {str(c.id): f"{c.name} ({c.kind} {c.host or c.database})" for c in saved}
    conn_id = st.selectbox("Connection", list(names), format_func=names.get, key="db-connection")
    conn = next(c for c in saved if str(c.id) == conn_id)
    password = _password(conn, conn_id)
    table, query = _source(conn, conn_id, password)
    c1, c2 = st.columns(2)
    limit = c1.number_input("Row limit", 1, 50_000_000, connections.DEFAULT_LIMIT, step=10_000, key="db-limit")
    name = c2.text_input("Dataset name (optional)", key="db-name")
    if st.button("Import from database", type="primary", key="db-import", disabled=not (table or query)):
        with guard():
            if query:
                connections.check_read_only(query, conn.kind)
            secret = secret_box.put(password) if password else None
            job = jobs.submit("datasets.import_database", title=f"Import from {conn.name}", connection_id=conn_id,
                              table=table, query=query, name=name or None, limit=int(limit), secret=secret)
            st.session_state[DatasetKeys.DB_JOB] = str(job.id)
    _database_job()


def _password(conn: Any, conn_id: str) -> str | None:
    passwords = st.session_state.setdefault(DatasetKeys.DB_PASSWORDS, {})
    if conn.kind != "sqlite":
        hint = f"Empty: taken from ${conn.password_env}" if conn.password_env else "Kept for this session only"
        passwords[conn_id] = st.text_input("Password", type="password", key=f"db-password-{conn_id}", help=hint) or None
    return passwords.get(conn_id)


def _source(conn: Any, conn_id: str, password: str | None) -> tuple[str | None, str | None]:
    """(table, query): what to import, one of them set."""
    source = st.radio("Import", ["A table", "A query"], horizontal=True, key="db-source")
    if source == "A query":
        return None, st.text_area("Read-only query", key="db-query",
                                  placeholder="SELECT * FROM sales WHERE year = 2024") or None
    if st.button("List tables", key="db-list"):
        with guard():
            st.session_state[DatasetKeys.DB_TABLES] = {conn_id: connections.list_tables(conn, password=password)}
    tables = st.session_state.get(DatasetKeys.DB_TABLES, {}).get(conn_id, [])
    if tables:
        role_warning_box(conn, password)  # the login could write: advise a SELECT-only role
    return (st.selectbox("Table", tables, key="db-table") if tables else None), None


def _database_job() -> None:
    job_id = st.session_state.get(DatasetKeys.DB_JOB)
    if not job_id:
        return
    with guard():
        job = job_panel(job_id, key="db-import")
        if job.status == "succeeded" and job.result:
            st.success(f"Imported {escape_markdown(job.result['name'])}: {job.result['rows']:,} rows.")
            st.session_state[Keys.DATASET_ID] = job.result["dataset_id"]


def _new_connection() -> None:
    with st.form("db-new", clear_on_submit=True):
        name = st.text_input("Name", key="dbn-name")
        kind = st.selectbox("Kind", list(connections.KINDS), key="dbn-kind")
        host = st.text_input("Host", key="dbn-host")
        port = st.number_input("Port (0 = default)", 0, 65535, 0, key="dbn-port")
        database = st.text_input("Database (file path for SQLite)", key="dbn-database")
        user = st.text_input("User", key="dbn-user")
        env = st.text_input("Password environment variable (optional)", key="dbn-env",
                            help="The password is never stored: name a variable that holds it, or type it per session.")
        if st.form_submit_button("Save connection"):
            with guard():
                connections.save_connection(name, kind, host=host, port=int(port) or None, database=database,
                                            user=user, password_env=env)
                st.rerun()
