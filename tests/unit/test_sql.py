"""SQL over the datasets: queries that run, queries refused before anything runs, limits, history."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from core import datasets, sql
from core.errors import InvalidSql
from core.models.explore import QueryHistory


@pytest.fixture
def sales(csv_file: Path) -> datasets.Dataset:
    return datasets.ingest_file(csv_file, name="sales 2024")


@pytest.fixture
def cities(tmp_path: Path) -> datasets.Dataset:
    path = tmp_path / "cities.csv"
    path.write_text("region,city\nnorth,Lille\nsouth,Nice\nwest,Nantes\n")
    return datasets.ingest_file(path, name="cities")


# ---------------------------------------------------------------- queries that run


def test_a_dataset_is_a_table_under_its_name_and_its_identifier_alias(sales) -> None:
    by_alias = sql.query("SELECT region, units FROM sales_2024 ORDER BY region")
    by_name = sql.query('SELECT region, units FROM "sales 2024" ORDER BY region')
    assert by_alias["region"].tolist() == ["east", "north", "south", "west"]
    assert by_alias.equals(by_name)


def test_group_by_join_cte_and_union_run(sales, cities) -> None:
    out = sql.query(
        "WITH s AS (SELECT * FROM sales_2024) "
        "SELECT c.city, sum(s.units) AS units FROM s JOIN cities c USING (region) GROUP BY 1 "
        "UNION ALL SELECT 'total', sum(units) FROM sales_2024 ORDER BY 1"
    )
    assert dict(zip(out["city"], out["units"], strict=True)) == {"Lille": 10, "Nantes": 3, "Nice": 7, "total": 20}


def test_a_literal_percent_sign_and_a_trailing_semicolon_are_fine(sales) -> None:
    out = sql.query("SELECT region FROM sales_2024 WHERE region LIKE 'n%';")
    assert out["region"].tolist() == ["north"]


def test_the_row_limit_cuts_and_says_so(sales) -> None:
    out = sql.query("SELECT * FROM sales_2024", limit=2)
    assert len(out) == 2 and out.attrs["truncated"] is True and out.attrs["limit"] == 2
    full = sql.query("SELECT * FROM sales_2024", limit=4)
    assert len(full) == 4 and full.attrs["truncated"] is False


def test_the_default_limit_is_sql_max_rows(sales, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import reload_settings

    monkeypatch.setenv("SQL_MAX_ROWS", "3")
    reload_settings()
    result = sql.run("SELECT * FROM sales_2024")
    assert result.rows == 3 and result.truncated and result.limit == 3


def test_a_long_query_is_stopped_at_the_timeout(sales) -> None:
    slow = ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
            "SELECT count(*) FROM r, sales_2024")
    with pytest.raises(InvalidSql, match=r"stopped after 0.5 s"):
        sql.run(slow, timeout_s=0.5)


def test_schema_browser_lists_tables_with_columns(sales, cities) -> None:
    infos = {t.name: t for t in sql.tables()}
    assert infos["sales 2024"].alias == "sales_2024"
    assert infos["cities"].alias is None  # already an identifier
    assert [c["name"] for c in infos["sales 2024"].columns] == ["region", "units", "price"]


@pytest.mark.parametrize(("name", "alias"), [("Sales 2024", "sales_2024"), ("2024-report", "t_2024_report"),
                                             ("q1.revenue (eu)", "q1_revenue_eu"), ("cities", "cities")])
def test_identifier_aliases(name: str, alias: str) -> None:
    assert sql.identifier(name) == alias


def test_save_query_stores_the_whole_result_as_a_dataset(sales) -> None:
    ds = sql.save_query("SELECT region, units * 2 AS double_units FROM sales_2024", name="doubled")
    assert ds.source == "sql" and ds.rows == 4
    assert "units * 2" in ds.source_detail
    assert sorted(datasets.load_frame(ds.id)["double_units"].dropna().tolist()) == [6, 14, 20]
    assert "doubled" in {t.name for t in sql.tables()}


def test_history_records_successes_and_errors(backend: str, sales) -> None:
    sql.query("SELECT count(*) AS n FROM sales_2024")
    with pytest.raises(InvalidSql):
        sql.query("DROP TABLE sales_2024")
    entries = sql.history()
    assert [e.sql for e in entries][:2] == ["DROP TABLE sales_2024", "SELECT count(*) AS n FROM sales_2024"]
    failed, ok = entries[0], entries[1]
    assert isinstance(ok, QueryHistory) and ok.rows == 1 and ok.error is None and ok.duration_s >= 0
    assert "not allowed" in failed.error
    assert sql.clear_history() == 2 and sql.history() == []


# ---------------------------------------------------------------- refused before anything runs

REFUSED = [
    ("INSERT INTO sales_2024 VALUES ('x', 1, 1.0)", "INSERT"),
    ("UPDATE sales_2024 SET units = 0", "UPDATE"),
    ("DELETE FROM sales_2024", "DELETE"),
    ("CREATE TABLE x AS SELECT 1", "CREATE"),
    ("CREATE VIEW v AS SELECT * FROM sales_2024", "CREATE"),
    ("DROP VIEW sales_2024", "DROP"),
    ("ALTER TABLE sales_2024 ADD COLUMN y INT", "ALTER"),
    ("ATTACH '/tmp/other.db' AS other", "ATTACH"),
    ("DETACH other", "DETACH"),
    ("COPY sales_2024 TO '/tmp/out.csv'", "COPY"),
    ("EXPORT DATABASE '/tmp/dump'", ""),
    ("INSTALL httpfs", "INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("PRAGMA database_list", "PRAGMA"),
    ("SET enable_external_access = true", "SET"),
    ("RESET memory_limit", ""),
    ("CALL pragma_version()", "CALL"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("VACUUM", ""),
    ("BEGIN TRANSACTION", ""),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv"),
    ("SELECT * FROM read_parquet('http://example.com/x.parquet')", "read_parquet"),
    ("SELECT * FROM read_json('https://example.com/x.json')", "read_json"),
    ("SELECT read_text('/etc/passwd')", "read_text"),
    ("SELECT * FROM read_blob('/etc/hostname')", "read_blob"),
    ("SELECT * FROM glob('/etc/*')", "glob"),
    ("SELECT * FROM parquet_scan('/tmp/x.parquet')", ""),
    ("SELECT * FROM sqlite_scan('/tmp/x.db', 't')", ""),
    ("SELECT * FROM '/etc/passwd'", "cannot be used as a table"),
    ("SELECT * FROM 'file.csv'", "cannot be used as a table"),
    ("FROM 'data.parquet'", "cannot be used as a table"),
    ("SELECT getenv('HOME')", "getenv"),
    ("SELECT current_setting('memory_limit')", "current_setting"),
    ("SELECT * FROM duckdb_settings()", ""),
    ("SELECT * FROM range(10)", "Table functions"),
    ("SELECT * FROM query('SELECT 1')", ""),
    ("SELECT * FROM sales_2024; DROP VIEW sales_2024", "2 statements"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("SELECT 1 /* harmless */ ; INSERT INTO sales_2024 VALUES ('x', 1, 1)", "2 statements"),
    ("SELECT 1 --\n; DELETE FROM sales_2024", "2 statements"),
    ("SELECT * FROM sales_2024 WHERE units > (SELECT count(*) FROM read_csv('/etc/passwd'))", "read_csv"),
    ("WITH x AS (SELECT * FROM read_parquet('/tmp/a.parquet')) SELECT * FROM x", "read_parquet"),
    ("SELECT * FROM main.sales_2024", "Qualified"),
    ("SELECT * FROM information_schema.tables", "Qualified"),
    ("SELECT * FROM secret_table", "Unknown table"),
    ("SUMMARIZE sales_2024", "SUMMARIZE"),
    ("DESCRIBE sales_2024", "DESCRIBE"),
    ("SHOW TABLES", "SHOW"),
    ("", "empty"),
    ("   -- only a comment", ""),
]


@pytest.mark.parametrize(("statement", "message"), REFUSED, ids=[s[:40] or "empty" for s, _ in REFUSED])
def test_refused_by_validation(statement: str, message: str) -> None:
    with pytest.raises(InvalidSql) as caught:
        sql.validate(statement, known_tables=["sales_2024", "sales 2024"])
    assert isinstance(caught.value, sql.Refused)
    assert message in str(caught.value) and caught.value.hint


def test_every_refused_statement_fails_through_query_and_changes_nothing(sales) -> None:
    for statement, _ in REFUSED:
        with pytest.raises(InvalidSql):
            sql.query(statement)
    assert sql.query("SELECT count(*) AS n FROM sales_2024")["n"][0] == 4  # the dataset is untouched
    assert len([h for h in sql.history(limit=200) if h.error]) == len(REFUSED)


def test_an_unknown_table_suggests_the_closest_name(sales) -> None:
    with pytest.raises(InvalidSql) as caught:
        sql.query("SELECT *\nFROM  salse_2024")
    assert "Unknown table 'salse_2024' (line 2, column 7)" in caught.value.message
    assert "Did you mean 'sales_2024'?" in caught.value.hint


@pytest.mark.parametrize(("statement", "position"), [
    ("SELECT region,\n  unitz FROM sales_2024", "(line 2, column 3)"),
    ("SELECT region FROM sales_2024\nWHERE units >", "line 2"),
    ("SELECT * FROM sales_2024 WHERE", "line 1"),
])
def test_errors_point_at_the_position(sales, statement: str, position: str) -> None:
    with pytest.raises(InvalidSql) as caught:
        sql.query(statement)
    assert position in caught.value.message


# ---------------------------------------------------------------- defence in depth: DuckDB itself


def test_the_duckdb_connection_refuses_files_even_without_validation(sales, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    con = sql.connect_datasets()
    try:
        assert con.execute("SELECT count(*) FROM sales_2024").fetchone()[0] == 4
        for bypass in (f"SELECT * FROM read_csv('{secret}')", f"COPY (SELECT 1) TO '{tmp_path / 'out.csv'}'",
                       f"ATTACH '{tmp_path / 'x.db'}' AS x", "SET enable_external_access = true",
                       "SET allowed_paths = ['/']", "INSTALL httpfs"):
            with pytest.raises(Exception, match=r"disabled by configuration|locked|Permission|not allowed"):
                con.execute(bypass)
    finally:
        con.close()
    assert not (tmp_path / "out.csv").exists()


def test_python_variables_are_not_visible_as_tables(sales) -> None:
    leaked = pa.table({"x": [1]})  # noqa: F841 - DuckDB replacement scans would find this name
    with pytest.raises(InvalidSql):
        sql.query("SELECT * FROM leaked")
    con = sql.connect_datasets()
    try:
        with pytest.raises(Exception, match="leaked"):
            con.execute("SELECT * FROM leaked")
    finally:
        con.close()


# ---------------------------------------------------------------- repeated column names (issue 19)


@pytest.fixture
def grunfeld(tmp_path: Path) -> datasets.Dataset:
    path = tmp_path / "grunfeld.csv"
    path.write_text("firm,year,invest\nGM,1935,317.6\nUS,1935,209.9\nGE,1935,33.1\nGM,1936,391.8\nUS,1936,355.3\n")
    return datasets.ingest_file(path, name="grunfeld")


def test_a_self_join_gets_unique_column_names_and_saves_as_a_dataset(grunfeld) -> None:
    statement = ("SELECT * FROM grunfeld a JOIN grunfeld b ON a.year = b.year AND a.firm <> b.firm "
                 "ORDER BY a.firm, b.firm LIMIT 20")
    out = sql.query(statement)
    assert list(out.columns) == ["firm", "year", "invest", "firm_1", "year_1", "invest_1"]
    assert len(out) == 8
    saved = sql.save_query(statement, name="pairs")
    assert [c["name"] for c in saved.schema_] == list(out.columns) and saved.rows == 8


def test_a_three_way_cross_join_is_numbered_like_duckdb(grunfeld) -> None:
    out = sql.query("SELECT a.year, b.year, c.year, a.firm FROM grunfeld a, grunfeld b, grunfeld c LIMIT 3")
    assert list(out.columns) == ["year", "year_1", "year_2", "firm"]


@pytest.mark.parametrize(("names", "unique"), [
    (["year", "year"], ["year", "year_1"]),
    (["a", "a", "a"], ["a", "a_1", "a_2"]),
    (["a", "a_1", "a"], ["a", "a_1", "a_2"]),
    (["A", "a"], ["A", "a_1"]),
    (["x", "y"], ["x", "y"]),
])
def test_unique_columns(names: list[str], unique: list[str]) -> None:
    assert sql.unique_columns(names) == unique


# ---------------------------------------------------------------- deleting while others query (issue 10, item 9)


def test_a_dataset_whose_file_is_missing_is_reported_and_the_others_work(sales, cities) -> None:
    datasets.dataset_path(cities.id).unlink()
    assert sql.query("SELECT count(*) AS n FROM sales_2024")["n"][0] == 4
    with pytest.raises(InvalidSql, match="'cities' cannot be read: its file is missing") as caught:
        sql.query("SELECT * FROM cities")
    assert caught.value.hint
    assert sql.unavailable() == ["cities"]


def test_deleting_datasets_while_others_query_never_breaks_a_query(sales, tmp_path: Path) -> None:
    import threading

    victims = []
    for i in range(12):
        path = tmp_path / f"v{i}.csv"
        path.write_text("a\n1\n2\n")
        victims.append(datasets.ingest_file(path, name=f"victim{i}"))
    failures: list[tuple[str, BaseException]] = []
    raw: list[BaseException] = []
    done = threading.Event()

    def reader(table: str) -> None:
        while not done.is_set():
            try:
                sql.query(f"SELECT count(*) AS n FROM {table}", limit=10)
            except InvalidSql as exc:
                failures.append((table, exc))
            except Exception as exc:  # a raw DuckDB error is the bug
                raw.append(exc)

    threads = [threading.Thread(target=reader, args=(t,)) for t in ("sales_2024", "sales_2024", "victim11")]
    for t in threads:
        t.start()
    for ds in victims:
        datasets.delete_dataset(ds.id)
    done.set()
    for t in threads:
        t.join(30)
    assert raw == []
    assert [f for table, f in failures if table == "sales_2024"] == [], "a dataset nobody deleted always works"
    assert all(re.search(r"deleted|Unknown table|file is missing", str(f)) for _, f in failures), failures


# ---------------------------------------------------------------- limits on every DuckDB (issue 10, item 1)


def test_every_duckdb_gets_the_memory_and_thread_limits(sales, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    from core import duck
    from core.config import reload_settings

    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "300MB")
    monkeypatch.setenv("DUCKDB_THREADS", "1")
    reload_settings()
    fresh = duck.connect()
    expected = fresh.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    fresh.close()
    assert expected[1] == 1 and expected[0] != duckdb.connect().execute(
        "SELECT current_setting('memory_limit')").fetchone()[0]
    con = sql.connect_datasets()
    try:
        got = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    finally:
        con.close()
    assert got == expected


def test_a_shared_cursor_is_interrupted_after_its_time_limit() -> None:
    import time

    import duckdb

    from core import duck

    endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    started = time.monotonic()
    with duck.cursor(timeout_s=0.5) as con, pytest.raises(duckdb.InterruptException):
        con.execute(endless).fetchall()
    assert time.monotonic() - started < 3
    with duck.cursor() as con:  # the shared database still serves
        assert con.execute("SELECT 42").fetchone()[0] == 42


def test_an_external_sqlite_query_stops_at_the_time_limit_and_cannot_write(tmp_path: Path) -> None:
    import sqlite3
    import time

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE orders (id INTEGER)")
        con.execute("INSERT INTO orders VALUES (1)")
    url = f"sqlite:///{db}"
    started = time.monotonic()
    with pytest.raises(InvalidSql, match=r"stopped the query after 0\.5 s"):
        sql.run("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
                connection=url, timeout_s=0.5)
    assert time.monotonic() - started < 3
    with pytest.raises(InvalidSql, match=r"(?i)readonly|read-only|read only"):
        sql._execute_external(url, "DELETE FROM orders", limit=10, timeout_s=5)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM orders").fetchone()[0] == 1


def test_a_cursor_past_its_deadline_is_stopped_with_a_clear_message() -> None:
    import time

    from core import duck
    from core.errors import TooLarge

    # Given a shared cursor with a 0.3 s deadline and work that would take minutes
    started = time.monotonic()
    with pytest.raises(TooLarge) as err, duck.cursor(timeout_s=0.3) as con, duck.explained("The preview"):
        con.execute("SELECT sum(i) FROM range(100000000000) t(i)").fetchall()
    # Then it is interrupted soon after the deadline, and the message names the step and the setting
    assert time.monotonic() - started < 10
    assert "The preview took longer than" in err.value.message and "DUCKDB_TIMEOUT_S" in err.value.hint
