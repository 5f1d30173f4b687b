"""External databases through `connection=`: real PostgreSQL and MariaDB, read-only transactions."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core import sql
from core.errors import ConnectionFailed, InvalidSql

pytestmark = pytest.mark.integration

SERVERS = {
    "postgresql": os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    "mariadb": os.environ.get("TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306/test"),
}


@dataclass
class External:
    url: str
    table: str


@pytest.fixture(params=sorted(SERVERS))
def external(request: pytest.FixtureRequest) -> Iterator[External]:
    """A small table in a real server, dropped after the test."""
    url = sql.connection_url(SERVERS[request.param])
    table = f"wb_probe_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {table} (id INT, name VARCHAR(20))"))
            conn.execute(text(f"INSERT INTO {table} VALUES (1, 'alpha'), (2, 'beta%'), (3, 'gamma')"))
    except Exception as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{request.param} unreachable under CI: {exc}")
        pytest.skip(f"{request.param} unreachable: {exc}")
    yield External(SERVERS[request.param], table)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def _count(ext: External) -> int:
    engine = create_engine(sql.connection_url(ext.url))
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {ext.table}")).scalar_one()
    engine.dispose()
    return n


def test_a_query_reads_the_external_table(external: External) -> None:
    out = sql.query(f"SELECT id, name FROM {external.table} WHERE name LIKE 'b%' ORDER BY id",
                    connection=external.url)
    assert out.to_dict("records") == [{"id": 2, "name": "beta%"}]


def test_the_row_limit_applies_to_external_queries(external: External) -> None:
    out = sql.query(f"SELECT * FROM {external.table} ORDER BY id", connection=external.url, limit=2)
    assert len(out) == 2 and out.attrs["truncated"] is True


def test_a_connection_object_with_a_url_works(external: External) -> None:
    class Saved:
        def __init__(self, url: str) -> None:
            self._url = url

        def url(self) -> str:
            return self._url

    out = sql.query(f"SELECT count(*) AS n FROM {external.table}", connection=Saved(external.url))
    assert int(out.iloc[0, 0]) == 3


@pytest.mark.parametrize("write", ["DELETE FROM {t}", "UPDATE {t} SET name = 'x'", "DROP TABLE {t}",
                                   "INSERT INTO {t} VALUES (9, 'z')", "SELECT 1; DELETE FROM {t}"])
def test_writes_are_refused_by_validation(external: External, write: str) -> None:
    with pytest.raises(InvalidSql):
        sql.query(write.format(t=external.table), connection=external.url)
    assert _count(external) == 3


@pytest.mark.parametrize("write", ["DELETE FROM {t}", "UPDATE {t} SET name = 'x'",
                                   "INSERT INTO {t} VALUES (9, 'z')"])
def test_the_read_only_transaction_blocks_writes_even_without_validation(external: External, write: str) -> None:
    url = sql.connection_url(external.url)
    with pytest.raises(InvalidSql, match=r"(?i)read.only"):
        sql._execute_external(url, write.format(t=external.table), limit=10, timeout_s=10)
    assert _count(external) == 3


def test_an_unreachable_server_is_a_connection_error() -> None:
    with pytest.raises(ConnectionFailed):
        sql.query("SELECT 1", connection="postgresql://postgres@127.0.0.1:1/nothing")


def test_a_database_error_is_reported(external: External) -> None:
    with pytest.raises(InvalidSql, match="refused the query"):
        sql.query("SELECT * FROM no_such_table_here", connection=external.url)


def test_a_saved_connection_is_queried_by_name(external: External) -> None:
    from core import connections

    url = sql.connection_url(external.url)
    parts = make_url(url)
    kind = "postgresql" if parts.get_backend_name() == "postgresql" else "mysql"
    connections.save_connection("probe", kind, host=parts.host, port=parts.port, database=parts.database,
                                user=parts.username or "")
    out = sql.query(f"SELECT count(*) AS n FROM {external.table}", connection="probe")
    assert int(out.iloc[0, 0]) == 3
    assert sql.history()[0].target.startswith(kind)
