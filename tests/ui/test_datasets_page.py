"""AppTests for the Datasets page: URL and database imports, preview filter, columns, profile, clean with
versions, rollback and export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import jobs
from core import connections, datasets, versions
from core.models import Dataset
from tests.integration.test_datasets_url import DataServer

ROOT = Path(__file__).resolve().parents[2]


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/1_Datasets.py"), default_timeout=60)


@pytest.fixture
def sales(csv_file: Path) -> Dataset:
    return datasets.ingest_file(csv_file, name="sales")


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
                    + [i.value for i in at.info] + [s.value for s in at.success])


def test_url_import_from_a_local_server() -> None:
    with DataServer() as server:
        at = page().run()
        at.text_input(key="url-input").input(server.url("/data.csv")).run()
        at.button(key="url-import").click().run()
    assert not at.exception
    ds = datasets.get_dataset("data")
    assert ds.rows == 2 and "Lyon" in at.dataframe[0].value["city"].tolist()


@pytest.mark.parametrize("url", ["ftp://example.org/data.csv", "http://127.0.0.1:1/none.csv"])
def test_bad_url_shows_a_message_not_a_traceback(url: str) -> None:
    at = page().run()
    at.text_input(key="url-input").input(url).run()
    at.button(key="url-import").click().run()
    assert not at.exception
    assert at.error and datasets.count_datasets() == 0


def test_preview_filter_and_columns(sales: Dataset) -> None:
    at = page().run()
    at.text_input(key="preview-where").input("units >= 7").run()
    assert not at.exception
    assert at.dataframe[0].value["region"].tolist() == ["north", "south"]
    assert "matching the filter" in texts(at)
    at.text_input(key="preview-where").input("units >>> 7").run()
    assert not at.exception and any("not valid" in e.value for e in at.error)
    columns = next(d.value for d in at.dataframe if "storage_type" in d.value.columns)
    assert columns.set_index("name").loc["units", "kind"] == "numeric"


def test_profile_shows_alerts_and_details(sales: Dataset) -> None:
    at = page().run()
    at.button(key="profile-run").click().run()
    jobs.wait_idle(60)
    at.run()
    assert not at.exception
    assert "Profiled 4 rows and 3 columns." in texts(at)
    assert any(m.label == "Duplicate rows" for m in at.metric)
    at.selectbox(key="profile-column").select("units").run()
    assert not at.exception


def test_clean_makes_versions_and_rolls_back(sales: Dataset) -> None:
    at = page().run()
    at.selectbox(key="clean-op").select("derive").run()
    at.text_input(key="clean-derive-name").input("revenue")
    at.text_input(key="clean-derive-expr").input("units * price")
    at.button(key="clean-preview").click().run()
    assert not at.exception
    at.button(key="clean-apply").click().run()
    assert not at.exception
    assert datasets.get_dataset(sales.id).version == 2
    assert "revenue" in at.dataframe[0].value.columns
    at.selectbox(key="rollback-version").select(1)
    at.button(key="rollback-run").click().run()
    assert not at.exception
    assert datasets.get_dataset(sales.id).version == 1
    assert [v.version for v in versions.history(sales.id)] == [1, 2]


def test_bad_clean_step_is_explained(sales: Dataset) -> None:
    at = page().run()
    at.selectbox(key="clean-op").select("filter").run()
    at.text_input(key="clean-filter-expr").input("read_csv('/etc/passwd') IS NULL")
    at.button(key="clean-apply").click().run()
    assert not at.exception
    assert any("not allowed" in e.value for e in at.error)
    assert datasets.get_dataset(sales.id).version == 1


def test_export_prepares_a_download(sales: Dataset) -> None:
    at = page().run()
    at.text_input(key="export-where").input("region <> 'east'")
    at.button(key="export-prepare").click().run()
    assert not at.exception
    buttons = at.get("download_button")
    assert buttons and "sales-v1-filtered.csv (3 rows)" in str(buttons[0].proto.label)


def test_database_import_runs_as_a_job(tmp_path: Path) -> None:
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, total REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 2.5) for i in range(30)])
    connections.save_connection("shop", "sqlite", database=str(db))
    at = page().run()
    at.radio(key="db-source").set_value("A query").run()
    at.text_area(key="db-query").input("SELECT * FROM orders WHERE id < 10").run()
    at.button(key="db-import").click().run()
    jobs.wait_idle(60)
    at.run()
    assert not at.exception
    assert datasets.get_dataset("shop_query").rows == 10
    at.text_area(key="db-query").input("DELETE FROM orders").run()
    at.button(key="db-import").click().run()
    assert any("read-only" in e.value for e in at.error)


# ---------------------------------------------------------------- the picker follows imports and versions

def picked(at: AppTest) -> tuple[str, str]:
    """(id, label) the dataset picker holds."""
    box = at.selectbox(key="dataset_picker")
    return box.value, box.format_func(box.value)


def shown_label(at: AppTest) -> str:
    """The label the browser displays: the browser keeps the label it last showed unless the run sends one."""
    box = at.selectbox(key="dataset_picker")
    return box.proto.raw_value if box.proto.set_value else "(the browser keeps its previous label)"


def test_picker_follows_an_import(sales: Dataset) -> None:
    # Given the page open on sales
    at = page().run()
    assert picked(at)[0] == str(sales.id)
    # When another dataset is imported
    with DataServer() as server:
        at.text_input(key="url-input").input(server.url("/data.csv")).run()
        at.button(key="url-import").click().run()
    # Then the picker shows the new dataset, not the previous one
    assert not at.exception
    new = datasets.get_dataset("data")
    assert picked(at)[0] == str(new.id) and picked(at)[1].startswith("data")
    assert "2 rows × 2 columns" in texts(at)


def test_picker_label_matches_the_caption_after_a_new_version_and_a_rollback(sales: Dataset) -> None:
    # Given a second version with a derived column
    at = page().run()
    at.selectbox(key="clean-op").select("derive").run()
    at.text_input(key="clean-derive-name").input("revenue")
    at.text_input(key="clean-derive-expr").input("units * price")
    at.button(key="clean-apply").click().run()
    # Then the browser is sent the label 4 × 4 beside the caption
    assert "(4 × 4)" in shown_label(at) and "4 rows × 4 columns · version 2" in texts(at)
    # When rolled back to version 1
    at.selectbox(key="rollback-version").select(1)
    at.button(key="rollback-run").click().run()
    # Then the label and the caption agree on 4 × 3, in the same run
    assert not at.exception
    assert "(4 × 3)" in shown_label(at) and "4 rows × 3 columns · version 1" in texts(at)
    assert picked(at) == (str(sales.id), shown_label(at))
