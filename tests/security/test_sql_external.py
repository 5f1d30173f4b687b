"""Hostile SQL against real PostgreSQL and MariaDB, through both paths of external SQL (the SQL tab's
`sql.query(connection=...)` and `datasets.import_database(query=...)`): each payload is refused before it
runs or by the database, and nothing is written (sequence value, rows, large objects, locks, files)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core import connections, datasets, sql
from core.errors import InvalidSql, WorkbenchError
from core.sql import external
from tests.conftest import _unavailable, scratch_pg_database
from tests.zygote import Zygote

# the MariaDB fixture drops and refills one `items` table: its tests stay on one pytest-xdist worker
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("mariadb-items")]

MARIADB = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
# One name per run, the same in every pytest-xdist worker (the payloads name it, and workers must collect alike)
OUTFILE = Path("/tmp") / f"wb_outfile_{os.environ.get('PYTEST_XDIST_TESTRUNUID', uuid.uuid4().hex)[:8]}"
PATHS = ["sql_tab", "import"]


@dataclass
class Source:
    url: str
    kind: str

    def state(self) -> tuple:
        """What a payload could change: rows, sequence, large objects, advisory locks (PostgreSQL)."""
        engine = create_engine(sql.connection_url(self.url))
        with engine.connect() as c:
            rows = c.execute(text("SELECT count(*) FROM items")).scalar_one()
            if self.kind == "mysql":
                return (rows,)
            seq = tuple(c.execute(text("SELECT last_value, is_called FROM wb_seq")).one())
            objects = c.execute(text("SELECT count(*) FROM pg_largeobject_metadata")).scalar_one()
            locks = c.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                                   "(SELECT oid FROM pg_database WHERE datname = current_database())")).scalar_one()
        engine.dispose()
        return rows, seq, objects, locks


@pytest.fixture(scope="module")
def pg() -> Iterator[Source]:
    with scratch_pg_database("wb_sec") as url:
        engine = create_engine(url)
        with engine.begin() as c:
            c.execute(text("CREATE TABLE items (id INT, name TEXT)"))
            c.execute(text("INSERT INTO items VALUES (1, 'a'), (2, 'b')"))
            c.execute(text("CREATE SEQUENCE wb_seq"))
            c.execute(text("CREATE FUNCTION wb_insert() RETURNS int LANGUAGE plpgsql AS "
                           "$$ BEGIN INSERT INTO items VALUES (99, 'x'); RETURN 1; END $$"))
        engine.dispose()
        yield Source(url, "postgresql")


@pytest.fixture(scope="module")
def maria() -> Iterator[Source]:
    try:
        engine = create_engine(MARIADB)
        with engine.begin() as c:
            c.execute(text("DROP TABLE IF EXISTS items"))
            c.execute(text("CREATE TABLE items (id INT, name VARCHAR(20))"))
            c.execute(text("INSERT INTO items VALUES (1, 'a'), (2, 'b')"))
    except Exception as exc:
        _unavailable("MariaDB", exc)
    yield Source(MARIADB, "mysql")
    with engine.begin() as c:
        c.execute(text("DROP TABLE IF EXISTS items"))
    engine.dispose()


def _saved(source: Source) -> connections.DatabaseConnection:
    parts = make_url(sql.connection_url(source.url))
    return connections.save_connection(f"src_{uuid.uuid4().hex[:6]}", source.kind, host=parts.host,
                                       port=parts.port, database=parts.database, user=parts.username or "")


def _attempt(source: Source, path: str, payload: str) -> WorkbenchError:
    with pytest.raises(WorkbenchError) as caught:
        if path == "sql_tab":
            sql.query(payload, connection=source.url)
        else:
            datasets.import_database(_saved(source), query=payload, name="stolen")
    return caught.value


PG_PAYLOADS = [
    "SELECT nextval('wb_seq')",
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT lo_import('/etc/hostname')",
    "SELECT wb_insert()",
    "SELECT pg_sleep(8)",
    "SELECT query_to_xml('select pg_read_file(''/etc/hostname'')', true, true, '')",
    "SELECT pg_sleep_for('8 seconds')",
    "SELECT pg_switch_wal()",
    "SELECT pg_stat_reset()",
    "SELECT pg_advisory_lock(42)",
    "SELECT pg_notify('wb_channel', 'x')",
    # variants
    "SELECT \"nextval\"('wb_seq')",
    "SELECT pg_catalog.nextval('wb_seq')",
    "SELECT * FROM items WHERE id < nextval('wb_seq')",
    "WITH x AS (SELECT wb_insert() AS n) SELECT n FROM x",
    "SELECT 1 FROM items, LATERAL (SELECT wb_insert()) AS w",
    "SELECT CAST(wb_insert() AS text)",
    "SELECT * FROM pg_read_file('/etc/hostname')",
    "SELECT current_setting('data_directory')",
    "SELECT lo_from_bytea(0, 'x')",
    "SELECT txid_current()",
    "SELECT pg_try_advisory_lock(7)",
    "SELECT pg_reload_conf()",
    "SELECT dblink_exec('dbname=postgres', 'CREATE TABLE z(i int)')",
    "SELECT repeat('x', 1000000000)",
    "SELECT count(*) FROM generate_series(1, 1000000000)",
    "SELECT 1; DELETE FROM items",
    "DELETE FROM items RETURNING *",
    "SELECT * INTO stolen FROM items",
    "COPY items TO '/tmp/wb_copy'",
    "SELECT length(format('%*s', 1000000000, 'x'))",
    # the system catalog: files, settings, password hashes, sessions
    "SELECT * FROM pg_hba_file_rules",
    "SELECT * FROM pg_file_settings",
    "SELECT name, setting FROM pg_settings",
    "SELECT rolname, rolpassword FROM pg_authid",
    "SELECT * FROM pg_shadow",
    "SELECT * FROM pg_user_mappings",
    "SELECT * FROM pg_user_mapping",
    "SELECT query FROM pg_stat_activity",
    "SELECT * FROM pg_catalog.pg_authid",
    "SELECT * FROM \"pg_catalog\".\"pg_shadow\"",
    "SELECT * FROM PG_CATALOG.PG_SETTINGS",
    "SELECT * FROM items WHERE name IN (SELECT usename FROM pg_user)",
    "WITH x AS (SELECT * FROM pg_stat_activity) SELECT * FROM x",
    "SELECT * FROM items, LATERAL (SELECT rolpassword FROM pg_authid) p",
    "SELECT * FROM information_schema.user_mappings",
    "SELECT * FROM information_schema.role_table_grants",
    "SELECT * FROM pg_toast.pg_toast_1260",
    "SELECT * FROM pg_roles",
    "SELECT length(format('%1$*2$s', 'x', 1000000000))",
    "SELECT 1 --\u00a0, pg_read_file('/etc/hostname')\nFROM items",
    "SELECT 1\u2028FROM items",
]
MARIA_PAYLOADS = [
    "SELECT LOAD_FILE('/etc/hostname')",
    f"SELECT 'x' /*! INTO OUTFILE '{OUTFILE}' */",
    "SELECT 1 /*!50000 , LOAD_FILE('/etc/hostname') */",
    # variants
    f"SELECT 'x' INTO OUTFILE '{OUTFILE}'",
    f"SELECT 'x' INTO DUMPFILE '{OUTFILE}'",
    "SELECT /*M!100100 LOAD_FILE('/etc/hostname'), */ 1",
    "SELECT * FROM items /*!50000 UNION SELECT 1, LOAD_FILE('/etc/hostname') */",
    "SELECT 1 /*!*/",
    "SELECT /*+ SET_VAR(max_statement_time=0) */ SLEEP(8)",
    "SELECT 1 -- /*!50000 , LOAD_FILE('/etc/hostname') */",
    "SELECT SLEEP(8)",
    "SELECT BENCHMARK(100000000, MD5('x'))",
    "SELECT GET_LOCK('wb', 1)",
    "SELECT `load_file`('/etc/hostname')",
    "SELECT 1; DELETE FROM items",
    "DO SLEEP(8)",
    r"SELECT 'a\' , LOAD_FILE('/etc/hostname') , ''",
    r'SELECT "a\" , LOAD_FILE(0x2f6574632f686f73746e616d65) , ""',
    "SELECT 1 --1, LOAD_FILE('/etc/hostname')",
    "SELECT 1 #\n, LOAD_FILE('/etc/hostname')",
    "SELECT CONVERT(LOAD_FILE('/etc/hostname') USING utf8)",
    "HANDLER items OPEN",
    # '--' + U+00A0 is a comment for sqlglot but not for MariaDB
    "SELECT 1 --\u00a0, LOAD_FILE('/etc/hostname') AS leak\nFROM (SELECT 1 AS `\u00a0`) t",
    f"SELECT 1 --\u00a0 INTO OUTFILE '{OUTFILE}'\nFROM (SELECT 1 AS `\u00a0`) t",
    # variants: other invisible characters, '--' without a space
    "SELECT 1 --\u3000, LOAD_FILE('/etc/hostname') AS leak\nFROM items",
    "SELECT 1 --\x0b, LOAD_FILE('/etc/hostname') AS leak\nFROM items",
    "SELECT 1 --\x0c, LOAD_FILE('/etc/hostname') AS leak\nFROM items",
    "SELECT 1 --\u200b, LOAD_FILE('/etc/hostname') AS leak\nFROM items",
    "SELECT 1 --\u2028, LOAD_FILE('/etc/hostname') AS leak\nFROM items",
    f"SELECT 1 --\u00a0\nINTO OUTFILE '{OUTFILE}'",
    "SELECT 1 --\x85, LOAD_FILE('/etc/hostname')\nFROM items",
    "SELECT 1 --\x00, LOAD_FILE('/etc/hostname')\nFROM items",
    "SELECT 1 --\ufeff, LOAD_FILE('/etc/hostname')\nFROM items",
    "SELECT 1\u00a0FROM items",
    "SELECT 1 --- , LOAD_FILE('/etc/hostname')",
    "SELECT 1 --'x', LOAD_FILE('/etc/hostname')",
    "SELECT printf('%*d', 1000000000, 1)",
    # system variables and the system schemas
    "SELECT @@datadir",
    "SELECT @@secure_file_priv, @@version",
    "SELECT @@GLOBAL.general_log_file",
    "SELECT @ @datadir",
    "SELECT user, password FROM mysql.user",
    "SELECT * FROM `mysql`.`user`",
    "SELECT * FROM MYSQL.global_priv",
    "SELECT info FROM information_schema.processlist",
    "SELECT * FROM information_schema.user_privileges",
    "SELECT * FROM performance_schema.threads",
    "SELECT * FROM sys.processlist",
    "SELECT * FROM items WHERE name IN (SELECT user FROM mysql.user)",
]


RESULT_CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from core import sql
from core.errors import WorkbenchError
started, out = time.monotonic(), {"error": None}
try:
    sql.query(sys.argv[1], connection=sys.argv[2])
except WorkbenchError as exc:
    out = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
out["seconds"] = time.monotonic() - started
out["peak_mb"] = int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))) / 1024  # VmHWM: this image's own peak (ru_maxrss survives exec)
print("RESULT " + json.dumps(out))
"""
RESULT_BOMBS = [
    ("pg", "SELECT repeat('x', 999999) AS s, generate_series(1, 1500)"),
    ("pg", "SELECT repeat('x', 999999) AS s, generate_series(1, 1500) AS n ORDER BY n DESC"),
    ("pg", "SELECT repeat('x', 500000) AS a, repeat('y', 500000) AS b, generate_series(1, 1000) FROM items"),
    ("maria", "SELECT repeat('x', 999999) AS s FROM items a, items b, items c, items d, items e, items f, "
              "items g, items h, items i, items j, items k"),
]


def _child_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": "", "REDIS_URL": "",
            "SQL_TIMEOUT_S": "20", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """Forks RESULT_CHILD once per payload, its imports done once (a fresh interpreter takes seconds for them)."""
    folder = tmp_path_factory.mktemp("zygote")
    with Zygote(["core.sql", "core.errors"], env=_child_env(folder), cwd=folder) as started:
        yield started


@pytest.mark.parametrize(("source_name", "payload"), RESULT_BOMBS)
def test_results_larger_than_the_limit_stop_while_fetched(request: pytest.FixtureRequest, source_name: str,
                                                          payload: str, tmp_path: Path, zygote: Zygote) -> None:
    source: Source = request.getfixturevalue(source_name)
    done = zygote.run(["-c", RESULT_CHILD, payload, source.url], cwd=tmp_path, env=_child_env(tmp_path), timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, f"the child died (rc {done.returncode}): {done.stderr[-600:]}"
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["error"] == "InvalidSql" and "result is larger than 256 MB" in out["message"] and out["hint"], out
    assert out["seconds"] < 15 and out["peak_mb"] < 1500, out


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("payload", PG_PAYLOADS)
def test_postgresql_payloads_are_refused_and_write_nothing(pg: Source, path: str, payload: str) -> None:
    before = pg.state()
    started = time.monotonic()
    error = _attempt(pg, path, payload)
    assert isinstance(error, InvalidSql) and error.hint, error
    assert time.monotonic() - started < 5, "refused, not run to its end"
    assert pg.state() == before
    assert "stolen" not in {d.name for d in datasets.list_datasets()}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("payload", MARIA_PAYLOADS)
def test_mariadb_payloads_are_refused_and_write_nothing(maria: Source, path: str, payload: str) -> None:
    before = maria.state()
    started = time.monotonic()
    error = _attempt(maria, path, payload)
    assert isinstance(error, InvalidSql) and error.hint, error
    assert time.monotonic() - started < 5
    assert maria.state() == before and not OUTFILE.exists()
    assert "stolen" not in {d.name for d in datasets.list_datasets()}


@pytest.mark.parametrize("payload", ["SELECT nextval('wb_seq')", "SELECT wb_insert()",
                                     "SELECT set_config('default_transaction_read_only', 'off', false), "
                                     "wb_insert()"])
def test_the_database_itself_refuses_writes_without_validation(pg: Source, payload: str) -> None:
    before = pg.state()
    with pytest.raises(InvalidSql, match=r"(?i)read-only"):
        external.execute(sql.connection_url(pg.url), payload, limit=10, timeout_s=10)
    assert pg.state() == before


@pytest.mark.parametrize("source_name", ["pg", "maria"])
def test_a_failing_count_does_not_end_the_read_only_transaction(request: pytest.FixtureRequest,
                                                                source_name: str) -> None:
    source: Source = request.getfixturevalue(source_name)
    before = source.state()
    engine = external.engine_for(sql.connection_url(source.url), 10)
    with external.read_only(engine, 10) as conn:
        assert external.count(conn, "SELECT no_such_column FROM items") is None
        cur = conn.connection.cursor()
        with pytest.raises(conn.dialect.loaded_dbapi.Error, match=r"(?i)read.only"):
            cur.execute("INSERT INTO items VALUES (7, 'w')")
    engine.dispose()
    assert source.state() == before


@pytest.mark.parametrize(("source_name", "slow"), [("pg", "SELECT pg_sleep(5)"), ("maria", "SELECT SLEEP(5)")])
def test_the_statement_timeout_is_set_in_the_database(request: pytest.FixtureRequest, source_name: str,
                                                      slow: str) -> None:
    source: Source = request.getfixturevalue(source_name)
    started = time.monotonic()
    with pytest.raises(InvalidSql, match=r"stopped the query after 1 s"):
        external.execute(sql.connection_url(source.url), slow, limit=10, timeout_s=1)
    assert time.monotonic() - started < 3


def test_a_superuser_login_gets_a_warning_and_a_select_only_role_none(pg: Source) -> None:
    warning = sql.role_warning(pg.url)
    assert warning and "superuser" in warning and "SELECT" in warning
    role = f"wb_ro_{uuid.uuid4().hex[:6]}"
    admin = create_engine(sql.connection_url(pg.url))
    with admin.begin() as c:
        c.execute(text(f"CREATE ROLE {role} LOGIN"))
        c.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        c.execute(text(f"GRANT SELECT ON items TO {role}"))
    try:
        reader = make_url(sql.connection_url(pg.url)).set(username=role)
        assert sql.role_warning(reader) is None
        assert sql.query("SELECT count(*) AS n FROM items", connection=reader)["n"][0] == 2
    finally:
        with admin.begin() as c:
            c.execute(text(f"REVOKE ALL ON items FROM {role}"))
            c.execute(text(f"DROP ROLE {role}"))
        admin.dispose()


def test_mariadb_root_gets_a_warning_and_a_select_only_user_none(maria: Source) -> None:
    assert "can change this database" in (sql.role_warning(maria.url) or "")
    admin = create_engine(MARIADB)
    with admin.begin() as c:
        c.execute(text("CREATE USER IF NOT EXISTS 'wb_sel'@'%' IDENTIFIED BY 'pw-sel'"))
        c.execute(text("GRANT SELECT ON test.* TO 'wb_sel'@'%'"))
    admin.dispose()
    reader = make_url(sql.connection_url(maria.url)).set(username="wb_sel", password="pw-sel")
    assert sql.role_warning(reader) is None


@pytest.mark.parametrize("suffix", [
    "?init_command=DELETE FROM items",
    "?options=-c default_transaction_read_only=off",
    "?sql_mode=NO_BACKSLASH_ESCAPES",
    "?sslmode=disable&init_command=SET autocommit=1",
    "?local_infile=1",
])
@pytest.mark.parametrize("source_name", ["pg", "maria"])
def test_url_parameters_that_could_run_sql_or_change_the_session_are_refused(
        request: pytest.FixtureRequest, source_name: str, suffix: str) -> None:
    source: Source = request.getfixturevalue(source_name)
    before = source.state()
    with pytest.raises(InvalidSql, match=r"parameter .* is not allowed"):
        sql.query("SELECT count(*) AS n FROM items", connection=sql.connection_url(source.url) + suffix)
    assert source.state() == before


def test_mariadb_reads_quotes_and_backslashes_as_the_guard_does(maria: Source) -> None:
    engine = external.engine_for(sql.connection_url(maria.url), 10)
    with external.read_only(engine, 10) as conn:
        cur = conn.connection.cursor()
        cur.execute("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES,ANSI_QUOTES'")
        cur.execute(external._MYSQL_MODE)
        cur.execute("SELECT @@SESSION.sql_mode")
        mode = cur.fetchone()[0]
    engine.dispose()
    assert "NO_BACKSLASH_ESCAPES" not in mode and "ANSI_QUOTES" not in mode


def test_postgresql_sessions_use_standard_strings(pg: Source) -> None:
    engine = external.engine_for(sql.connection_url(pg.url), 10)
    with external.read_only(engine, 10) as conn:
        cur = conn.connection.cursor()
        cur.execute("SHOW standard_conforming_strings")
        assert cur.fetchone()[0] == "on"
        cur.execute("SHOW transaction_read_only")
        assert cur.fetchone()[0] == "on"
    engine.dispose()


@pytest.mark.parametrize(("url", "error"), [
    ("sqlite:///{tmp}/absent.db", "NotFound"),
    ("sqlite:///{tmp}/absent.db?mode=rwc", "NotFound"),
    ("sqlite:///file:{tmp}/absent.db?mode=rwc&uri=true", "NotFound"),
    ("sqlite:///{tmp}/absent.db?mode=rwc&uri=true", "NotFound"),
    ("sqlite://", "InvalidInput"),
    ("sqlite:///:memory:", "InvalidInput"),
    ("sqlite:///{data}/workbench.db", "InvalidSql"),
    ("sqlite:///{data}/../data/workbench.db", "InvalidSql"),
    ("sqlite:///file:{data}/workbench.db?mode=ro&uri=true", "InvalidSql"),
    ("sqlite:///{tmp}/link.db", "InvalidSql"),
])
def test_sqlite_urls_open_existing_files_read_only_and_never_the_workbench_s_own(
        url: str, error: str, tmp_path: Path) -> None:
    from core import storage
    data = storage.data_dir().resolve()
    own = data / "workbench.db"
    created = not own.exists()
    if created:
        import sqlite3
        with sqlite3.connect(own) as db:
            db.execute("CREATE TABLE a (i INT)")
    (tmp_path / "link.db").symlink_to(own)
    try:
        with pytest.raises(WorkbenchError) as caught:
            sql.query("SELECT 1 AS one", connection=url.format(tmp=tmp_path, data=data))
        assert type(caught.value).__name__ == error and caught.value.hint, caught.value
        assert not (tmp_path / "absent.db").exists() and not list(tmp_path.glob("absent.db*"))
    finally:
        if created:
            own.unlink()


@pytest.mark.parametrize(("source_name", "query"), [
    ("pg", "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'items'"),
    ("pg", "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = 'items'"),
    ("maria", "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'items'"),
    ("pg", "SELECT count(*) AS n FROM items -- a comment"),
    ("maria", "SELECT count(*) AS n FROM items -- a comment\n"),
])
def test_plain_queries_and_the_table_listings_still_work(request: pytest.FixtureRequest, source_name: str,
                                                        query: str) -> None:
    source: Source = request.getfixturevalue(source_name)
    assert sql.query(query, connection=source.url)["n"][0] >= 1


def test_a_sqlite_file_is_read_and_never_written(tmp_path: Path) -> None:
    import sqlite3
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE a (i INT)")
        db.execute("INSERT INTO a VALUES (1)")
    before = path.read_bytes()
    assert sql.query("SELECT count(*) AS n FROM a", connection=f"sqlite:///{path}")["n"][0] == 1
    assert path.read_bytes() == before and not list(tmp_path.glob("shop.db-*"))


@pytest.mark.parametrize(("url", "error"), [
    ("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", "InvalidInput"),
    ("mysql+mysqldb://root@127.0.0.1/test", "InvalidInput"),
    ("postgresql+asyncpg://x@127.0.0.1/db", "InvalidInput"),
    ("mssql://x@127.0.0.1:1/db", "ConnectionFailed"),  # driver missing: install hint
    ("mysql://root@127.0.0.1:3306/test?charset=nope", "ConnectionFailed"),
    ("mysql://root@127.0.0.1:3306/test?ssl_ca=/nonexistent/ca.pem", "ConnectionFailed"),
    ("postgresql://postgres@127.0.0.1:5432/postgres?sslmode=bogus", "ConnectionFailed"),
])
def test_unknown_drivers_and_bad_url_parameters_give_clear_errors(url: str, error: str) -> None:
    with pytest.raises(WorkbenchError) as caught:
        sql.query("SELECT 1 AS one", connection=url)
    assert type(caught.value).__name__ == error and caught.value.hint, caught.value


@pytest.mark.parametrize("payload", [
    "SELECT length(printf('%.*c', 1000000000, 'x')) AS n",
    "SELECT length(printf('%*d', 1000000000, 1)) AS n",
    "SELECT length(printf('%!.*c', 1000000000, 'x')) AS n",
    "SELECT name FROM sqlite_master",
    "SELECT * FROM sqlite_schema",
    "SELECT 1 --\u00a0, load_extension('x')\nFROM a",
])
def test_sqlite_payloads_are_refused_before_they_run(payload: str, tmp_path: Path) -> None:
    import sqlite3
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE a (i INT)")
    started = time.monotonic()
    with pytest.raises(InvalidSql) as caught:
        sql.query(payload, connection=f"sqlite:///{path}")
    assert caught.value.hint and time.monotonic() - started < 2
