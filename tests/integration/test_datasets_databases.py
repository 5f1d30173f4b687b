"""Imports from the real PostgreSQL and MariaDB on this machine, SQLite files, and the import job."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import jobs
from core import connections, datasets, secret_box
from core.errors import ConnectionFailed, InvalidSql, NotFound, WorkbenchError
from tests.conftest import _unavailable, scratch_pg_database

pytestmark = pytest.mark.integration

MARIADB = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
READER, READER_PASSWORD = "wb_reader", "pw-123"
ROWS = 120


def _fill(conn, table: str) -> None:
    conn.execute(text(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name VARCHAR(50), amount NUMERIC(10,2), "
                      "day DATE, ok BOOLEAN, note VARCHAR(20))"))
    conn.execute(text(f"INSERT INTO {table} (id, name, amount, day, ok, note) VALUES (:id, :name, :amount, :day, "
                      ":ok, NULL)"),
                 [{"id": i, "name": f"n{i}", "amount": i * 1.5, "day": f"2024-01-{i % 28 + 1:02d}", "ok": i % 2 == 0}
                  for i in range(ROWS)])


@pytest.fixture(scope="module")
def pg_source() -> Iterator[dict]:
    """A PostgreSQL database with a `sales` table, dropped afterwards."""
    with scratch_pg_database("wb_src") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            _fill(conn, "sales")
        parts = engine.url
        engine.dispose()
        yield {"host": parts.host, "port": parts.port or 5432, "database": parts.database, "user": parts.username}


@pytest.fixture(scope="module")
def maria_source() -> Iterator[dict]:
    """A MariaDB table in database `test` and a read-only user with a password."""
    table = f"sales_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(MARIADB)
        with engine.begin() as conn:
            _fill(conn, table)
            conn.execute(text(f"CREATE USER IF NOT EXISTS '{READER}'@'%' IDENTIFIED BY '{READER_PASSWORD}'"))
            conn.execute(text(f"GRANT SELECT ON test.* TO '{READER}'@'%'"))
    except Exception as exc:
        _unavailable("MariaDB", exc)
    url = engine.url
    yield {"host": url.host, "port": url.port or 3306, "database": url.database, "table": table}
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


@pytest.fixture
def pg_conn(pg_source: dict) -> connections.DatabaseConnection:
    return connections.save_connection("warehouse", "postgresql", host=pg_source["host"], port=pg_source["port"],
                                       database=pg_source["database"], user=pg_source["user"])


@pytest.fixture
def maria_conn(maria_source: dict, monkeypatch: pytest.MonkeyPatch) -> connections.DatabaseConnection:
    monkeypatch.setenv("WB_TEST_MARIA_PASSWORD", READER_PASSWORD)
    return connections.save_connection("shop", "mysql", host=maria_source["host"], port=maria_source["port"],
                                       database=maria_source["database"], user=READER,
                                       password_env="WB_TEST_MARIA_PASSWORD")


def test_postgres_table_import_keeps_types(pg_conn: connections.DatabaseConnection) -> None:
    assert "sales" in connections.list_tables(pg_conn)
    ds = datasets.import_database(pg_conn, table="sales")
    frame = datasets.load_frame(ds.id)
    assert ds.rows == ROWS and ds.source == "database" and ds.name == "warehouse_sales"
    assert frame["amount"].iloc[3] == pytest.approx(4.5) and frame["ok"].iloc[0]
    assert str(frame["day"].iloc[0]) == "2024-01-01"
    assert frame["note"].isna().all()


def test_mariadb_query_with_limit_and_progress(maria_conn: connections.DatabaseConnection,
                                               maria_source: dict) -> None:
    seen: list[str] = []
    ds = datasets.import_database(maria_conn, query=f"SELECT id, name FROM {maria_source['table']} ORDER BY id",
                                  limit=50, name="first50",
                                  progress=lambda f=None, m=None, metrics=None: seen.append(m or ""))
    assert ds.rows == 50 and datasets.load_frame(ds.id)["id"].tolist()[:3] == [0, 1, 2]
    assert any("Read 50 rows" in m for m in seen) and any("row limit" in n for n in ds.notes)


def test_import_job_takes_the_password_as_a_one_time_secret(maria_source: dict) -> None:
    # Given a connection without a password variable, and a password typed for the session
    conn = connections.save_connection("shop-typed", "mysql", host=maria_source["host"], port=maria_source["port"],
                                       database=maria_source["database"], user=READER)
    token = secret_box.put(READER_PASSWORD)
    # When the import runs as a job
    job = jobs.submit("datasets.import_database", connection_id=str(conn.id), table=maria_source["table"],
                      name="via_job", limit=1000, secret=token)
    jobs.wait_idle(60)
    # Then it succeeds, the job row never held the password, and the token cannot be used again
    done = jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    assert datasets.get_dataset("via_job").rows == ROWS
    assert READER_PASSWORD not in str(done.params) and READER_PASSWORD not in str(done.result)
    assert secret_box.take(token) is None


@pytest.mark.parametrize("query", [
    "INSERT INTO sales VALUES (1000, 'x', 1, '2024-01-01', true, NULL)",
    "UPDATE sales SET name = 'x'",
    "DELETE FROM sales",
    "DROP TABLE sales",
    "CREATE TABLE copy AS SELECT * FROM sales",
    "SELECT * INTO copy2 FROM sales",
    "SELECT * FROM sales FOR UPDATE",
    "SELECT 1; DELETE FROM sales",
    "",
    "SELEC * FROM sales",
], ids=["insert", "update", "delete", "drop", "create-as", "select-into", "for-update", "two-statements", "empty",
        "typo"])
def test_queries_that_are_not_read_only_are_refused(pg_conn: connections.DatabaseConnection, query: str) -> None:
    with pytest.raises(InvalidSql) as caught:
        datasets.import_database(pg_conn, query=query)
    assert caught.value.hint
    assert datasets.import_database(pg_conn, query="SELECT count(*) AS n FROM sales", name=f"n{uuid.uuid4().hex[:6]}"
                                    ).rows == 1
    assert datasets.load_frame(datasets.list_datasets()[0].id)["n"].tolist() == [ROWS]


def test_refused_logins_are_explained(maria_source: dict, pg_source: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WB_TEST_WRONG", "not-the-password")
    maria = connections.save_connection("bad-maria", "mysql", host=maria_source["host"], port=maria_source["port"],
                                        database=maria_source["database"], user=READER, password_env="WB_TEST_WRONG")
    with pytest.raises(ConnectionFailed, match="refused the login") as caught:
        connections.test_connection(maria)
    assert "not-the-password" not in str(caught.value)
    pg = connections.save_connection("bad-pg", "postgresql", host=pg_source["host"], port=pg_source["port"],
                                     database=pg_source["database"], user="no_such_role_wb")
    with pytest.raises(ConnectionFailed, match="refused the login"):
        datasets.import_database(pg, table="sales")
    assert datasets.count_datasets() == 0


def test_unreachable_server_and_missing_driver() -> None:
    down = connections.save_connection("down", "postgresql", host="127.0.0.1", port=1, database="x", user="u")
    with pytest.raises(ConnectionFailed, match="Could not reach"):
        connections.test_connection(down)
    mssql = connections.save_connection("mssql", "mssql", host="127.0.0.1", database="x", user="sa")
    with pytest.raises(ConnectionFailed, match="not installed") as caught:
        connections.test_connection(mssql)
    assert "pip install pymssql" in caught.value.hint


def test_sqlite_file_and_unknown_table(tmp_path: Path) -> None:
    path = tmp_path / "local.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(10)])
    conn = connections.save_connection("local", "sqlite", database=str(path))
    assert connections.list_tables(conn) == ["t"]
    ds = datasets.import_database(conn, query="SELECT a, b FROM t WHERE a >= 5")
    assert datasets.load_frame(ds.id)["a"].tolist() == [5, 6, 7, 8, 9]
    with pytest.raises(NotFound):
        datasets.import_database(conn, table="missing")


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"name": "x", "kind": "oracle", "host": "h", "database": "d"}, "Unknown database kind"),
    ({"name": "x", "kind": "postgresql", "database": "d"}, "host"),
    ({"name": "x", "kind": "postgresql", "host": "h", "database": "d", "password_env": "not a var"}, "environment"),
    ({"name": "../x", "kind": "postgresql", "host": "h", "database": "d"}, "path"),
])
def test_bad_connections_are_refused(kwargs: dict, words: str) -> None:
    with pytest.raises(WorkbenchError, match=words):
        connections.save_connection(**kwargs)
