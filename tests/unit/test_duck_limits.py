"""DuckDB's limit errors become messages that name the limit that was hit and the setting that raises it."""

from __future__ import annotations

import pytest

from core import duck
from core.config import reload_settings
from core.errors import InvalidSql


def test_a_full_spill_folder_names_the_temporary_disk_limit_not_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "60MB")
    monkeypatch.setenv("DUCKDB_MAX_TEMP_SIZE", "20MB")
    monkeypatch.setenv("DUCKDB_THREADS", "1")
    reload_settings()
    con = duck.connect()
    with pytest.raises(InvalidSql) as caught, duck.explained("Sorting the dataset"):
        con.execute("SELECT random() AS r, repeat('x', 20) AS s FROM range(5000000) ORDER BY r").fetchall()
    assert "temporary disk" in caught.value.message and "20MB" in caught.value.message
    assert "DUCKDB_MAX_TEMP_SIZE" in caught.value.hint and "memory" not in caught.value.message


def test_running_out_of_memory_still_names_the_memory_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "30MB")
    reload_settings()
    con = duck.connect(temp_directory="")  # nowhere to spill
    with pytest.raises(InvalidSql, match="more memory than the limit \\(30MB\\)"), duck.explained():
        con.execute("SELECT list(repeat('x', 100)) FROM range(2000000)").fetchall()
