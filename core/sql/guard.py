"""Validation of one SQL statement before anything runs: read-only, known tables, allowed functions.

`validate` parses with sqlglot and refuses anything but one query. Tables are resolved with their
scope (a CTE counts only where it is visible), so a CTE named like a catalog view cannot hide one.
Functions: over the datasets (DuckDB, whose file and network access is also switched off) the
file, network, catalog and settings functions are refused; on external databases only functions
on an allow-list per dialect may run (a function the list does not know is refused, whatever it
is). A function standing where a table does (FROM, a join, after LATERAL) must be range,
generate_series or unnest. Generating functions are bounded (`core.bounds.oversized`). On external
databases the text must read the same to the server as to sqlglot: no invisible or control
characters but space, tab, CR, LF, and `--` only before a space; on MySQL/MariaDB comments the server
would execute (`/*! ... */`, `/*M! ... */`, hints `/*+ ... */`) and `@@` variables are refused; the
system catalog (pg_*, pg_catalog, mysql, performance_schema, sys, information_schema but its table
listings) is not readable.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope

from core import duck
from core.bounds import LIMIT_HINT, oversized
from core.errors import InvalidSql

QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)
READ_ONLY_HINT = "Only one read-only query (SELECT, WITH … SELECT, UNION …) may run here."
DENIED_FUNCTIONS = frozenset({
    "glob", "getenv", "current_setting", "set_config", "query", "query_table", "sniff_csv", "load_file",
    "pg_sleep", "sleep", "benchmark", "load_extension", "install", "load", "checkpoint", "force_checkpoint",
    "which_secret", "enable_profiling", "disable_profiling", "from_json_file", "shell", "system",
    "current_database", "current_schema", "current_schemas", "version", "platform", "ducklake",
    "json_execute_serialized_sql", "json_serialize_sql", "json_deserialize_sql", "json_serialize_plan",
    "repeat_row", "write_log", "truncate_duckdb_logs", "add_grammar_extension", "remove_grammar_extension",
    "create_external_resource", "python_map_function", "icu_calendar_names", "summary",
})
# Table-valued functions that may stand in FROM, a join or after LATERAL: they only generate values.
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "exploding_generate_series"})
DENIED_PREFIXES = ("read_", "pg_", "lo_", "dblink", "duckdb_", "pragma_", "sqlite_", "postgres_", "mysql_",
                   "iceberg_", "delta_", "parquet_", "http", "s3", "gcs", "azure", "copy_", "txid_", "export_",
                   "import_", "information_schema", "has_", "test_", "json_execute", "json_serialize",
                   "json_deserialize", "write_", "truncate_", "python_", "create_", "add_", "remove_", "icu_")
DENIED_SUFFIXES = ("_scan", "_attach", "_query", "_sql", "_extension", "_logs")
SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "mysql", "performance_schema", "sys", "pg_toast"})
INFORMATION_VIEWS = frozenset({"tables", "columns", "schemata", "views", "key_column_usage", "table_constraints",
                               "referential_constraints"})
SYSTEM_PREFIXES = {"postgres": ("pg_",), "sqlite": ("sqlite_",), "tsql": ("sys", "spt_")}
CATALOG_TABLES = ("duckdb_", "pragma_", "sqlite_", "pg_", "information_schema")

# Functions that only compute on the values they are given, by their sqlglot name or the dialect's own.
COMMON_FUNCTIONS = frozenset("""
count sum avg min max stddev stddev_samp stddev_pop variance variance_pop var_samp var_pop corr covar_pop
covar_samp regr_slope regr_intercept regr_r2 regr_count regr_avgx regr_avgy median mode percentile_cont
percentile_disc quantile approx_distinct array_agg group_concat string_agg logical_and logical_or every bool_and
bool_or bitwise_and_agg bitwise_or_agg bitwise_xor_agg count_if any_value first last arg_max arg_min
abs round ceil ceiling floor sqrt cbrt power pow exp ln log log2 log10 mod sign trunc truncate greatest least
width_bucket rand random pi degrees radians sin cos tan asin acos atan atan2 cot div safe_divide
lower upper lcase ucase length char_length character_length octet_length bit_length substring substr mid trim
btrim ltrim rtrim pad lpad rpad concat concat_ws replace split_part str_position strpos position locate instr
left right initcap reverse regexp_replace regexp_match regexp_matches regexp_like regexp_extract regexp_substr
regexp_instr translate ascii chr char unicode md5 sha1 sha2 hex unhex starts_with ends_with contains
substring_index field find_in_set repeat space format number_to_str to_char quote_literal quote_ident
time_to_str str_to_time str_to_date ts_or_ds_to_date ts_or_ds_to_timestamp unix_to_time unix_timestamp
from_unixtime date_format date_trunc timestamp_trunc date_part extract age to_date to_timestamp make_date
makedate justify_days justify_hours justify_interval current_date current_time current_timestamp localtimestamp
localtime now curdate curtime clock_timestamp date datetime time timestamp year month day hour minute second
quarter week weekofyear yearweek day_of_week day_of_month day_of_year dayofweek dayofmonth dayofyear dayname
monthname last_day date_add date_sub datediff date_diff timestampdiff timestampadd timediff isfinite
cast try_cast convert coalesce ifnull nvl nullif if iif case num_nonnulls num_nulls
row_number rank dense_rank lag lead first_value last_value nth_value ntile percent_rank cume_dist
json_extract json_extract_scalar json_extract_path json_extract_path_text jsonb_extract_path
jsonb_extract_path_text json_unquote json_length json_array json_object j_s_o_n_object j_s_o_n_array_agg
json_build_object json_build_array jsonb_build_object to_json to_jsonb json_agg jsonb_agg json_array_length
jsonb_array_length json_typeof jsonb_typeof json_value json_valid array_size array_length cardinality
array_to_string string_to_array array_position array_contains unnest explode generate_series
exploding_generate_series
""".split())
DIALECT_FUNCTIONS = {
    "postgres": frozenset("""
        array_upper array_lower array_remove array_append array_prepend array_cat array_dims string_agg
        to_number split_part regexp_split_to_array jsonb_object_keys json_object_keys make_timestamp
        make_interval date_bin
    """.split()),
    "mysql": frozenset("""
        std bit_and bit_or bit_xor sha json_contains json_keys json_search json_type char_length weekday
        to_days from_days sec_to_time time_to_sec period_diff period_add elt makedate maketime microsecond
        utc_date utc_timestamp strcmp soundex
    """.split()),
    "sqlite": frozenset("total typeof julianday strftime printf iif instr unicode zeroblob".split()) - {"zeroblob"},
    "tsql": frozenset("len charindex datepart datename getdate isnull iif format eomonth".split()),
}


class Refused(InvalidSql):
    """A statement refused by validation, before anything ran (a failed query raises plain InvalidSql)."""


def _position(sql: str, node: exp.Expression | None) -> str:
    meta = (node.meta if node is not None else {}) or {}
    start = meta.get("start")
    if start is None:
        return f" (line {meta['line']}, column {meta['col']})" if "line" in meta else ""
    line = sql.count("\n", 0, start) + 1
    col = start - (sql.rfind("\n", 0, start) + 1) + 1
    return f" (line {line}, column {col})"


def _parse(sql: str, dialect: str) -> exp.Expression:
    if not sql or not sql.strip():
        raise Refused("The query is empty.", hint="Write a SELECT statement, e.g. SELECT * FROM my_dataset.")
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except ParseError as exc:
        raise _syntax_error(sql, exc, dialect) from exc
    except TokenError as exc:
        raise Refused(f"The query could not be read: {exc}.", hint="Check quotes and comments are closed.") from exc
    if len(statements) != 1:
        raise Refused(f"The query holds {len(statements)} statements; only one may run.", hint=READ_ONLY_HINT)
    return statements[0]


def duckdb_message(exc: Exception) -> str:
    """DuckDB's first error line plus the line and column its caret points at."""
    text_ = str(exc)
    first = text_.split("\n", 1)[0]
    match = re.search(r"LINE (\d+): (.*)\n(\s*)\^", text_)
    if not match:
        return first
    col = len(match.group(3)) - len(f"LINE {match.group(1)}: ") + 1
    return f"{first} (line {match.group(1)}, column {max(col, 1)})"


def _syntax_error(sql: str, exc: ParseError, dialect: str) -> InvalidSql:
    """DuckDB's own parser message where it also fails (it reads better), else sqlglot's, with the position."""
    if dialect == "duckdb":
        try:
            with duck.connect() as parser:  # parses only: extract_statements runs nothing
                parser.extract_statements(sql)
        except duckdb.Error as refusal:
            return Refused(duckdb_message(refusal), hint="Check the SQL near that position.")
    first = exc.errors[0] if exc.errors else {}
    where = f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
    detail = re.sub(r"(for|but got) <.*", "", str(first.get("description", exc))).strip()  # no \s* prefix: quadratic
    return Refused(f"Syntax error{where}: {detail}.", hint="Check the SQL near that position.")


def _check_comments(sql: str, dialect: str) -> None:
    """MySQL and MariaDB run the text of `/*! */` and `/*M! */` comments, read `/*+ */` as hints and `@@x` as a
    system variable (settings, paths)."""
    if dialect != "mysql":
        return
    if "@@" in sql:
        raise Refused("System variables (@@…) are not readable here: they show the server's settings and paths.",
                      hint="Query your own tables.")
    match = re.search(r"/\*\s*(M?!|\+)", sql, flags=re.IGNORECASE)
    if match:
        raise Refused(f"Executable comments ({match.group(0)} … */) are not allowed: the server would run "
                      "their text.", hint="Remove the comment, or write its content as plain SQL.")


_ODD_CATEGORIES = ("Zs", "Cc", "Cf", "Zl", "Zp", "Co", "Cs")


def _check_characters(sql: str, dialect: str) -> None:
    """On external databases the server must read the text as the checker does: refuse any whitespace,
    control or format character but space, tab, CR and LF (MariaDB does not take `--` + U+00A0 as a
    comment, sqlglot does), and `--` not followed by one of those (MySQL's own comment rule)."""
    if dialect == "duckdb":
        return
    for index, char in enumerate(sql):
        if char not in " \t\r\n" and unicodedata.category(char) in _ODD_CATEGORIES:
            line = sql.count("\n", 0, index) + 1
            col = index - (sql.rfind("\n", 0, index) + 1) + 1
            raise Refused(f"The query holds the invisible character U+{ord(char):04X} "
                          f"({unicodedata.name(char, 'control')}) at line {line}, column {col}: an external "
                          "database may read it differently.", hint="Retype that part with plain spaces.")
    match = re.search(r"--(?![ \t\r\n]|$)", sql)
    if match:
        line = sql.count("\n", 0, match.start()) + 1
        raise Refused(f"'--' must be followed by a space to start a comment (line {line}): the database "
                      "could read it as two minus signs.", hint="Write '-- comment', or '- -x' for a double minus.")


def _check_root(sql: str, tree: exp.Expression) -> None:
    if not isinstance(tree, QUERY_ROOTS):
        word = sql.strip().split(None, 1)[0].upper() if sql.strip() else "?"
        raise Refused(f"{word} statements are not allowed; this workbench only reads data.", hint=READ_ONLY_HINT)
    for node in tree.find_all(exp.Into, exp.Lock, exp.Command, exp.Insert, exp.Update, exp.Delete, exp.Create,
                              exp.Drop, exp.Alter, exp.Copy, exp.Set, exp.Pragma, exp.Merge, exp.TruncateTable):
        what = "SELECT … INTO" if isinstance(node, exp.Into) else type(node).__name__.upper()
        raise Refused(f"{what} is not allowed{_position(sql, node)}.", hint=READ_ONLY_HINT)


def function_name(node: exp.Func) -> str:
    """The SQL name of a function call node, lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def denied(name: str) -> bool:
    """Over the datasets: a function that reads files, the network, the catalog or the settings."""
    return name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES) or name.endswith(DENIED_SUFFIXES)


def allowed_external(name: str, dialect: str) -> bool:
    """On an external database: only functions on the allow-list of its dialect."""
    return name in COMMON_FUNCTIONS or name in DIALECT_FUNCTIONS.get(dialect, frozenset())


def _table_position(node: exp.Func) -> bool:
    """Whether a function call stands where a table does: FROM, a join, after LATERAL, a table alias."""
    return node.arg_key == "this" and isinstance(node.parent, (exp.Table, exp.Lateral, exp.Join, exp.From))


def _check_functions(sql: str, tree: exp.Expression, dialect: str) -> None:
    for node in tree.find_all(exp.Func):
        name = function_name(node)
        if _table_position(node) and name not in TABLE_FUNCTIONS:
            raise Refused(f"The table function {name}() is not allowed{_position(sql, node)}: only range(), "
                          "generate_series() and unnest() may stand in FROM, a join or after LATERAL.",
                          hint="Query the datasets by their table names.")
        if dialect == "duckdb" and denied(name):
            raise Refused(f"The function {name}() is not allowed{_position(sql, node)}: it reads files, the "
                          "network, the catalog or the system.", hint="Query the datasets by their table names.")
        if dialect != "duckdb" and not allowed_external(name, dialect):
            raise Refused(f"The function {name}() is not allowed on an external database{_position(sql, node)}: "
                          "only functions that compute on values (aggregates, maths, text, dates) may run.",
                          hint="Use standard functions, or import the table and compute in the workbench.")
    problem = oversized(tree)
    if problem:
        raise Refused(f"The query is refused: {problem}.", hint=LIMIT_HINT)


def _cte_refs(tree: exp.Expression) -> set[int] | None:
    """The ids of Table nodes that name a CTE visible where they stand (None: the scopes cannot be built)."""
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, ValueError, KeyError):
        return None
    return {id(t) for scope in scopes for t in scope.tables if t.name in scope.cte_sources}


def _check_tables(sql: str, tree: exp.Expression, known: Iterable[str] | None, dialect: str = "duckdb") -> None:
    allowed = None if known is None else {k.lower() for k in known}
    ctes = _cte_refs(tree) or set()
    for table in tree.find_all(exp.Table):
        where = _position(sql, table.this if isinstance(table.this, exp.Expression) else table)
        if not isinstance(table.this, exp.Identifier):
            raise Refused(f"Table functions are not allowed{where}.",
                          hint="Refer to a dataset by its table name, e.g. FROM sales.")
        if _literal_table(sql, table.this):
            raise Refused(f"A string ('{table.name}') cannot be used as a table{where}: files are not readable "
                          "from SQL.", hint="Import the file on the Datasets page, then query it by name.")
        if id(table) in ctes:
            continue
        if allowed is None:
            _check_external_table(table, where, dialect)
            continue
        _check_dataset_table(table, where, allowed)


def _check_external_table(table: exp.Table, where: str, dialect: str) -> None:
    """On an external database: no system catalog (roles, password hashes, settings, sessions, files)."""
    schemas = {str(table.args[k].name).lower() for k in ("db", "catalog") if table.args.get(k)}
    name = table.name.lower()
    system = schemas & SYSTEM_SCHEMAS
    if system == {"information_schema"} and name in INFORMATION_VIEWS:
        return
    prefix = SYSTEM_PREFIXES.get(dialect, ())
    if system or (prefix and name.startswith(prefix)):
        raise Refused(f"System catalog tables such as {table.sql(dialect=dialect)} are not readable here{where}: "
                      "they hold roles, settings, sessions and server files.",
                      hint="Query your own tables; information_schema.tables and .columns list them.")


def _check_dataset_table(table: exp.Table, where: str, allowed: set[str]) -> None:
    if table.args.get("db") or table.args.get("catalog"):
        raise Refused(f"Qualified table names such as {table.sql()} are not allowed{where}.",
                      hint="Refer to a dataset by its name alone.")
    name = table.name.lower()
    if name not in allowed:
        catalog = name.startswith(CATALOG_TABLES)
        close = [] if catalog else difflib.get_close_matches(name, sorted(allowed), n=1)
        hint = f"Did you mean {close[0]!r}?" if close else "The schema browser lists the dataset tables."
        what = "Catalog tables are not readable here" if catalog else "Unknown table"
        raise Refused(f"{what}: {table.name!r}{where}." if catalog else f"Unknown table {table.name!r}{where}.",
                      hint=hint)


def _literal_table(sql: str, ident: exp.Identifier) -> bool:
    start = (ident.meta or {}).get("start")
    return ident.quoted and start is not None and "'" in sql[max(start - 1, 0):start + 1]


def validate(sql: str, *, known_tables: Iterable[str] | None = None, dialect: str = "duckdb") -> exp.Expression:
    """Refuse anything but one read-only query; return its sqlglot tree.

    `known_tables`: the table names the query may read (None: any, for external databases).
    `dialect`: duckdb (the datasets) or postgres, mysql, sqlite, tsql (external databases: allow-listed
    functions only). Raises Refused (an InvalidSql) with the position of the problem where there is one.
    """
    _check_characters(sql or "", dialect)
    _check_comments(sql or "", dialect)
    tree = _parse(sql, dialect)
    _check_root(sql, tree)
    _check_functions(sql, tree, dialect)
    _check_tables(sql, tree, known_tables, dialect)
    return tree
