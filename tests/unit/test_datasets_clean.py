"""Cleaning steps, versions (history, diff, rollback), previews and exports."""

from __future__ import annotations

import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest

from core import cleaning, datasets, storage
from core.datasets import export, versions
from core.errors import InvalidInput, NotFound
from core.models import Dataset


@pytest.fixture
def people(tmp_path: Path) -> Dataset:
    path = tmp_path / "people.csv"
    path.write_text("name,age,city,score\nAda,36,Paris,1.5\nBob,,Lyon,\nCy,52,Paris,3.5\nDee,41,,2.0\n"
                    "Ada,36,Paris,1.5\n")
    return datasets.ingest_file(path, name="people")


def frame(ds: Dataset) -> pd.DataFrame:
    return datasets.load_frame(ds.id)


STEPS = [
    ({"op": "drop", "columns": ["score"]}, lambda f: list(f.columns) == ["name", "age", "city"]),
    ({"op": "rename", "mapping": {"city": "town"}}, lambda f: "town" in f.columns and "city" not in f.columns),
    ({"op": "cast", "column": "age", "to": "text"}, lambda f: f["age"].dropna().tolist()[0] == "36"),
    ({"op": "fill", "column": "age", "method": "value", "value": "0"}, lambda f: f["age"].tolist()[1] == 0),
    ({"op": "fill", "column": "age", "method": "mean"}, lambda f: f["age"].tolist()[1] == 41),
    ({"op": "fill", "column": "age", "method": "median"}, lambda f: f["age"].tolist()[1] == 39),
    ({"op": "fill", "column": "city", "method": "mode"}, lambda f: f["city"].tolist()[3] == "Paris"),
    ({"op": "fill", "column": "age", "method": "ffill"}, lambda f: f["age"].tolist()[:3] == [36, 36, 52]),
    ({"op": "fill", "column": "age", "method": "bfill"}, lambda f: f["age"].tolist()[:3] == [36, 52, 52]),
    ({"op": "drop_missing"}, lambda f: len(f) == 3),
    ({"op": "drop_missing", "columns": ["city"]}, lambda f: len(f) == 4),
    ({"op": "filter", "expression": "age >= 40 AND city = 'Paris'"}, lambda f: f["name"].tolist() == ["Cy"]),
    ({"op": "dedupe"}, lambda f: len(f) == 4 and f["name"].tolist() == ["Ada", "Bob", "Cy", "Dee"]),
    ({"op": "dedupe", "columns": ["city"]}, lambda f: len(f) == 3),
    ({"op": "derive", "name": "age2", "expression": "age * 2 + 1"}, lambda f: f["age2"].tolist()[0] == 73),
    ({"op": "derive", "name": "label", "expression": "upper(name) || '-' || coalesce(city, '?')"},
     lambda f: f["label"].tolist()[3] == "DEE-?"),
    ({"op": "one_hot", "column": "city"}, lambda f: {"city_Paris", "city_Lyon"} <= set(f.columns)
     and f["city_Paris"].tolist() == [1, 0, 1, 0, 1]),
    ({"op": "bin", "column": "age", "bins": 2}, lambda f: f["age_bin"].tolist()[0] == "[36, 44)"),
    ({"op": "bin", "column": "score", "bins": 2, "method": "quantile"}, lambda f: f["score_bin"].notna().sum() == 4),
]


@pytest.mark.parametrize(("step", "check"), STEPS, ids=[f"{s['op']}-{i}" for i, (s, _) in enumerate(STEPS)])
def test_each_step_makes_a_new_version(people: Dataset, step: dict, check) -> None:
    # When a step is applied
    new = cleaning.apply_step(people.id, step)
    # Then the dataset moves to version 2, the data shows the step, and version 1 is untouched
    assert new.version == 2
    assert check(frame(new))
    assert datasets.dataset_path(people.id).name == "v2.parquet"
    assert versions.history(people.id)[1].step["op"] == step["op"]
    assert len(datasets.load_frame(people.id).columns) == new.columns
    assert datasets.preview(people.id, version=1).shape == (5, 4)


BAD_STEPS = [
    ({"op": "explode"}, "not valid"),
    ({"op": "drop", "columns": ["nope"]}, "Unknown column"),
    ({"op": "drop", "columns": ["name", "age", "city", "score"]}, "keep at least one"),
    ({"op": "rename", "mapping": {"name": "age"}}, "unique"),
    ({"op": "cast", "column": "city", "to": "integer"}, "cannot become integer"),
    ({"op": "fill", "column": "city", "method": "mean"}, "not numeric"),
    ({"op": "fill", "column": "age", "method": "value", "value": "abc"}, "does not fit"),
    ({"op": "filter", "expression": "age > 1000"}, "remove every row"),
    ({"op": "filter", "expression": "age > (SELECT 1)"}, "not allowed"),
    ({"op": "derive", "name": "x", "expression": "read_csv('/etc/passwd')"}, "not allowed"),
    ({"op": "derive", "name": "x", "expression": "getenv('HOME')"}, "not allowed"),
    ({"op": "derive", "name": "x", "expression": "avg(age)"}, "not allowed"),
    ({"op": "derive", "name": "x", "expression": "age; DROP TABLE x"}, "';'"),
    ({"op": "derive", "name": "x", "expression": "salary * 2"}, "unknown column"),
    ({"op": "derive", "name": "x", "expression": "age +"}, "not valid"),
    ({"op": "derive", "name": "x", "expression": "name * 2"}, "fails"),
    ({"op": "bin", "column": "name"}, "not numeric"),
]


@pytest.mark.parametrize(("step", "words"), BAD_STEPS, ids=[f"{s['op']}-{i}" for i, (s, _) in enumerate(BAD_STEPS)])
def test_bad_steps_are_refused_without_a_new_version(people: Dataset, step: dict, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        cleaning.apply_step(people.id, step)
    assert words.lower() in str(caught.value).lower()
    assert datasets.get_dataset(people.id).version == 1
    assert len(versions.history(people.id)) == 1
    assert sorted(p.name for p in storage.dataset_dir(people.id).glob("*.parquet")) == ["v1.parquet"]


def test_diff_of_a_wide_dataset_goes_a_chunk_of_columns_at_a_time(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 40 columns and a version that empties some cells of the last one
    wide = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(40))
    rows = [",".join(str(r * i) for i in range(40)) for r in range(6)]
    wide.write_text(header + "\n" + "\n".join(rows) + "\n")
    ds = datasets.ingest_file(wide, name="wide")
    cleaning.apply_step(ds.id, {"op": "filter", "expression": "c1 > 0"})
    whole = versions.diff(ds.id, 1, 2)
    # When the statistics are computed 7 columns per query (the page never sends thousands in one)
    monkeypatch.setattr(versions, "STATS_CHUNK", 7)
    chunked = versions.diff(ds.id, 1, 2)
    # Then every column is compared, and the result is the same as in one query
    assert chunked.model_dump() == whole.model_dump()
    assert (whole.rows_a, whole.rows_b) == (6, 5) and {c.column for c in whole.changes} >= {"c1", "c39"}


def test_history_diff_and_rollback(backend: str, people: Dataset) -> None:
    # Given two steps
    cleaning.apply_step(people.id, {"op": "dedupe"})
    v3 = cleaning.apply_step(people.id, {"op": "derive", "name": "older", "expression": "age + 10"})
    # Then the history lists the import and both steps
    assert [v.version for v in versions.history(people.id)] == [1, 2, 3]
    # And the diff of 1 and 3 names the added column, the rows and the changed statistics
    d = versions.diff(people.id, 1, 3)
    assert d.added == ["older"] and d.removed == [] and (d.rows_a, d.rows_b) == (5, 4)
    assert any((c.column == "name" and c.stat == "missing") or c.column == "age" for c in d.changes)
    # When rolled back to version 1
    back = versions.rollback(people.id, 1)
    assert back.version == 1 and back.rows == 5 and datasets.dataset_path(people.id).name == "v1.parquet"
    # Then the next step branches from version 1 as version 4
    v4 = cleaning.apply_step(people.id, {"op": "drop", "columns": ["score"]})
    assert v4.version == 4 and versions.get_version(people.id, 4).parent == 1
    assert v3.version == 3
    with pytest.raises(NotFound):
        versions.rollback(people.id, 99)


def test_preview_step_saves_nothing(people: Dataset) -> None:
    out = cleaning.preview_step(people.id, {"op": "filter", "expression": "city = 'Paris'"})
    assert len(out) == 3
    assert datasets.get_dataset(people.id).version == 1


def test_delete_removes_rows_versions_and_files(people: Dataset) -> None:
    cleaning.apply_step(people.id, {"op": "dedupe"})
    folder = storage.dataset_dir(people.id)
    assert len(list(folder.glob("*.parquet"))) == 2
    datasets.delete_dataset(people.id)
    assert not folder.exists()
    assert datasets.count_datasets() == 0
    with pytest.raises(NotFound):
        versions.history(people.id)


def test_server_side_preview_pages_sorts_and_filters(people: Dataset) -> None:
    page = datasets.preview(people.id, offset=1, limit=2, sort_by="age", descending=True)
    assert page["age"].tolist() == [41, 36]
    assert datasets.count_rows(people.id, where="city = 'Paris'") == 3
    assert datasets.preview(people.id, where="score > 2")["name"].tolist() == ["Cy"]
    with pytest.raises(InvalidInput):
        datasets.preview(people.id, sort_by="nope")
    with pytest.raises(InvalidInput):
        datasets.preview(people.id, where="read_text('/etc/passwd') IS NOT NULL")


# ---------------------------------------------------------------- export

@pytest.fixture
def risky(tmp_path: Path) -> Dataset:
    path = tmp_path / "risky.csv"
    path.write_text('label,amount,note\n=1+1,-5,-12.5\n@SUM(A1),3,+a\n"+cmd|calc",-1.5,ok\nplain,0,-x\n')
    return datasets.ingest_file(path, name="risky")


def test_csv_export_neutralises_formulas_but_not_numbers(risky: Dataset) -> None:
    out = export.export(risky.id, "csv")
    text = out.data.decode()
    assert out.filename == "risky-v1.csv" and out.rows == 4
    rows = pd.read_csv(io.StringIO(text), dtype=str)
    assert rows["label"].tolist() == ["'=1+1", "'@SUM(A1)", "'+cmd|calc", "plain"]
    assert rows["amount"].tolist() == ["-5.0", "3.0", "-1.5", "0.0"]
    assert rows["note"].tolist() == ["-12.5", "'+a", "ok", "'-x"]


def test_excel_export_writes_formulas_as_text(risky: Dataset) -> None:
    out = export.export(risky.id, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(out.data)).active
    labels = [(c.value, c.data_type) for c in sheet["A"][1:]]
    assert labels[0] == ("=1+1", "s") and all(t == "s" for _, t in labels)
    assert [c.value for c in sheet["B"][1:]] == [-5, 3, -1.5, 0]


def test_json_and_parquet_exports_of_a_filtered_version(risky: Dataset) -> None:
    cleaning.apply_step(risky.id, {"op": "derive", "name": "double", "expression": "amount * 2"})
    records = json.loads(export.export(risky.id, "json", where="amount < 0", columns=["label", "double"]).data)
    assert records == [{"label": "=1+1", "double": -10.0}, {"label": "+cmd|calc", "double": -3.0}]
    old = export.export(risky.id, "parquet", version=1)
    assert pq.read_table(io.BytesIO(old.data)).column_names == ["label", "amount", "note"]
    assert old.filename == "risky-v1.parquet"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"fmt": "pdf"}, "Unknown export format"),
    ({"fmt": "csv", "where": "amount >"}, "not valid"),
    ({"fmt": "csv", "columns": ["ghost"]}, "Unknown column"),
    ({"fmt": "csv", "version": 7}, "no version 7"),
])
def test_bad_exports_are_refused(risky: Dataset, kwargs: dict, words: str) -> None:
    with pytest.raises((InvalidInput, NotFound), match=words):
        export.export(risky.id, **kwargs)
    assert not any(storage.area("tmp").iterdir())
