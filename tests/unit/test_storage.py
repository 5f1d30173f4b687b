"""Storage: names cannot escape DATA_DIR; writes are atomic."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import storage
from core.errors import InvalidInput


@pytest.mark.parametrize("name", ["sales", "sales 2024", "q3-report.v2", "été_ventes", "a(1)"])
def test_good_names_pass(name: str) -> None:
    assert storage.check_name(name) == name


@pytest.mark.parametrize("name", ["", "   ", "../evil", "a/b", "a\\b", "..", "x\x00y", "<script>", "a" * 201])
def test_bad_names_are_refused_with_a_hint(name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        storage.check_name(name, what="dataset name")
    assert "dataset name" in err.value.message
    assert err.value.hint


def test_paths_outside_data_dir_are_refused(workbench: Path) -> None:
    with pytest.raises(InvalidInput, match="outside the data folder"):
        storage.absolute("../../etc/passwd")
    assert storage.absolute("datasets/x.parquet") == (workbench / "datasets" / "x.parquet").resolve()


def test_atomic_path_leaves_nothing_on_error(workbench: Path) -> None:
    target = storage.area("datasets") / "t.parquet"
    with pytest.raises(RuntimeError), storage.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_path_renames_into_place(workbench: Path) -> None:
    target = storage.area("models") / "m.bin"
    with storage.atomic_path(target) as tmp:
        tmp.write_bytes(b"ok")
    assert target.read_bytes() == b"ok"
    assert [p.name for p in target.parent.iterdir()] == ["m.bin"]
