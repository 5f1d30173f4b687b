"""Hostile SQL, filters and derived columns over the datasets (DuckDB).

Memory bombs run in a child process whose address space is capped (RLIMIT_AS), so a regression fails
the test instead of taking the machine down: each must fail quickly with a clear InvalidSql /
InvalidInput naming the limit, and the same process must then still answer a normal query. Each payload
gets a process of its own, forked from a zygote that has imported the app once (tests/zygote.py). The
other payloads (catalog views behind a CTE, paths in errors, credentials in the history) run in process.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import datasets, sql, storage
from core.errors import ConnectionFailed, InvalidSql
from tests.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]
CAP_BYTES = 4 << 30  # the bombs need 16 GB and more; the app with DuckDB needs well under this

CHILD = r"""
import json, resource, sys, time
cap = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from core import cleaning, datasets, sql
from core.errors import WorkbenchError
mode, payload = sys.argv[1], sys.argv[2]
import pyarrow as pa
ds = datasets.store_table(pa.table({"g": ["ab"] * 3000, "n": list(range(3000)), "long": ["x" * 1000] * 3000}),
                          name="t", source="test")
started = time.monotonic()
out = {"error": None}
try:
    if mode == "sql":
        sql.query(payload)
    elif mode == "filter":
        datasets.preview(ds.id, where=payload)
    elif mode == "derive":
        cleaning.apply_step(ds.id, {"op": "derive", "name": "z", "expression": payload})
    else:
        cleaning.apply_step(ds.id, {"op": "filter", "expression": payload})
except WorkbenchError as exc:
    out = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
out["seconds"] = time.monotonic() - started
out["after"] = int(sql.query("SELECT count(*) AS n FROM t")["n"][0])
out["peak_mb"] = int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))) / 1024  # VmHWM: this image's own peak (ru_maxrss survives exec)
print("RESULT " + json.dumps(out))
"""

SQL_BOMBS = [
    "SELECT list_sum(range(2000000000)) AS s",
    "SELECT length(repeat('x', 1000000000)) AS n",
    "SELECT count(*) FROM t WHERE length(repeat(g, 100000000)) > 0",
    "SELECT repeat('x', 1e9)",
    # variants
    "SELECT list_sum(generate_series(1, 2000000000)) AS s",
    "SELECT list_sum(range(0, 4000000000, 2)) AS s",
    "SELECT length(repeat(repeat('x', 1000), 1000000)) AS n",
    "SELECT length(repeat(g, n * 1000000)) FROM t",
    "SELECT list_sum(range(n * 1000000)) FROM t",
    "SELECT length(lpad('x', 1000000000, 'y')) AS n",
    "SELECT length(rpad(g, 2000000000, 'y')) FROM t",
    "SELECT length(printf('%1000000000d', 1)) AS n",
    "SELECT length(format('{:>1000000000}', 1)) AS n",
    "SELECT len(list_resize([1], 1000000000)) AS n",
    "SELECT length(bar(1, 0, 1, 1000000000)) AS n",
    "SELECT len(repeat([1, 2, 3], 1000000000)) AS n",
    "SELECT count(*) FROM (SELECT unnest(range(1000000000)))",
    "SELECT max(length(repeat(long, 10000))) FROM t",
    "SELECT max(length(lpad(long, 1000000, 'x'))) FROM t",
    "SELECT len(list_transform(range(1000), x -> repeat('a', 100000))) AS n",
    "SELECT max(len(list_transform(range(100000), x -> range(100000)))) FROM t",
    # widths taken from an argument
    "SELECT length(printf('%*d', 1000000000, 1)) AS n",
    "SELECT length(format('{:>{}}', 'x', 1000000000)) AS n",
    "SELECT length(printf('%.*f', 1000000000, 1.5)) AS n",
    "SELECT length(printf('%-*s', 1000000000, g)) FROM t",
    "SELECT length(format('{:>{w}}', 'x', w := 1000000000)) AS n",
    "SELECT length(format('{0:>{1}}', 'x', 1000000000)) AS n",
]
# unchecked SQL carried by a table function, and table functions that build rows
CARRIED_BOMBS = [
    "SELECT j.* FROM (SELECT 1) s, LATERAL json_execute_serialized_sql(json_serialize_sql("
    "'SELECT list_sum(range(2000000000)) AS s')) j",
    "SELECT count(*) FROM (SELECT 1) s, LATERAL repeat_row(1, num_rows => 1000000000) j",
    "SELECT count(*) FROM t, LATERAL repeat_row(1, num_rows => 1000000000) j",
    "SELECT json_execute_serialized_sql(json_serialize_sql('SELECT repeat(''x'', 1000000000)')) AS j",
]
# not bounded statically: DuckDB's memory limit or the time limit must stop these
RUNTIME_BOMBS = [
    "SELECT length(string_agg(repeat(a.long, 5), ',')) FROM t a, t b",
    "WITH RECURSIVE r(s, k) AS (SELECT 'x', 0 UNION ALL SELECT s || s, k + 1 FROM r WHERE k < 40) "
    "SELECT max(length(s)) FROM r",
    "SELECT count(*) FROM t a, t b, t c, t d",
]
# results too large to fetch: stopped while fetched (SQL_MAX_RESULT_MB); DuckDB builds 2,048 rows at a time
RESULT_BOMBS = [
    "SELECT repeat('x', 999999) AS s FROM t",
    "SELECT repeat('x', 999999) AS s, n FROM t ORDER BY n",
    "SELECT repeat('x', 500000) AS a, repeat('y', 500000) AS b FROM t",
    "SELECT list_resize([1], 999999) AS l FROM t",
    "SELECT repeat('ab', 400000) AS s FROM t a, t b",
]
RESULT_PEAK_MB = 3000
PEAK_MB = 1500  # the child's largest resident size: the bombs would need 16 GB and more
EXPRESSION_BOMBS = [
    ("filter", "length(repeat(g, 100000000)) > 0"),
    ("filter", "repeat('x', 1e9) = 'x'"),
    ("filter", "length(lpad(g, 1000000000, 'x')) > 0"),
    ("filter", "length(repeat(g, n)) > 0"),
    ("filter", "length(repeat(long, 10000)) > 0"),
    ("filter", "length(rpad(long, 100000, 'x')) > 0"),
    ("derive", "repeat('x', 1e9)"),
    ("derive", "printf('%1000000000d', n)"),
    ("clean-filter", "length(repeat(g, 100000000)) > 0"),
    ("clean-filter", "length(printf('%*d', 100000000, n)) > 0"),
    ("filter", "length(printf('%*d', 100000000, n)) > 0"),
    ("filter", "length(printf('%-*s', 100000000, g)) > 0"),
    ("derive", "printf('%*s', 100000000, g)"),
    ("derive", "printf('%.*s', 100000000, long)"),
]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "", "REDIS_URL": "",
            "DUCKDB_MEMORY_LIMIT": "500MB", "DUCKDB_THREADS": "2", "SQL_TIMEOUT_S": "10", "MALLOC_ARENA_MAX": "2",
            "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """Forks the children: CHILD's imports are done once (a fresh interpreter takes seconds for them)."""
    folder = tmp_path_factory.mktemp("zygote")
    with Zygote(["core.cleaning", "core.datasets", "core.sql", "core.errors", "pyarrow"], env=_env(folder),
                cwd=folder) as started:
        yield started


def _child(mode: str, payload: str, tmp_path: Path, zygote: Zygote) -> dict:
    started = time.monotonic()
    done = zygote.run(["-c", CHILD, mode, payload, str(CAP_BYTES)], cwd=tmp_path, env=_env(tmp_path), timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"the child died (rc {done.returncode}): {done.stderr[-600:]}"
    result = json.loads(lines[-1][len("RESULT "):])
    result["wall"] = time.monotonic() - started
    return result


@pytest.mark.parametrize("payload", SQL_BOMBS)
def test_sql_memory_bombs_are_refused_before_they_run(payload: str, tmp_path: Path, zygote: Zygote) -> None:
    out = _child("sql", payload, tmp_path, zygote)
    assert out["error"] == "Refused" and "refused" in out["message"] and out["hint"], out
    assert out["seconds"] < 5 and out["peak_mb"] < PEAK_MB, out
    assert out["after"] == 3000  # the same process answers the next query


@pytest.mark.parametrize("payload", CARRIED_BOMBS)
def test_sql_carried_by_table_functions_is_refused_before_it_runs(payload: str, tmp_path: Path, zygote: Zygote) -> None:
    out = _child("sql", payload, tmp_path, zygote)
    assert out["error"] == "Refused" and "is not allowed" in out["message"] and out["hint"], out
    assert out["seconds"] < 5 and out["peak_mb"] < PEAK_MB and out["after"] == 3000, out


@pytest.mark.parametrize("payload", RESULT_BOMBS)
def test_results_larger_than_the_limit_stop_while_fetched(payload: str, tmp_path: Path, zygote: Zygote) -> None:
    out = _child("sql", payload, tmp_path, zygote)
    assert out["error"] == "InvalidSql" and out["hint"], out
    assert re.search(r"result is larger than 256 MB|more memory than the limit", out["message"]), out
    assert out["seconds"] < 15 and out["peak_mb"] < RESULT_PEAK_MB and out["after"] == 3000, out


@pytest.mark.parametrize("payload", RUNTIME_BOMBS)
def test_runtime_bombs_stop_at_the_memory_or_time_limit(payload: str, tmp_path: Path, zygote: Zygote) -> None:
    out = _child("sql", payload, tmp_path, zygote)
    assert out["error"] == "InvalidSql" and re.search(r"more memory than the limit|stopped after", out["message"]), out
    assert out["seconds"] < 15 and out["peak_mb"] < PEAK_MB, out
    assert out["after"] == 3000


@pytest.mark.parametrize(("mode", "payload"), EXPRESSION_BOMBS)
def test_filter_and_derived_column_bombs_are_refused(mode: str, payload: str, tmp_path: Path,
                                                     zygote: Zygote) -> None:
    out = _child(mode, payload, tmp_path, zygote)
    assert out["error"] == "InvalidInput" and "limit" in (out["message"] + out["hint"]).lower(), out
    assert out["seconds"] < 5 and out["after"] == 3000 and out["peak_mb"] < PEAK_MB, out


# ---------------------------------------------------------------- catalog, paths, credentials


@pytest.fixture
def sales(csv_file: Path) -> datasets.Dataset:
    return datasets.ingest_file(csv_file, name="sales")


CATALOG = [
    "SELECT * FROM duckdb_views, (WITH duckdb_views AS (SELECT 1 AS z) SELECT z FROM duckdb_views) t",
    "SELECT * FROM (WITH duckdb_views AS (SELECT 1 AS z) SELECT z FROM duckdb_views) t, duckdb_views",
    "SELECT * FROM duckdb_views",
    "SELECT * FROM duckdb_tables",
    "SELECT sql FROM sqlite_master",
    "WITH x AS (SELECT * FROM duckdb_views) SELECT * FROM x",
    "WITH duckdb_views AS (SELECT 1 AS z) SELECT * FROM (SELECT * FROM duckdb_views) a, "
    "(WITH q AS (SELECT 2) SELECT * FROM duckdb_columns) b",
    "SELECT * FROM duckdb_views()",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_views",
    "SELECT * FROM system.main.duckdb_views",
    "SELECT (SELECT count(*) FROM duckdb_views) AS n FROM sales",
    "SELECT * FROM sales WHERE region IN (SELECT view_name FROM duckdb_views)",
    "SELECT * FROM pg_views",
    "SELECT * FROM sales UNION ALL SELECT sql, NULL, NULL FROM duckdb_views",
    # table functions after LATERAL, in joins and subqueries carry unchecked SQL or read the catalog
    "SELECT j.* FROM (SELECT 1) s, LATERAL json_execute_serialized_sql(json_serialize_sql("
    "'SELECT view_name, sql FROM duckdb_views() WHERE NOT internal')) j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL truncate_duckdb_logs() j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL add_grammar_extension('x') j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL remove_grammar_extension('x') j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL create_external_resource('x') j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL python_map_function('x') j",
    "SELECT count(*) FROM (SELECT 1) s, LATERAL repeat_row(1, num_rows => 100000) j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL icu_calendar_names() j LIMIT 2",
    "SELECT j.* FROM (SELECT 1) s, LATERAL json_execute_serialized_sql(json_serialize_sql("
    "'SELECT * FROM duckdb_logs()')) j LIMIT 3",
    "SELECT j.* FROM (SELECT 1) s, LATERAL json_execute_serialized_sql(json_serialize_sql("
    "'SELECT database_name, path FROM duckdb_databases()')) j",
    "SELECT j.* FROM (SELECT 1) s, LATERAL json_execute_serialized_sql(json_serialize_sql('SELECT name, value "
    "FROM duckdb_settings() WHERE name IN (''temp_directory'', ''allowed_paths'')')) j",
    # variants
    "SELECT * FROM sales JOIN LATERAL json_execute_serialized_sql(json_serialize_sql('SELECT 1')) j ON true",
    "SELECT * FROM sales CROSS JOIN LATERAL which_secret('s3://x', 's3') j",
    "SELECT * FROM sales, (SELECT * FROM (SELECT 1) s, LATERAL icu_calendar_names() j) q",
    "SELECT json_execute_serialized_sql(json_serialize_sql('SELECT 1')) AS x",
    "SELECT json_deserialize_sql(json_serialize_sql('SELECT 1')) AS x",
    "SELECT 'SELECT 1'.json_serialize_sql() AS x",
    "SELECT * FROM (SELECT 1) s, LATERAL query('SELECT * FROM duckdb_views()') j",
    "SELECT * FROM (SELECT 1) s, LATERAL query_table('duckdb_views') j",
    "SELECT write_log('x') AS x",
    "SELECT * FROM (SELECT 1) s, LATERAL summary(SELECT 1) j",
]


@pytest.mark.parametrize("payload", CATALOG)
def test_catalog_views_are_not_readable_even_behind_a_cte(sales, payload: str) -> None:
    with pytest.raises(InvalidSql) as caught:
        sql.query(payload)
    assert caught.value.hint
    assert str(storage.data_dir()) not in str(caught.value) + (caught.value.hint or "")


def test_a_cte_shadowing_nothing_still_works(sales) -> None:
    out = sql.query("WITH duckdb_views AS (SELECT 1 AS z) SELECT z FROM duckdb_views")
    assert out["z"].tolist() == [1]


@pytest.mark.parametrize("payload", [
    "SELECT * FROM sales WHERE units > 'x'",
    "SELECT nope FROM sales",
    "SELECT * FROM sales s JOIN sales t ON s.region = t.nope",
])
def test_errors_never_show_where_the_data_lives(sales, payload: str) -> None:
    with pytest.raises(InvalidSql) as caught:
        sql.query(payload)
    assert str(storage.data_dir()) not in caught.value.message + (caught.value.hint or "")


@pytest.mark.parametrize("url", [
    "postgresql://analyst:hunter2secret@127.0.0.1:1/db",
    "postgresql://analyst@127.0.0.1:1/db?password=hunter2secret",
    "postgresql://127.0.0.1:1/db?user=analyst&password=hunter2secret&sslmode=disable",
    "mysql://analyst@127.0.0.1:1/db?passwd=hunter2secret",
    "postgresql://analyst@127.0.0.1:1/db?sslpassword=hunter2secret",
])
def test_credentials_in_a_url_are_not_stored_in_the_history(url: str) -> None:
    with pytest.raises(ConnectionFailed):  # nothing listens on port 1
        sql.query("SELECT 1", connection=url)
    entry = sql.history()[0]
    stored = " ".join(str(v) for v in (entry.sql, entry.target, entry.error))
    assert "hunter2secret" not in stored
    assert "127.0.0.1" in entry.target


@pytest.mark.parametrize("where", [
    "units = 'abc'",
    "region + 1 > 0",
    "CAST(region AS INT) > 0",
    "units > DATE '2020-01-01'",
    "TRY_CAST(region AS DATE) > 5",
])
def test_filter_errors_are_clear_and_never_show_where_the_data_lives(sales, where: str) -> None:
    from core.errors import InvalidInput
    with pytest.raises(InvalidInput) as caught:
        datasets.preview(sales.id, where=where)
    text = caught.value.message + (caught.value.hint or "")
    assert caught.value.hint and str(storage.data_dir()) not in text and "parquet" not in text.lower()
