"""Pages of large datasets from the sort index and row groups match DuckDB's own ORDER BY ... LIMIT OFFSET."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import datasets
from core.datasets import pages
from core.errors import InvalidInput

ROWS = 3000
NASTY = 'x"); DROP TABLE t; --'


@pytest.fixture(params=["heads", "top-k"])
def big(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> datasets.Dataset:
    """A 3,000-row dataset treated as large (index row groups of 64 rows, top-k for the first 200 rows), whose
    first pages come from heads of 150 rows (written by the first page, not in the background) or, where the
    file is too wide for heads, from DuckDB's top-k."""
    monkeypatch.setattr(pages, "LARGE", 1000)
    monkeypatch.setattr(pages, "TOP_K", 200)
    monkeypatch.setattr(pages, "GROUP_ROWS", 64)
    monkeypatch.setattr(pages, "HEAD_ROWS", 150)
    monkeypatch.setattr(pages, "HEADS_IN_BACKGROUND", False)
    monkeypatch.setattr(pages, "HEAD_COLUMNS", 32 if request.param == "heads" else 3)
    rng = np.random.default_rng(1)
    price = rng.integers(0, 40, ROWS).astype("float64")  # many ties
    price[rng.random(ROWS) < 0.05] = np.nan
    table = pa.table({
        "id": np.arange(ROWS),
        "price": pa.array(price, mask=rng.random(ROWS) < 0.1),
        "city": pa.array(np.array(["b", "a", "c", "é", ""])[rng.integers(0, 5, ROWS)], mask=rng.random(ROWS) < 0.2),
        "seen": pa.array(np.datetime64("2024-01-01") + rng.integers(0, 50, ROWS).astype("timedelta64[D]")),
        "flag": pa.array(rng.random(ROWS) < 0.5, mask=rng.random(ROWS) < 0.3),
        NASTY: rng.integers(0, 3, ROWS),
    })
    return datasets.store_table(pa.Table.from_batches(table.to_batches(max_chunksize=700)), name="big",
                                source="test")


def reference(con: duckdb.DuckDBPyConnection, path: Path, column: str | None, descending: bool, offset: int, limit: int) -> pd.DataFrame:
    """DuckDB directly: ORDER BY the column (NULLS LAST), ties in file order (reversed when descending)."""
    q = '"' + (column or "").replace('"', '""') + '"'
    d = "DESC" if descending else "ASC"
    order = f"ORDER BY {q} {d} NULLS LAST, file_row_number {d}" if column else "ORDER BY file_row_number"
    sql = (f"SELECT * EXCLUDE (file_row_number) FROM read_parquet('{path}', file_row_number = true) {order} "
           f"LIMIT {limit} OFFSET {offset}")
    return con.execute(sql).df()


@pytest.mark.parametrize("descending", [False, True])
def test_every_page_matches_duckdb(big: datasets.Dataset, descending: bool) -> None:
    path, con = datasets.dataset_path(big.id), duckdb.connect()
    for column in ("price", "city", "seen", "flag", NASTY, None):
        for offset in (0, 45, 100, 1000, 2650, 2990, 3500):  # heads or top-k, their edges, index pages, the
            # nulls, past the end
            got = datasets.preview(big.id, offset=offset, limit=100, sort_by=column, descending=descending)
            want = reference(con, path, column, descending, offset, 100)
            pd.testing.assert_frame_equal(got.reset_index(drop=True), want, obj=f"{column} offset {offset}")


def test_pages_walk_every_row_once(big: datasets.Dataset) -> None:
    seen = pd.concat([datasets.preview(big.id, offset=o, limit=128, sort_by="price", descending=True)
                      for o in range(0, ROWS, 128)])
    assert sorted(seen["id"]) == list(range(ROWS))
    values = seen["price"].dropna().tolist()
    assert values == sorted(values, reverse=True, key=lambda v: (not np.isnan(v), v))  # NaN sorts above numbers


def test_the_index_is_written_once_and_deleted_with_the_dataset(big: datasets.Dataset) -> None:
    path = datasets.dataset_path(big.id)
    datasets.preview(big.id, offset=2000, limit=10, sort_by="city")
    index = pages.index_path(path, "city")
    assert index.is_file()
    stamp = index.stat().st_mtime_ns
    datasets.preview(big.id, offset=1000, limit=10, sort_by="city", descending=True)
    assert index.stat().st_mtime_ns == stamp
    datasets.delete_dataset(big.id)
    assert not index.exists() and not index.parent.exists()


def test_a_filter_still_goes_through_duckdb(big: datasets.Dataset) -> None:
    got = datasets.preview(big.id, offset=5, limit=20, sort_by="id", descending=True, where="price < 10")
    assert len(got) == 20 and (got["price"] < 10).all() and got["id"].is_monotonic_decreasing


@pytest.mark.parametrize("bad", ["nope", "price; DROP TABLE x", "../etc"])
def test_unknown_sort_columns_are_refused(big: datasets.Dataset, bad: str) -> None:
    with pytest.raises(InvalidInput, match="Unknown column"):
        datasets.preview(big.id, offset=2000, sort_by=bad)


def test_chosen_columns_and_an_empty_page(big: datasets.Dataset) -> None:
    got = datasets.preview(big.id, offset=2500, limit=5, sort_by="seen", columns=["id", "seen"])
    assert list(got.columns) == ["id", "seen"] and len(got) == 5
    assert datasets.preview(big.id, offset=10_000, limit=5, sort_by="seen").empty
    assert datasets.preview(big.id, offset=0, limit=0, sort_by="seen").empty


def test_heads_are_written_once_beside_the_index_and_serve_the_first_pages(big: datasets.Dataset) -> None:
    path = datasets.dataset_path(big.id)
    heads = pages.heads_path(path)
    datasets.preview(big.id, offset=0, limit=10)  # any page of a large version starts its heads
    if pages.HEAD_COLUMNS < len(pq.read_schema(path).names):
        assert not heads.exists()  # too wide: its first pages come from the top-k (checked above)
        return
    assert heads.is_file() and heads.parent == pages.index_folder(str(big.id))
    stamp = heads.stat().st_mtime_ns
    for column in ("price", "city", NASTY):
        for descending in (False, True):
            datasets.preview(big.id, offset=40, limit=100, sort_by=column, descending=descending)
            assert not pages.index_path(path, column).exists()  # no sort index was needed for these pages
    assert heads.stat().st_mtime_ns == stamp
    datasets.delete_dataset(big.id)
    assert not heads.exists()


def test_heads_that_cannot_be_written_leave_nothing_and_pages_still_come(
        big: datasets.Dataset, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    path = datasets.dataset_path(big.id)
    monkeypatch.setattr(pages.pq, "write_table", _full_disk)
    got = datasets.preview(big.id, offset=3, limit=20, sort_by="price", descending=True)
    want = reference(duckdb.connect(), path, "price", True, 3, 20)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)
    wide = pages.HEAD_COLUMNS < len(pq.read_schema(path).names)
    assert ("could not be written" in caplog.text) is not wide
    assert not pages.heads_path(path).exists()
    assert [p.name for p in pages.index_folder(str(big.id)).glob(".tmp-*")] == []


def _full_disk(*_args: object, **_kwargs: object) -> None:
    raise OSError(28, "No space left on device")
