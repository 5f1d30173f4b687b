"""AppTests for the Datasets page: URL and database imports, preview filter, columns, profile, clean with
versions, rollback and export; the picker following imports; the upload limit; a 10,000-column dataset."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import jobs
from core import connections, datasets
from core.config import Settings, reload_settings
from core.datasets import versions
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


def test_url_import_from_a_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "127.0.0.1")  # loopback is refused unless allowed
    reload_settings()
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
    assert any("Version 1 is current again." in s.value for s in at.success)  # said after the rerun, and it stays


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


def test_picker_follows_an_import(sales: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the page open on sales, and the test's loopback server allowed as a URL source
    monkeypatch.setenv("URL_ALLOWED_HOSTS", "127.0.0.1")
    reload_settings()
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


# ---------------------------------------------------------------- smaller ones (issue 19, item 10)

def test_upload_box_states_the_configured_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given MAX_UPLOAD_MB=7
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    reload_settings()
    # When the page opens
    at = page().run()
    # Then the upload box says 7 MB per file, not Streamlit's own limit
    assert not at.exception
    uploader = at.get("file_uploader")[0]
    assert uploader.proto.max_upload_size_mb == 7


def test_streamlit_config_and_make_run_agree_with_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the Streamlit config shipped with the app and the default setting
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert config["server"]["maxUploadSize"] == Settings.model_fields["max_upload_mb"].default
    # When `make run` is asked what it would run, with MAX_UPLOAD_MB=7 in the environment
    bin_dir = Path(sys.executable).parent
    dry = subprocess.run(["make", "-n", "-C", str(ROOT), "run", f"BIN={bin_dir}", f"STAMP={ROOT / 'Makefile'}"],
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in dry.splitlines() if "streamlit run" in ln)
    command = re.search(r"--server\.maxUploadSize \$\((.+)\)", line).group(1)
    monkeypatch.setenv("MAX_UPLOAD_MB", "7")
    value = subprocess.run(command, shell=True, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    # Then Streamlit is started with the setting's limit
    assert value.strip() == "7"


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page that has these columns."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def profiled(at: AppTest) -> AppTest:
    at.button(key="profile-run").click().run()
    jobs.wait_idle(60)
    return at.run()


def test_profile_opens_on_the_overview_and_says_when_nothing_is_missing() -> None:
    # Given a dataset without a single missing value
    datasets.store_table(pa.table({"a": [1.0, 2.0, 3.5, 4.0], "b": [2.0, 4.1, 6.0, 8.2], "c": ["x", "y", "x", "y"]}),
                         name="full", source="test")
    # When it is profiled
    at = profiled(page().run())
    # Then the profile opens on its overview, says nothing is missing and draws no empty chart
    assert not at.exception
    labels = [t.label for t in at.tabs]
    assert labels[labels.index("Overview"):][:4] == ["Overview", "Columns", "Column detail", "Correlations"]
    assert any("No missing values" in s.value for s in at.success)
    assert not [c for c in at.get("plotly_chart") if "Missing values" in c.proto.spec]
    # And the correlations start with Pearson, not the correlation ratio
    assert at.segmented_control(key="profile-corr").value == "pearson"


def test_a_wide_correlation_grid_becomes_a_table_of_the_strongest_pairs() -> None:
    # Given 16 numeric columns, two of them almost equal
    rng = np.random.default_rng(3)
    base = rng.normal(size=60)
    columns = {f"n{i}": rng.normal(size=60) for i in range(15)}
    columns["twin"] = base + rng.normal(0, 0.01, 60)
    columns["n0"] = base
    datasets.store_table(pa.table(columns), name="wide_numbers", source="test")
    # When profiled
    at = profiled(page().run())
    # Then the correlations are a readable table, strongest pair first, not a 16 x 16 heatmap
    assert not at.exception
    pairs = frame_with(at, "a", "b", "value")
    assert {pairs.iloc[0]["a"], pairs.iloc[0]["b"]} == {"n0", "twin"} and pairs.iloc[0]["value"] > 0.99
    assert not [c for c in at.get("plotly_chart") if "correlation" in c.proto.spec]


def test_diff_selectors_follow_new_versions(sales: Dataset) -> None:
    # Given two cleaning steps applied one after the other
    at = page().run()
    for name in ("double", "triple"):
        at.selectbox(key="clean-op").select("derive").run()
        at.text_input(key="clean-derive-name").input(name)
        at.text_input(key="clean-derive-expr").input("units * 2")
        at.button(key="clean-apply").click().run()
    # Then the diff compares the latest two versions, 2 and 3
    assert not at.exception
    assert (at.selectbox(key="diff-a").value, at.selectbox(key="diff-b").value) == (2, 3)
    assert "**added** triple" in texts(at)


def test_refused_filter_names_it_with_the_right_article(sales: Dataset) -> None:
    at = page().run()
    at.selectbox(key="clean-op").select("filter").run()
    at.text_input(key="clean-filter-expr").input("read_csv('/etc/passwd') IS NULL")
    at.button(key="clean-apply").click().run()
    errors = " ".join(e.value for e in at.error)
    assert "is not allowed in a filter" in errors and "an filter" not in errors


# ---------------------------------------------------------------- a 50 x 10,000 CSV (issue 19, item 2)

@pytest.fixture
def wide(tmp_path: Path) -> Dataset:
    rng = np.random.default_rng(0)
    path = tmp_path / "wide.csv"
    values = rng.normal(size=(50, 10_000)).round(4)
    lines = [",".join(f"c{i}" for i in range(10_000))] + [",".join(map(str, row)) for row in values]
    path.write_text("\n".join(lines) + "\n")
    return datasets.ingest_file(path, name="wide")


def test_a_wide_dataset_renders_every_tab_in_pages_and_can_be_deleted(wide: Dataset) -> None:
    # When the page opens on a 50 x 10,000 dataset
    started = time.perf_counter()
    at = page().run(timeout=120)
    seconds = time.perf_counter() - started
    # Then every tab rendered, a page of columns at a time, within a reasonable time
    assert not at.exception
    assert seconds < 60, f"the page took {seconds:.0f} s"
    assert at.dataframe[0].value.shape == (50, 50)
    assert len(frame_with(at, "storage_type")) == 50
    assert "Columns 1–50 of 10,000" in texts(at)
    at.number_input(key="columns-page").set_value(200).run(timeout=120)
    assert frame_with(at, "storage_type")["name"].tolist()[-1] == "c9999"
    # And a cleaning step makes a version whose history and comparison still render
    at.selectbox(key="clean-op").select("derive").run(timeout=120)
    at.text_input(key="clean-derive-name").input("sum2")
    at.text_input(key="clean-derive-expr").input("c0 + c1")
    at.button(key="clean-apply").click().run(timeout=120)
    assert not at.exception and datasets.get_dataset(wide.id).version == 2
    assert "**added** sum2" in texts(at) and "only its columns and rows are compared" in texts(at)
    # And the dataset can be deleted from the page
    at.button(key="delete-dataset").click().run(timeout=120)
    assert not at.exception and datasets.count_datasets() == 0


def test_picking_another_dataset_still_switches_the_page(sales: Dataset) -> None:
    # Given two datasets, the newest shown
    other = datasets.store_table(pa.table({"k": [1, 2]}), name="other", source="test")
    at = page().run()
    assert picked(at)[0] == str(other.id)
    # When the analyst picks the older one
    at.selectbox(key="dataset_picker").select(str(sales.id)).run()
    # Then the page shows it, and keeps showing it on the next run
    assert not at.exception and "4 rows × 3 columns" in texts(at)
    at.run()
    assert picked(at)[0] == str(sales.id) and "4 rows × 3 columns" in texts(at)
