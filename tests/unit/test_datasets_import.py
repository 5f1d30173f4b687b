"""File imports: every format, detection with overrides, and bad inputs that must fail cleanly."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from core import datasets, storage
from core.config import reload_settings
from core.errors import IngestError, TooLarge, UnsupportedFormat, WorkbenchError


def nothing_left() -> None:
    """No dataset row, no dataset folder, no temporary file."""
    assert datasets.count_datasets() == 0
    assert not any(storage.area("datasets").iterdir())
    assert not any(storage.area("tmp").iterdir())


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- good inputs

TEXT_CASES = [
    ("comma.csv", b"a,b,c\n1,2.5,x\n3,4.5,y\n", {"a": [1, 3], "b": [2.5, 4.5]}),
    ("semicolon_decimal_comma.csv", b"a;b;c\n1;2,5;x\n3;4,5;y\n", {"a": [1, 3], "b": [2.5, 4.5]}),
    ("tabs.tsv", b"a\tb\tc\n1\t2.5\tx\n3\t4.5\ty\n", {"a": [1, 3], "b": [2.5, 4.5]}),
    ("pipes.txt", b"a|b|c\n1|2.5|x\n3|4.5|y\n", {"a": [1, 3], "b": [2.5, 4.5]}),
    ("bom.csv", "\ufeffa,b,c\n1,2.5,é\n3,4.5,ü\n".encode(), {"a": [1, 3], "c": ["é", "ü"]}),
    ("utf16.csv", "a,b,c\n1,2.5,é\n3,4.5,ü\n".encode("utf-16"), {"a": [1, 3], "c": ["é", "ü"]}),
    ("latin1.csv", "a,b,c\n1,2.5,café\n3,4.5,naïve\n".encode("latin-1"), {"c": ["café", "naïve"]}),
    ("multiline.csv", b'a,b,c\n1,2.5,"line one\nline two"\n3,4.5,y\n', {"c": ["line one\nline two", "y"]}),
    ("quoted.csv", b'a,b,c\n1,2.5,"x, with comma"\n3,4.5,"y ""quoted"""\n', {"c": ["x, with comma", 'y "quoted"']}),
]


@pytest.mark.parametrize(("filename", "data", "expected"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_delimited_text_is_detected_and_read(tmp_path: Path, filename: str, data: bytes, expected: dict) -> None:
    # Given a delimited text file in some dialect and encoding
    path = write(tmp_path, filename, data)
    # When it is imported without options
    ds = datasets.ingest_file(path)
    # Then the values come back exactly, from a Parquet file, with a version-1 row
    frame = datasets.load_frame(ds.id)
    for column, values in expected.items():
        assert frame[column].tolist() == values
    assert datasets.dataset_path(ds.id).suffix == ".parquet"
    assert ds.rows == 2 and ds.version == 1


def test_detection_is_shown_and_can_be_overridden(tmp_path: Path) -> None:
    # Given a file whose first row looks like data, not a header
    path = write(tmp_path, "plain.csv", b"1;2\n3;4\n")
    found = datasets.detect_file(path)
    assert found.format == "csv" and found.csv.delimiter == ";" and found.csv.header is False
    # When the analyst overrides the delimiter with a wrong one, the data stays in one column
    one = datasets.ingest_file(path, name="one", delimiter=",", header=False)
    assert one.columns == 1
    # And with the header turned on, the first row names the columns
    named = datasets.ingest_file(path, name="named", delimiter=";", header=True)
    assert [c["name"] for c in named.schema_] == ["1", "2"]


def test_excel_sheet_choice(tmp_path: Path) -> None:
    # Given a workbook with two sheets
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"x": [1, 2]}).to_excel(writer, sheet_name="first", index=False)
        pd.DataFrame({"y": ["a", "b", "c"]}).to_excel(writer, sheet_name="second", index=False)
    assert datasets.detect_file(path).sheets == ["first", "second"]
    # When the second sheet is chosen
    ds = datasets.ingest_file(path, sheet="second")
    # Then its rows are imported and the note names the sheet
    assert datasets.load_frame(ds.id)["y"].tolist() == ["a", "b", "c"]
    assert any("second" in n for n in ds.notes)


def test_password_protected_xlsx_needs_the_password(tmp_path: Path) -> None:
    import msoffcrypto.format.ooxml  # the package does not import its format modules itself

    # Given a password-protected workbook
    plain = tmp_path / "plain.xlsx"
    pd.DataFrame({"v": [1, 2, 3]}).to_excel(plain, index=False)
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, locked.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt("s3cret", out)
    # When it is imported without a password, the message says so and nothing is stored
    with pytest.raises(IngestError, match="password"):
        datasets.ingest_file(locked)
    with pytest.raises(IngestError, match="wrong"):
        datasets.ingest_file(locked, password="nope")
    nothing_left()
    # And with the password it is read
    ds = datasets.ingest_file(locked, password="s3cret")
    assert datasets.load_frame(ds.id)["v"].tolist() == [1, 2, 3]


JSON_CASES = [
    ("records.json", json.dumps([{"a": 1, "n": {"x": 1}}, {"a": 2, "n": {"x": 2}}]), ["a", "n.x"]),
    ("columns.json", json.dumps({"a": [1, 2], "b": ["x", "y"]}), ["a", "b"]),
    ("wrapped.json", json.dumps({"meta": 1, "data": [{"a": 1}, {"a": 2}]}), ["a"]),
    ("lines.jsonl", '{"a": 1, "n": {"x": 1}}\n{"a": 2, "n": {"x": 2}}\n', ["a", "n.x"]),
]


@pytest.mark.parametrize(("filename", "text", "columns"), JSON_CASES, ids=[c[0] for c in JSON_CASES])
def test_json_shapes_are_flattened(tmp_path: Path, filename: str, text: str, columns: list[str]) -> None:
    ds = datasets.ingest_file(write(tmp_path, filename, text.encode()))
    assert [c["name"] for c in ds.schema_] == columns
    assert ds.rows == 2


def test_parquet_feather_gzip_and_zip(tmp_path: Path) -> None:
    table = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    pq.write_table(table, tmp_path / "t.parquet")
    feather.write_feather(table, tmp_path / "t.feather")
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress(b"a,b\n1,x\n2,y\n3,z\n"))
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as zf:
        zf.writestr("inner/data.csv", "a,b\n1,x\n2,y\n3,z\n")
    for name in ("t.parquet", "t.feather", "t.csv.gz", "t.zip"):
        ds = datasets.ingest_file(tmp_path / name, name=name.replace(".", "_"))
        assert datasets.load_frame(ds.id)["a"].tolist() == [1, 2, 3], name
    assert not any(storage.area("tmp").iterdir())


def test_wrong_extension_is_read_by_content(tmp_path: Path) -> None:
    # Given Parquet bytes in a file named .csv
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "real.parquet")
    path = write(tmp_path, "looks.csv", (tmp_path / "real.parquet").read_bytes())
    # When imported, the content decides and a note says so
    ds = datasets.ingest_file(path)
    assert ds.format == "parquet" and datasets.load_frame(ds.id)["a"].tolist() == [1, 2]


def test_repaired_names_and_empty_column_are_noted(tmp_path: Path) -> None:
    ds = datasets.ingest_file(write(tmp_path, "names.csv", b"a,a,,b\n1,2,3,\n4,5,6,\n"))
    assert [c["name"] for c in ds.schema_] == ["a", "a_2", "column_3", "b"]
    assert any("no name" in n for n in ds.notes) and any("unique" in n for n in ds.notes)
    assert any("empty in every row" in n for n in ds.notes)
    assert datasets.load_frame(ds.id)["b"].isna().all()


def test_five_thousand_columns(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(5000))
    row = ",".join(str(i) for i in range(5000))
    ds = datasets.ingest_file(write(tmp_path, "wide.csv", f"{header}\n{row}\n{row}\n".encode()))
    assert ds.columns == 5000 and ds.rows == 2
    assert datasets.preview(ds.id, limit=1, columns=["c4999"])["c4999"].tolist() == [4999]


def test_ragged_rows_are_kept_in_added_columns_or_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "ragged.csv", b"a,b\n1,2\n3,4,5\n6,7\n")
    kept = datasets.ingest_file(path)
    assert (kept.rows, kept.columns) == (3, 3) and any("line 3 has 3 fields but the header has 2" in n
                                                      for n in kept.notes)
    assert datasets.load_frame(kept.id)["column_3"].tolist()[1] == "5"  # added columns hold text
    ds = datasets.ingest_file(path, name="ragged_skipped", skip_bad_rows=True)
    assert ds.rows == 2 and any("skipped" in n for n in ds.notes)


def _latin1_ragged(tmp_path: Path) -> Path:
    rows = ["id;name;city"] + [f"{i};Andr\xe9;Z\xfcrich" for i in range(1, 20)]
    rows[10] = "10;Ren\xe9e;Gen\xe8ve;extra;fields"  # line 11: a ragged row with Latin-1 bytes in it
    return write(tmp_path, "messy.csv", "\n".join(rows).encode("latin-1"))


UI_OPTIONS = {"delimiter": ";", "header": True, "quotechar": '"', "decimal": "."}  # what the page always sends


def test_skip_bad_rows_holds_when_utf8_is_forced_on_a_latin1_file(tmp_path: Path) -> None:
    # Given a Latin-1 file with a ragged row, and the analyst forcing utf-8 with 'Skip bad rows' ticked
    path = _latin1_ragged(tmp_path)
    # When it is imported
    ds = datasets.ingest_file(path, encoding="utf-8", skip_bad_rows=True, **UI_OPTIONS)
    # Then the bad row is skipped (not "Expected 3 columns, got 5"), the text is decoded, and the notes say so
    frame = datasets.load_frame(ds.id)
    assert ds.rows == 18 and frame["city"].iloc[0] == "Z\xfcrich"
    assert any("Windows-1252" in n for n in ds.notes)
    assert "1 row(s) with the wrong number of fields were skipped (first: line 11)." in ds.notes


def test_a_ragged_row_is_named_by_its_line_when_not_skipped(tmp_path: Path) -> None:
    ds = datasets.ingest_file(_latin1_ragged(tmp_path), encoding="utf-8", skip_bad_rows=False, **UI_OPTIONS)
    assert (ds.rows, ds.columns) == (19, 5)
    assert any("line 11 has 5 fields but the header has 3" in n and "column_4 on" in n for n in ds.notes), ds.notes
    assert datasets.load_frame(ds.id)["column_5"].dropna().tolist() == ["fields"]


def test_skip_note_gives_the_row_number_when_values_span_lines(tmp_path: Path) -> None:
    # Given a file read in multi-line mode (a quoted value with a line break), where pyarrow has no row numbers
    data = b'a,b\n1,"two\nlines"\n3,4\n5,6,7\n8,9\n'
    ds = datasets.ingest_file(write(tmp_path, "multi.csv", data), skip_bad_rows=True)
    # Then the note names the real (physical) line of the skipped row
    assert ds.rows == 3
    assert "1 row(s) with the wrong number of fields were skipped (first: line 5)." in ds.notes


# ---------------------------------------------------------------- bad inputs

def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.csv", b"a\n" + b"0" * (12 * 1024 * 1024))
    return buffer.getvalue()


def _many_files_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("one.csv", "a\n1\n")
        zf.writestr("two.csv", "a\n2\n")
    return buffer.getvalue()


BAD = [
    ("empty.csv", b"", IngestError, "empty"),
    ("blank.csv", b"\n\n   \n", IngestError, "blank"),
    ("header_only.csv", b"a,b,c\n", IngestError, "no data rows"),
    ("junk.csv", bytes(range(256)) * 40, UnsupportedFormat, "binary"),
    ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(2000), UnsupportedFormat, "binary"),
    ("page.csv", b"<!DOCTYPE html><html><body>Not data</body></html>", UnsupportedFormat, "web page"),
    ("ragged.csv", b"a,b\n1,2\n" + b",".join([b"x"] * 20_001) + b"\n4,5\n", IngestError, "line 3 has 20,001 fields"),
    ("scalars.json", b"[1, 2, 3]", IngestError, "not a table"),
    ("object.json", b'{"name": "x", "nested": {"a": 1}}', IngestError, "not tabular"),
    ("broken.json", b'[{"a": 1}, {"a": ', IngestError, "not valid JSON"),
    ("broken.parquet", b"PAR1" + bytes(100), IngestError, "damaged"),
    ("bomb.zip", _zip_bomb(), TooLarge, "zip bomb"),
    ("many.zip", _many_files_zip(), IngestError, "contains 2 files"),
    ("broken.gz", b"\x1f\x8b" + bytes(50), IngestError, "gzip"),
    ("broken.xlsx", b"PK\x03\x04" + bytes(200), IngestError, "zip"),
]


@pytest.mark.parametrize(("filename", "data", "error", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_fail_with_a_message_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filename: str, data: bytes, error: type, words: str
) -> None:
    # Given a small upload limit (so the zip bomb's 12 MB is over 5 x 2 MB)
    monkeypatch.setenv("MAX_UPLOAD_MB", "2")
    reload_settings()
    # When the bad file is uploaded
    with pytest.raises(error) as caught:
        datasets.ingest_upload(data, filename)
    # Then the message names the problem, a hint says what to do, and nothing is half-written
    assert words.lower() in caught.value.message.lower()
    assert caught.value.hint
    nothing_left()


def test_upload_over_the_limit_and_bad_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    reload_settings()
    with pytest.raises(TooLarge, match="over the 1 MB limit"):
        datasets.ingest_upload(b"a\n" + b"1\n" * 600_000, "big.csv")
    for bad in ("../escape.csv", "a/../../b.csv"):
        with pytest.raises(WorkbenchError):
            datasets.ingest_upload(b"a\n1\n", bad)
    nothing_left()


def test_duplicate_dataset_name_is_refused(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    with pytest.raises(WorkbenchError, match="already exists"):
        datasets.ingest_file(csv_file, name="sales")
    assert datasets.count_datasets() == 1


def test_a_dense_json_over_the_cell_budget_still_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a cell budget smaller than a dense JSON file (every record has the same keys)
    monkeypatch.setenv("IMPORT_MAX_CELLS", "1000")
    reload_settings()
    path = write(tmp_path, "dense.json", json.dumps([{"a": i, "b": {"c": i}} for i in range(2000)]).encode())
    # Then it imports (its memory follows its size), while records that each bring new keys are refused
    assert datasets.ingest_file(path).rows == 2000
    sparse = write(tmp_path, "sparse.json", json.dumps([{f"k{i}": i} for i in range(100)]).encode())
    with pytest.raises(TooLarge, match="100 rows x 100 columns"):
        datasets.ingest_file(sparse)


def test_a_workbook_inside_gzip_is_read(tmp_path: Path) -> None:
    # Given an .xlsx compressed as .xlsx.gz (its extracted copy has no Excel extension)
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["city", "n"])
    book.active.append(["Lyon", 1])
    buffer = io.BytesIO()
    book.save(buffer)
    # Then it is read like the workbook itself
    ds = datasets.ingest_file(write(tmp_path, "cities.xlsx.gz", gzip.compress(buffer.getvalue())))
    assert datasets.load_frame(ds.id)["city"].tolist() == ["Lyon"]


def test_a_sheet_with_a_far_cell_and_a_false_dimension_reads_only_its_cells(tmp_path: Path) -> None:
    # Given a sheet with cells at A1:B2 and one at XFD50, that declares only A1
    import re

    from openpyxl import Workbook

    book = Workbook()
    for ref, value in {"A1": "x", "B1": "y", "A2": 1, "B2": 2, "XFD50": 3}.items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
            dst.writestr(info.filename, data)
    # Then only the columns holding values become columns (no 16,384-wide grid)
    ds = datasets.ingest_file(write(tmp_path, "far.xlsx", out.getvalue()))
    assert ds.columns == 3 and ds.rows == 2


# ---------------------------------------------------------------- structure

LAYERS = {
    "core.datasets": ["store", "images", "views", "pages", "versions", "frames", "download", "importers", "export"],
    "core.readers": ["charsets", "sniff", "tables", "archives", "dialect", "csvfile", "excel", "jsonfile", "columnar"],
}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions ('from pkg import sub' counts as pkg.sub)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_the_datasets_family_imports_one_way(package: str) -> None:
    # Given the package's modules, lowest first
    order = LAYERS[package]
    folder = Path(__file__).resolve().parents[2] / package.replace(".", "/")
    assert sorted([*order, "__init__"]) == sorted(p.stem for p in folder.glob("*.py"))
    offenders = []
    for i, name in enumerate(order):
        imported = _imports(folder / f"{name}.py")
        # Then each imports only modules below it, never its package's facade, connections or a higher family
        siblings = {m.removeprefix(f"{package}.").split(".")[0] for m in imported if m.startswith(f"{package}.")}
        higher = sorted(s for s in siblings if s not in order[:i])  # a name of the facade counts as higher too
        upward = sorted(m for m in imported if m.startswith(("core.connections", "core.importers", "core.export",
                                                             "core.versions"))
                        or (package == "core.readers" and m.startswith("core.datasets")))
        if higher or upward:
            offenders.append((name, higher, upward))
    assert offenders == []
