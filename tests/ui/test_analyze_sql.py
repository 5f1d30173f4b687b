"""AppTests: the SQL tab of the Analyze page: schema, run, refusal, limit, save as dataset, history."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import datasets, sql

ROOT = Path(__file__).resolve().parents[2]


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/3_Analyze.py"), default_timeout=60)


def run_sql(at: AppTest, text: str) -> AppTest:
    at.text_area(key="sql-editor").input(text).run()
    return at.button(key="sql-run").click().run()


def test_schema_browser_and_default_query(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales 2024")
    at = page().run()
    assert not at.exception
    assert any("sales_2024" in e.label for e in at.expander)
    assert any("`units` int64" in m.value for m in at.markdown)
    assert "FROM sales_2024" in at.text_area(key="sql-editor").value


def test_run_a_query_download_and_save_as_dataset(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = run_sql(page().run(), "SELECT region, units * 2 AS doubled FROM sales ORDER BY region")
    assert not at.exception and not at.error
    table = at.dataframe[-1].value
    assert table["region"].tolist() == ["east", "north", "south", "west"]
    assert at.get("download_button")
    at.text_input(key="sql-save-name").input("doubled").run()
    at.button(key="sql-save").click().run()
    assert not at.exception
    assert any("Saved 4 rows as the dataset 'doubled'" in s.value for s in at.success)
    assert datasets.get_dataset("doubled").source == "sql"


def test_a_refused_statement_is_an_error_not_a_crash(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = run_sql(page().run(), "DROP VIEW sales")
    assert not at.exception
    assert any("not allowed" in e.value for e in at.error)
    assert sql.query("SELECT count(*) AS n FROM sales")["n"][0] == 4


def test_a_truncated_result_says_so(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    at.number_input(key="sql-limit").set_value(2).run()
    at = run_sql(at, "SELECT * FROM sales")
    assert not at.exception
    assert any("first 2 rows" in w.value for w in at.warning)


def test_history_reloads_a_query_into_the_editor(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = run_sql(page().run(), "SELECT max(price) AS top FROM sales")
    at.text_area(key="sql-editor").input("SELECT 1").run()
    entry = sql.history()[0]
    at.button(key=f"sql-history-{entry.id}").click().run()
    assert not at.exception
    assert at.text_area(key="sql-editor").value == "SELECT max(price) AS top FROM sales"


def test_a_saved_connection_is_queried_read_only(tmp_path: Path) -> None:
    import sqlite3

    from core import connections

    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE orders (id INTEGER, total REAL)")
        con.execute("INSERT INTO orders VALUES (1, 9.5), (2, 20.0)")
    saved = connections.save_connection("shop", "sqlite", database=str(db))
    at = page().run()
    at.selectbox(key="sql-source").select(str(saved.id)).run()
    assert any("`orders`" in m.value for m in at.markdown)
    at = run_sql(at, "SELECT sum(total) AS total FROM orders")
    assert not at.exception and not at.error
    assert at.dataframe[-1].value["total"].tolist() == [29.5]
    at = run_sql(at, "DELETE FROM orders")
    assert any("not allowed" in e.value for e in at.error)


def test_a_self_join_with_repeated_column_names_displays_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "grunfeld.csv"
    path.write_text("firm,year,invest\nGM,1935,317.6\nUS,1935,209.9\nGE,1935,33.1\nGM,1936,391.8\nUS,1936,355.3\n")
    datasets.ingest_file(path, name="grunfeld")
    at = run_sql(page().run(), "SELECT * FROM grunfeld a JOIN grunfeld b ON a.year = b.year AND a.firm <> b.firm "
                               "LIMIT 20")
    assert not at.exception and not at.error
    assert list(at.dataframe[-1].value.columns) == ["firm", "year", "invest", "firm_1", "year_1", "invest_1"]
    at.text_input(key="sql-save-name").input("pairs").run()
    at.button(key="sql-save").click().run()
    assert not at.exception and not at.error
    assert datasets.get_dataset("pairs").rows == 8


def test_a_login_that_can_write_gets_a_warning_on_the_sql_tab() -> None:
    from sqlalchemy.engine import make_url

    from core import connections
    from tests.conftest import scratch_pg_database

    with scratch_pg_database("wb_ui") as url:
        parts = make_url(url)
        saved = connections.save_connection("warehouse", "postgresql", host=parts.host, port=parts.port,
                                            database=parts.database, user=parts.username or "")
        at = page().run()
        at.selectbox(key="sql-source").set_value(str(saved.id)).run()
        assert not at.exception
        assert any("can change this database" in w.value and "SELECT" in w.value for w in at.warning)
