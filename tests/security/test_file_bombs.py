"""Files whose size on disk says nothing of their size in memory: each is imported in a child process
with a memory cap (RLIMIT_AS), so a regression fails the test instead of taking the machine down.

Every payload must end in a clear WorkbenchError and leave no dataset and no file behind. A fuzz test
mutates real files of every format with a fixed seed and checks that every failure is a WorkbenchError.
Run as a script (`python test_file_bombs.py <file> <name>` or `... --fuzz <folder>`), this file is the child;
each child is forked from a zygote that has imported the app once (tests/zygote.py), one child per file.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP = 1536 * 1024 * 1024  # the child may use 1.5 GB of address space; each bomb needs several GB unguarded
CHILD_ENV = {"MAX_UPLOAD_MB": "40", "IMPORT_MAX_MEMORY_MB": "64", "IMPORT_MAX_CELLS": "10000000",
             "IMPORT_MAX_JSON_DEPTH": "64"}


# ---------------------------------------------------------------- the child

def _child_import(path: Path, filename: str) -> dict:
    from core import datasets, storage
    from core.errors import WorkbenchError

    outcome: dict = {"error": None, "workbench": False, "message": ""}
    try:
        ds = datasets.ingest_file(path, filename=filename)
        outcome["rows"], outcome["columns"] = ds.rows, ds.columns
    except WorkbenchError as exc:
        outcome.update(error=type(exc).__name__, workbench=True, message=str(exc))
    except Exception as exc:  # reported to the parent, which fails the test
        outcome.update(error=type(exc).__name__, message=str(exc)[:500])
    outcome["datasets"] = datasets.count_datasets()
    outcome["files"] = sum(1 for area in ("datasets", "tmp") for p in storage.area(area).rglob("*") if p.is_file())
    return outcome


def _child_fuzz(folder: Path) -> dict:
    from core import readers
    from core.errors import WorkbenchError

    raw: list[str] = []
    tried = 0
    for path in sorted(folder.iterdir()):
        tried += 1
        try:
            readers.read(path, filename=path.name.split("-", 1)[1])
        except WorkbenchError:
            continue
        except Exception as exc:  # a raw error is what the fuzz test looks for
            raw.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:120]}")
    return {"tried": tried, "raw": raw}


FUZZ_CAP = 3 * 1024 * 1024 * 1024  # the fuzz child reads 540 small files through pyarrow (its pools reserve ~1.2 GB
# of address space) and DuckDB (delimited text; ~0.6 GB reserved at start): address space, not memory in use


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, **CHILD_ENV, "DATA_DIR": str(tmp_path / "child-data"), "DATABASE_URL": "",
            "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """Forks the children with what every child imports whatever its file (the readers load their own)."""
    folder = tmp_path_factory.mktemp("zygote")
    with Zygote(["pytest", "core.datasets", "core.storage", "core.errors", "core.readers"], env=_env(folder),
                cwd=folder) as started:
        yield started


def _run_child(args: list[str], tmp_path: Path, zygote: Zygote, cap_bytes: int = MEMORY_CAP) -> dict:
    done = zygote.run([__file__, *args], cwd=tmp_path, env=_env(tmp_path), cap_bytes=cap_bytes, timeout=240)
    assert done.returncode == 0, f"the child died (rc {done.returncode}): {done.stderr[-1500:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- payloads

def _xlsx(cells: dict[str, object]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for ref, value in cells.items():
        book.active[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(xlsx: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info.filename, change(data) if info.filename == part else data)
    return out.getvalue()


def xlsx_far_cell() -> bytes:
    """The issue's payload: 1.6 KB, one cell at XFD1048576 (declares 17 billion cells; 5.5 GB before)."""
    return _xlsx({"A1": "a", "XFD1048576": 1})


def xlsx_lying_dimension() -> bytes:
    """20,000 rows with a cell in the last column, declaring only A1: the real reading must be bounded."""
    import re

    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="XFD{r}"><v>1</v></c></row>' for r in range(1, 20001))

    def change(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', xml)
        return re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>", b"<sheetData>" + rows.encode() + b"</sheetData>",
                      xml, flags=re.S)

    return _rewrite(_xlsx({"A1": 1}), "xl/worksheets/sheet1.xml", change)


def xlsx_shared_strings() -> bytes:
    """A workbook whose shared strings inflate to 400 MB of text held in memory."""
    base = _xlsx({"A1": "a", "A2": "b"})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                                    compresslevel=1) as dst:
        for info in src.infolist():
            if info.filename != "xl/sharedStrings.xml":
                dst.writestr(info.filename, src.read(info.filename))
        with dst.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            for _ in range(400):
                fh.write(b"a" * (1 << 20))
            fh.write(b"</t></si><si><t>b</t></si></sst>")
    return out.getvalue()


def _xlsx_shared(rows: int, shared: bytes) -> bytes:
    """A minimal workbook whose `rows` cells A1.. all point at shared string 0 of the given table body."""
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    cells = "".join(f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(1, rows + 1))
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook {ns} xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
        "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        f'relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f"<worksheet {ns}><sheetData>{cells}</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, text in parts.items():
            dst.writestr(name, text)
        dst.writestr("xl/sharedStrings.xml", f"<sst {ns}>".encode() + shared + b"</sst>")
    return out.getvalue()


def xlsx_one_string_many_cells() -> bytes:
    """One 20 MB shared string referenced by 60 cells: 1.2 GB of text once the cells are read."""
    return _xlsx_shared(60, b"<si><t>" + b"a" * (20 << 20) + b"</t></si>")


def xlsx_many_tiny_strings() -> bytes:
    """Two million empty shared strings (a 26 MB part, 100 KB packed): a slow, fat string table."""
    return _xlsx_shared(1, b"<si><t/></si>" * 2_000_000)


def xlsx_style_records() -> bytes:
    """styles.xml with 300,000 cell formats (openpyxl keeps ~225 bytes of objects for each)."""
    def change(xml: bytes) -> bytes:
        start = xml.index(b"<cellXfs")
        end = xml.index(b"</cellXfs>") + len(b"</cellXfs>")
        return xml[:start] + b"<cellXfs>" + b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>' * 300_000 \
            + b"</cellXfs>" + xml[end:]

    return _rewrite(_xlsx({"A1": 1}), "xl/styles.xml", change)


def xlsx_many_sheets() -> bytes:
    """workbook.xml declaring 20,000 sheets (the attacker's 3 million took 2.7 GB)."""
    def change(xml: bytes) -> bytes:
        start = xml.index(b"<sheets>")
        end = xml.index(b"</sheets>") + len(b"</sheets>")
        sheets = b"".join(b'<sheet name="S%d" sheetId="%d" r:id="rId1"/>' % (i, i + 1) for i in range(20_000))
        return xml[:start] + b'<sheets xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">' + sheets + b"</sheets>" + xml[end:]

    return _rewrite(_xlsx({"A1": 1}), "xl/workbook.xml", change)


def json_long_integer() -> bytes:
    """A 5,000-digit integer (Python refuses to convert more than 4,300 digits)."""
    return b'[{"id": 1, "n": ' + b"9" * 5000 + b"}]"


def json_long_integer_deep_in_a_record() -> bytes:
    return b'{"rows": [{"a": {"b": [' + b"1" * 100_000 + b"]}}]}"


def jsonl_long_integer() -> bytes:
    return b'{"id": 1}\n{"id": ' + b"7" * 4301 + b"}\n"


def json_deep_array() -> bytes:
    return b"[" * 200_000 + b"]" * 200_000


def json_deep_objects() -> bytes:
    return b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def json_deep_records() -> bytes:
    return b'[{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}]"


def json_lines_deep() -> bytes:
    line = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    return b'{"a": 1}\n' + line + b"\n"


def json_distinct_keys() -> bytes:
    """25,000 records, each with its own key: 625 million cells once squared into a table."""
    return json.dumps([{f"k{i}": 1} for i in range(25_000)]).encode()


def json_sparse_square() -> bytes:
    """5,000 records x 5,000 keys = 25 million mostly empty cells, over the 10 million budget."""
    return json.dumps([{f"k{i}": i} for i in range(5_000)]).encode()


def jsonl_distinct_keys() -> bytes:
    return b"\n".join(json.dumps({f"k{i}": 1}).encode() for i in range(25_000))


def parquet_rle_zeros() -> bytes:
    """400 million zeros in 40 row groups: a few KB on disk, 3.2 GB once decoded."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    chunk = pa.table({"z": np.zeros(10_000_000, dtype="int64")})
    buffer = io.BytesIO()
    with pq.ParquetWriter(buffer, chunk.schema) as writer:
        for _ in range(40):
            writer.write_table(chunk)
    return buffer.getvalue()


def parquet_long_strings() -> bytes:
    """One 1 MB string repeated in 4,000 rows (dictionary-encoded: 1 MB on disk, 4 GB decoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = "x" * (1 << 20)
    table = pa.table({"s": pa.DictionaryArray.from_arrays(pa.array([0] * 4000, pa.int32()), pa.array([value]))})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", store_schema=False)  # read back as plain text
    return buffer.getvalue()


def feather_zstd_zeros() -> bytes:
    """40 batches of 10 million zeros, zstd-compressed: 3.2 GB once read."""
    import numpy as np
    import pyarrow as pa

    batch = pa.record_batch({"z": np.zeros(10_000_000, dtype="int64")})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, batch.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        for _ in range(40):
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def feather_one_batch() -> bytes:
    """One zstd batch of 50 million zeros (400 MB): refused from its header, before it is decompressed."""
    import numpy as np
    import pyarrow as pa

    batch = pa.record_batch({"z": np.zeros(50_000_000, dtype="int64")})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, batch.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def gz_far_cell_xlsx() -> bytes:
    return gzip.compress(xlsx_far_cell())


def zip_deep_json() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("deep.json", json_deep_array())
    return buffer.getvalue()


def csv_wide_header() -> bytes:
    """A first line of 60,000 fields (a column per field before any limit was checked)."""
    return ",".join(f"c{i}" for i in range(60_000)).encode() + b"\n" + b"," * 59_999 + b"\n"


def csv_one_giant_value() -> bytes:
    """One 30 MB value on one line (no line break for the parser to cut blocks at)."""
    return b"a\n" + b"x" * (30 << 20) + b"\n"


BOMBS = [
    (xlsx_far_cell, "far.xlsx", "declares 1,048,576 rows x 16,384 columns"),
    (xlsx_lying_dimension, "lying.xlsx", "holds more than 10,000,000 cells"),
    (xlsx_shared_strings, "strings.xlsx", "expands to"),
    (xlsx_one_string_many_cells, "one-string.xlsx", "holds more than 64 MB of text"),
    (xlsx_many_tiny_strings, "tiny-strings.xlsx", "shared strings taking more than 64 MB"),
    (xlsx_style_records, "styles.xlsx", "more than 200,000 style records"),
    (xlsx_many_sheets, "sheets.xlsx", "more than 10,000 sheets"),
    (json_deep_array, "deep.json", "more than 64 levels"),
    (json_long_integer, "long-int.json", "a number with more digits than can be read"),
    (json_long_integer_deep_in_a_record, "long-int-nested.json", "a number with more digits than can be read"),
    (jsonl_long_integer, "long-int.jsonl", "a number with more digits than can be read"),
    (json_deep_objects, "deep-objects.json", "more than 64 levels"),
    (json_deep_records, "deep-records.json", "more than 64 levels"),
    (json_lines_deep, "deep.jsonl", "more than 64 levels"),
    (json_distinct_keys, "keys.json", "more than 20,000 different fields"),
    (json_sparse_square, "square.json", "25,000,000 cells"),
    (jsonl_distinct_keys, "keys.jsonl", "more than 20,000 different fields"),
    (parquet_rle_zeros, "zeros.parquet", "MB of memory once read"),
    (parquet_long_strings, "strings.parquet", "MB of memory once read"),
    (feather_zstd_zeros, "zeros.feather", "MB of memory once read"),
    (feather_one_batch, "one-batch.arrow", "needs 381 MB of memory once read"),
    (gz_far_cell_xlsx, "far.xlsx.gz", "declares 1,048,576 rows"),
    (zip_deep_json, "deep.zip", "more than 64 levels"),
    (csv_wide_header, "wide.csv", "more than 20,000 columns"),
    (csv_one_giant_value, "giant.csv", "could not be read"),
]


@pytest.mark.parametrize(("make", "filename", "words"), BOMBS, ids=[b[1] for b in BOMBS])
def test_memory_bombs_are_refused_within_a_memory_cap(tmp_path: Path, make: Callable[[], bytes], filename: str,
                                                      words: str, zygote: Zygote) -> None:
    # Given a small file that would take gigabytes once read
    path = tmp_path / filename
    path.write_bytes(make())
    # When a child process capped at 1.5 GB imports it
    outcome = _run_child([str(path), filename], tmp_path, zygote)
    # Then it fails with a clear WorkbenchError (not MemoryError, RecursionError, ArrowInvalid) and leaves nothing
    assert outcome["workbench"], outcome
    assert words in outcome["message"], outcome["message"]
    assert outcome["datasets"] == 0 and outcome["files"] == 0


# ---------------------------------------------------------------- fuzzing

def _seeds() -> dict[str, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"city": ["Lyon", "Nantes", None, "Lille"], "n": [1, 2, 3, 4], "x": [0.5, None, 2.5, 3.5]})
    parquet, feather, feather_lz4 = io.BytesIO(), pa.BufferOutputStream(), pa.BufferOutputStream()
    pq.write_table(table, parquet)
    for sink, codec in ((feather, None), (feather_lz4, "lz4")):
        with pa.ipc.new_file(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression=codec)) as writer:
            writer.write_table(table)
    csv = b"city;n;x\nLyon;1;0,5\nNantes;2;\n;3;2,5\nLille;4;3,5\n"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.csv", csv)
    return {"csv": csv, "json": json.dumps(table.to_pylist()).encode(),
            "jsonl": b"\n".join(json.dumps(r).encode() for r in table.to_pylist()),
            "xlsx": _xlsx({"A1": "city", "B1": "n", "A2": "Lyon", "B2": 1, "A3": "Nantes", "B3": 2}),
            "parquet": parquet.getvalue(), "feather": feather.getvalue().to_pybytes(),
            "arrow": feather_lz4.getvalue().to_pybytes(), "gz": gzip.compress(csv), "zip": zipped.getvalue()}


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    kind = rng.choice(["flip", "flip", "truncate", "splice", "zero"])
    if kind == "truncate":
        return bytes(out[: rng.randrange(1, len(out))])
    if kind == "splice":
        start = rng.randrange(len(out))
        return bytes(out[:start] + out[rng.randrange(len(out)):] + out[start:])
    for _ in range(rng.randint(1, 12)):
        i = rng.randrange(len(out))
        out[i] = 0 if kind == "zero" else rng.randrange(256)
    return bytes(out)


def test_fuzzed_files_of_every_format_fail_only_with_workbench_errors(tmp_path: Path, zygote: Zygote) -> None:
    # Given 60 mutations (fixed seed) of each of nine small real files
    rng = random.Random(20261201)
    folder = tmp_path / "fuzz"
    folder.mkdir()
    for ext, data in _seeds().items():
        for i in range(60):
            (folder / f"{ext}{i:03d}-sample.{ext}").write_bytes(_mutate(data, rng))
    # When each is read in a child with capped address space
    outcome = _run_child(["--fuzz", str(folder)], tmp_path, zygote, FUZZ_CAP)
    # Then every one either reads or fails with a WorkbenchError (no raw ArrowInvalid, KeyError, zlib.error...)
    assert outcome["tried"] == 540
    assert outcome["raw"] == []


if __name__ == "__main__":  # the child: import one file, or read a fuzz folder, and print the outcome as JSON
    import logging

    logging.disable(logging.CRITICAL)
    if sys.argv[1] == "--fuzz":
        result = _child_fuzz(Path(sys.argv[2]))
    else:
        result = _child_import(Path(sys.argv[1]), sys.argv[2])
    print(json.dumps(result))
