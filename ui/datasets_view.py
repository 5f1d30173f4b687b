"""The Datasets page's sections: import (file, URL, Kaggle, database), preview, profile, columns,
clean with versions, export. The page script only lays them out."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.express as px
import streamlit as st

import jobs
from core import cleaning, connections, datasets, eda, export, importers, secret_box, storage, versions
from core.config import get_settings
from core.models import Dataset
from ui.errors import guard
from ui.jobs import job_panel
from ui.sql_view import role_warning_box
from ui.state import Keys

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "json", "jsonl", "ndjson", "parquet", "feather", "arrow",
              "gz", "zip"]
DELIMITERS = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]
PAGE_SIZES = [50, 100, 500]
OPS = {"drop": "Drop columns", "rename": "Rename a column", "cast": "Change a column's type",
       "fill": "Fill missing values", "drop_missing": "Drop rows with missing values", "filter": "Filter rows",
       "dedupe": "Remove duplicate rows", "derive": "New column from an expression", "one_hot": "One-hot encode",
       "bin": "Bin a numeric column"}
EXPORT_LABELS = {"csv": "CSV", "xlsx": "Excel", "json": "JSON", "parquet": "Parquet"}


class DKeys:
    """Session-state keys of the Datasets page."""

    UPLOAD_TMP = "datasets_upload_tmp"
    KAGGLE_FILES = "datasets_kaggle_files"
    DB_PASSWORDS = "datasets_db_passwords"
    DB_TABLES = "datasets_db_tables"
    DB_JOB = "datasets_db_job"
    EXPORT = "datasets_export"
    STEP_PREVIEW = "datasets_step_preview"


# ---------------------------------------------------------------- import

def import_section(*, expanded: bool) -> None:
    with st.expander("Import data", expanded=expanded):
        file_tab, url_tab, kaggle_tab, db_tab = st.tabs(["File", "URL", "Kaggle", "Database"])
        with file_tab:
            _file_import()
        with url_tab:
            _url_import()
        with kaggle_tab:
            _kaggle_import()
        with db_tab:
            _database_import()


def _select_new(ds: Dataset, message: str) -> None:
    st.session_state[Keys.DATASET_ID] = str(ds.id)
    st.toast(message)
    st.rerun()


def _upload_copy(upload: Any) -> Path:
    """Keep one temporary copy of the uploaded file for detection and import (not one per rerun)."""
    key = hashlib.sha1(f"{upload.file_id}".encode(), usedforsecurity=False).hexdigest()[:16]
    saved = st.session_state.get(DKeys.UPLOAD_TMP)
    if saved and saved[0] == key and Path(saved[1]).exists():
        return Path(saved[1])
    datasets.check_size(upload.size, what=f"The file {upload.name}")
    target = storage.area("tmp") / f"upload-{key}"
    target.write_bytes(upload.getvalue())
    st.session_state[DKeys.UPLOAD_TMP] = (key, str(target))
    return target


def _file_import() -> None:
    nonce = st.session_state.setdefault(Keys.UPLOAD_NONCE, 0)
    upload = st.file_uploader("Data file", type=FILE_TYPES, key=f"upload-{nonce}",
                              help="CSV/TSV/TXT, Excel, JSON, Parquet, Feather, or one of them in .gz / .zip")
    name = st.text_input("Dataset name (optional)", key="upload-name")
    if upload is None:
        return
    with guard():
        tmp = _upload_copy(upload)
        found = datasets.detect_file(tmp, upload.name)
        options = _file_options(found)
        if st.button("Import", type="primary", key="upload-import"):
            with st.spinner("Importing…"):
                ds = datasets.ingest_file(tmp, name=name or None, filename=upload.name, **options)
            tmp.unlink(missing_ok=True)
            st.session_state.pop(DKeys.UPLOAD_TMP, None)
            st.session_state[Keys.UPLOAD_NONCE] = nonce + 1
            _select_new(ds, f"Imported {ds.name}: {ds.rows:,} rows")


def _file_options(found: Any) -> dict[str, Any]:
    """Show what was detected and let the analyst override it; return the options to import with."""
    for note in found.notes:
        st.info(note)
    if found.csv is not None:
        return _csv_options(found.csv)
    if found.format in ("excel", "xls"):
        opts: dict[str, Any] = {}
        if found.encrypted:
            opts["password"] = st.text_input("Workbook password", type="password", key="upload-password")
        if found.sheets:
            opts["sheet"] = st.selectbox("Sheet", found.sheets, key="upload-sheet")
        opts["header"] = st.checkbox("First row is the header", value=True, key="upload-xls-header")
        return opts
    if found.format == "zip" and len(found.members) > 1:
        return {"member": st.selectbox("File in the archive", found.members, key="upload-member")}
    st.caption(f"Detected format: **{found.format}**")
    return {}


def _csv_options(csv: Any) -> dict[str, Any]:
    st.caption(f"Detected: delimiter **{DELIMITERS.get(csv.delimiter, csv.delimiter)}**, encoding "
               f"**{csv.encoding}**, header **{'yes' if csv.header else 'no'}**, decimal **{csv.decimal}** "
               "— change anything that is wrong:")
    c1, c2, c3, c4, c5 = st.columns(5)
    delims = list(DELIMITERS) + ([csv.delimiter] if csv.delimiter not in DELIMITERS else [])
    delimiter = c1.selectbox("Delimiter", delims, index=delims.index(csv.delimiter),
                             format_func=lambda d: DELIMITERS.get(d, repr(d)), key="upload-delimiter")
    encs = ENCODINGS + ([csv.encoding] if csv.encoding not in ENCODINGS else [])
    encoding = c2.selectbox("Encoding", encs, index=encs.index(csv.encoding), key="upload-encoding")
    decimal = c3.selectbox("Decimal", [".", ","], index=[".", ","].index(csv.decimal), key="upload-decimal")
    header = c4.checkbox("Header row", value=csv.header, key="upload-header")
    skip = c5.checkbox("Skip bad rows", value=False, key="upload-skip-bad")
    return {"delimiter": delimiter, "encoding": encoding, "decimal": decimal, "header": header,
            "quotechar": csv.quotechar, "skip_bad_rows": skip}


def _url_import() -> None:
    s = get_settings()
    url = st.text_input("URL (http or https)", key="url-input", placeholder="https://example.org/data.csv")
    name = st.text_input("Dataset name (optional)", key="url-name")
    st.caption(f"At most {s.max_upload_mb} MB, {s.url_timeout_s:g} s and {s.url_max_redirects} redirects; "
               "the type is detected from the content.")
    if st.button("Import URL", type="primary", key="url-import", disabled=not url):
        with guard(), st.spinner("Downloading…"):
            ds = datasets.import_url(url, name=name or None)
            _select_new(ds, f"Imported {ds.name}: {ds.rows:,} rows")


def _kaggle_import() -> None:
    s = get_settings()
    if not s.kaggle_username or not s.kaggle_key:
        st.info("Set KAGGLE_USERNAME and KAGGLE_KEY (kaggle.com > Settings > API > Create new token) to import "
                "from Kaggle.")
        return
    slug = st.text_input("Dataset (owner/dataset-name)", key="kaggle-slug")
    files = st.session_state.get(DKeys.KAGGLE_FILES, {}).get(slug)
    if st.button("List files", key="kaggle-list", disabled=not slug):
        with guard(), st.spinner("Asking Kaggle…"):
            files = importers.kaggle_files(slug)
            st.session_state[DKeys.KAGGLE_FILES] = {slug: files}
    if not files:
        return
    chosen = st.selectbox("File", files, key="kaggle-file")
    name = st.text_input("Dataset name (optional)", key="kaggle-name")
    if st.button("Import from Kaggle", type="primary", key="kaggle-import"):
        with guard(), st.spinner("Downloading from Kaggle…"):
            ds = datasets.import_kaggle(slug, file=chosen, name=name or None)
            _select_new(ds, f"Imported {ds.name}: {ds.rows:,} rows")


def _database_import() -> None:
    saved = connections.list_connections()
    with st.popover("New connection"):
        _new_connection()
    if not saved:
        st.info("No saved database connections yet: add one with 'New connection'.")
        return
    names = {str(c.id): f"{c.name} ({c.kind} {c.host or c.database})" for c in saved}
    conn_id = st.selectbox("Connection", list(names), format_func=names.get, key="db-connection")
    conn = next(c for c in saved if str(c.id) == conn_id)
    passwords = st.session_state.setdefault(DKeys.DB_PASSWORDS, {})
    if conn.kind != "sqlite":
        hint = f"Empty: taken from ${conn.password_env}" if conn.password_env else "Kept for this session only"
        passwords[conn_id] = st.text_input("Password", type="password", key=f"db-password-{conn_id}", help=hint) or None
    password = passwords.get(conn_id)
    source = st.radio("Import", ["A table", "A query"], horizontal=True, key="db-source")
    table = query = None
    if source == "A table":
        if st.button("List tables", key="db-list"):
            with guard():
                st.session_state[DKeys.DB_TABLES] = {conn_id: connections.list_tables(conn, password=password)}
        tables = st.session_state.get(DKeys.DB_TABLES, {}).get(conn_id, [])
        if tables:
            role_warning_box(conn, password)  # the login could write: advise a SELECT-only role
        table = st.selectbox("Table", tables, key="db-table") if tables else None
    else:
        query = st.text_area("Read-only query", key="db-query", placeholder="SELECT * FROM sales WHERE year = 2024")
    c1, c2 = st.columns(2)
    limit = c1.number_input("Row limit", 1, 50_000_000, connections.DEFAULT_LIMIT, step=10_000, key="db-limit")
    name = c2.text_input("Dataset name (optional)", key="db-name")
    if st.button("Import from database", type="primary", key="db-import", disabled=not (table or query)):
        with guard():
            if query:
                connections.check_read_only(query, conn.kind)
            secret = secret_box.put(password) if password else None
            job = jobs.submit("datasets.import_database", title=f"Import from {conn.name}", connection_id=conn_id,
                              table=table, query=query, name=name or None, limit=int(limit), secret=secret)
            st.session_state[DKeys.DB_JOB] = str(job.id)
    _database_job()


def _database_job() -> None:
    job_id = st.session_state.get(DKeys.DB_JOB)
    if not job_id:
        return
    with guard():
        job = job_panel(job_id, key="db-import")
        if job.status == "succeeded" and job.result:
            st.success(f"Imported {job.result['name']}: {job.result['rows']:,} rows.")
            st.session_state[Keys.DATASET_ID] = job.result["dataset_id"]


def _new_connection() -> None:
    with st.form("db-new", clear_on_submit=True):
        name = st.text_input("Name", key="dbn-name")
        kind = st.selectbox("Kind", list(connections.KINDS), key="dbn-kind")
        host = st.text_input("Host", key="dbn-host")
        port = st.number_input("Port (0 = default)", 0, 65535, 0, key="dbn-port")
        database = st.text_input("Database (file path for SQLite)", key="dbn-database")
        user = st.text_input("User", key="dbn-user")
        env = st.text_input("Password environment variable (optional)", key="dbn-env",
                            help="The password is never stored: name a variable that holds it, or type it per session.")
        if st.form_submit_button("Save connection"):
            with guard():
                connections.save_connection(name, kind, host=host, port=int(port) or None, database=database,
                                            user=user, password_env=env)
                st.rerun()


# ---------------------------------------------------------------- understand

def header(ds: Dataset) -> None:
    st.caption(f"{ds.rows:,} rows × {ds.columns} columns · version {ds.version} · "
               f"{ds.size_bytes / 1024:,.1f} KB as Parquet · {ds.source}: {ds.source_detail}")
    for note in ds.notes or []:
        st.info(note, icon="ℹ️")


def preview_tab(ds: Dataset) -> None:
    names = [c["name"] for c in ds.schema_]
    c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
    sort_by = c1.selectbox("Sort by", ["(file order)", *names], key="preview-sort")
    descending = c2.toggle("Descending", key="preview-desc")
    size = c3.selectbox("Rows per page", PAGE_SIZES, index=1, key="preview-size")
    where = st.text_input("Filter rows (expression)", key="preview-where", placeholder="price > 10 AND region = 'north'")
    total = datasets.count_rows(ds.id, where=where or None)
    pages = max(1, -(-total // size))
    page = c4.number_input("Page", min_value=1, max_value=pages, value=1, key="preview-page")
    frame = datasets.preview(ds.id, offset=(page - 1) * size, limit=size, where=where or None,
                             sort_by=None if sort_by == "(file order)" else sort_by, descending=descending)
    st.dataframe(frame, width="stretch", hide_index=True, key="preview-table")
    st.caption(f"Rows {(page - 1) * size + 1:,}–{min(page * size, total):,} of {total:,}"
               + (f" matching the filter (of {ds.rows:,})" if where else ""))


@st.cache_data(show_spinner=False, max_entries=32)
def _column_info(dataset_id: str, version: int) -> pd.DataFrame:
    rows = [c.model_dump() for c in eda.column_info(dataset_id)]
    frame = pd.DataFrame(rows)
    frame["examples"] = frame["examples"].map(lambda v: ", ".join(v))
    return frame


def columns_tab(ds: Dataset) -> None:
    st.dataframe(_column_info(str(ds.id), ds.version), width="stretch", hide_index=True, key="columns-table",
                 column_config={"missing_pct": st.column_config.ProgressColumn("missing %", min_value=0,
                                                                               max_value=100, format="%.1f")})
    st.caption("Distinct counts are approximate (HyperLogLog) above a few thousand values; the profile is exact "
               "for identifiers.")


def profile_tab(ds: Dataset) -> None:
    job_key = f"{Keys.PROFILE_JOB}-{ds.id}-{ds.version}"
    cached = eda.cached_profile(ds.id)
    label = "Profile again" if cached else "Profile"
    if st.button(label, type="primary", key="profile-run"):
        job = jobs.submit("profile", title=f"Profile {ds.name}", dataset_id=str(ds.id), refresh=bool(cached))
        st.session_state[job_key] = str(job.id)
    job_id = st.session_state.get(job_key)
    if job_id:
        job = job_panel(job_id, key="profile")
        if job.status == "succeeded" and job.result:
            cached = eda.cached_profile(ds.id)
    if cached is None:
        st.info("Run a profile to see each column's type, missing values, distinct values, statistics, "
                "histograms, top values, correlations and alerts.")
        return
    _render_profile(cached)


def _render_profile(prof: eda.Profile) -> None:
    st.success(f"Profiled {prof.rows:,} rows and {len(prof.columns)} columns.")
    m = st.columns(4)
    m[0].metric("Rows", f"{prof.rows:,}")
    m[1].metric("Duplicate rows", f"{prof.duplicate_rows:,}", f"{prof.duplicate_pct:g}%", delta_color="off")
    m[2].metric("Memory (Arrow)", f"{prof.memory_bytes / 1024 / 1024:,.1f} MB")
    m[3].metric("Computed in", f"{prof.seconds:.2f} s")
    table = pd.DataFrame([c.model_dump(exclude={"histogram", "top_values", "examples"}) for c in prof.columns])
    st.dataframe(table, width="stretch", hide_index=True, key="profile-table")
    if prof.alerts:
        with st.expander(f"Alerts ({len(prof.alerts)})", expanded=True):
            for a in prof.alerts:
                icon = {"error": "🛑", "warning": "⚠️"}.get(a.severity, "ℹ️")
                st.markdown(f"{icon} **{a.kind.replace('_', ' ')}** — {a.message}")
    st.plotly_chart(px.bar(table, x="name", y="missing_pct", title="Missing values per column (%)"), width="stretch")
    _column_detail(prof)
    _correlations(prof)


def _column_detail(prof: eda.Profile) -> None:
    name = st.selectbox("Column detail", [c.name for c in prof.columns], key="profile-column")
    col = prof.column(name)
    left, right = st.columns(2)
    if col.histogram:
        hist = pd.DataFrame([b.model_dump() for b in col.histogram])
        left.plotly_chart(px.bar(hist, x="start", y="count", title=f"Distribution of {name}"), width="stretch")
    if col.top_values:
        top = pd.DataFrame([v.model_dump() for v in col.top_values])
        top["value"] = top["value"].astype(str)
        right.plotly_chart(px.bar(top, x="count", y="value", orientation="h", title=f"Top values of {name}"),
                           width="stretch")
    facts = {k: v for k, v in col.model_dump(exclude={"histogram", "top_values"}).items() if v not in (None, [], "")}
    st.json(facts, expanded=False)


def _correlations(prof: eda.Profile) -> None:
    methods = sorted({c.method for c in prof.correlations})
    if not methods:
        return
    method = st.segmented_control("Correlation", methods, default=methods[0], key="profile-corr",
                                  format_func=lambda m: m.replace("_", " "))
    matrix = pd.DataFrame(prof.matrix(method or methods[0]))
    if not matrix.empty:
        matrix = matrix.reindex(index=matrix.columns)
        st.plotly_chart(px.imshow(matrix, text_auto=".2f", zmin=-1, zmax=1, color_continuous_scale="RdBu_r",
                                  title=f"{(method or methods[0]).replace('_', ' ')} correlation"), width="stretch")
    if prof.spearman_sample_rows and prof.spearman_sample_rows < prof.rows:
        st.caption(f"Spearman on a sample of {prof.spearman_sample_rows:,} rows; other measures use every row.")


# ---------------------------------------------------------------- clean with versions

def clean_tab(ds: Dataset) -> None:
    names = [c["name"] for c in ds.schema_]
    op = st.selectbox("Step", list(OPS), format_func=OPS.get, key="clean-op")
    step = {"op": op, **_step_form(op, names)}
    c1, c2 = st.columns(2)
    if c1.button("Preview step", key="clean-preview"):
        with guard():
            st.session_state[DKeys.STEP_PREVIEW] = cleaning.preview_step(ds.id, step)
    if c2.button("Apply step (new version)", type="primary", key="clean-apply"):
        with guard():
            new = cleaning.apply_step(ds.id, step)
            st.session_state.pop(DKeys.STEP_PREVIEW, None)
            st.toast(f"Version {new.version}: {new.rows:,} rows × {new.columns} columns")
            st.rerun()
    preview = st.session_state.get(DKeys.STEP_PREVIEW)
    if isinstance(preview, pd.DataFrame):
        st.dataframe(preview, width="stretch", hide_index=True, key="clean-preview-table")
    _history(ds)


def _step_form(op: str, names: list[str]) -> dict[str, Any]:
    key = f"clean-{op}"
    if op == "drop":
        return {"columns": st.multiselect("Columns to drop", names, key=f"{key}-columns")}
    if op == "rename":
        old = st.selectbox("Column", names, key=f"{key}-column")
        return {"mapping": {old: st.text_input("New name", key=f"{key}-name")}}
    if op == "cast":
        return {"column": st.selectbox("Column", names, key=f"{key}-column"),
                "to": st.selectbox("New type", list(cleaning.CAST_TYPES), key=f"{key}-to"),
                "on_error": "null" if st.checkbox("Set values that do not convert to empty", key=f"{key}-null")
                else "fail"}
    if op == "fill":
        column = st.selectbox("Column", names, key=f"{key}-column")
        method = st.selectbox("With", cleaning.FILL_METHODS, key=f"{key}-method")
        value = st.text_input("Value", key=f"{key}-value") if method == "value" else None
        return {"column": column, "method": method, "value": value}
    if op == "drop_missing":
        return {"columns": st.multiselect("Missing in (empty: any column)", names, key=f"{key}-columns"),
                "how": st.radio("Drop when", ["any", "all"], horizontal=True, key=f"{key}-how")}
    if op == "filter":
        return {"expression": st.text_input("Keep rows where", key=f"{key}-expr", placeholder="price > 0")}
    if op == "dedupe":
        return {"columns": st.multiselect("Compare (empty: all columns)", names, key=f"{key}-columns")}
    if op == "derive":
        return {"name": st.text_input("New column", key=f"{key}-name"),
                "expression": st.text_input("Expression (DuckDB)", key=f"{key}-expr", placeholder="price * quantity")}
    if op == "one_hot":
        return {"column": st.selectbox("Column", names, key=f"{key}-column"),
                "max_categories": st.number_input("Most categories", 1, 200, 20, key=f"{key}-max")}
    return {"column": st.selectbox("Column", names, key=f"{key}-column"),
            "bins": st.number_input("Bins", 2, 100, 5, key=f"{key}-bins"),
            "method": st.radio("Bins of", ["width", "quantile"], horizontal=True, key=f"{key}-method")}


def _history(ds: Dataset) -> None:
    st.subheader("History")
    rows = versions.history(ds.id)
    table = pd.DataFrame([{"version": v.version, "current": "✅" if v.version == ds.version else "",
                           "step": v.summary, "rows": v.rows, "columns": v.columns, "from": v.parent,
                           "created": v.created} for v in rows])
    st.dataframe(table, width="stretch", hide_index=True, key="history-table")
    numbers = [v.version for v in rows]
    if len(numbers) < 2:
        return
    c1, c2 = st.columns(2)
    target = c1.selectbox("Roll back to version", numbers, index=0, key="rollback-version")
    if c1.button("Roll back", key="rollback-run", disabled=target == ds.version):
        with guard():
            versions.rollback(ds.id, target)
            st.toast(f"Version {target} is current again")
            st.rerun()
    a = c2.selectbox("Compare version", numbers, index=max(0, numbers.index(ds.version) - 1), key="diff-a")
    b = c2.selectbox("with version", numbers, index=numbers.index(ds.version), key="diff-b")
    with guard():
        _diff(versions.diff(ds.id, a, b))


def _diff(d: versions.VersionDiff) -> None:
    retyped = ", ".join(f"{r['column']} ({r['before']} → {r['after']})" for r in d.retyped) or "—"
    st.markdown(f"**Rows** {d.rows_a:,} → {d.rows_b:,} · **added** {', '.join(d.added) or '—'} · "
                f"**removed** {', '.join(d.removed) or '—'} · **retyped** {retyped}")
    if d.changes:
        st.dataframe(pd.DataFrame([c.model_dump() for c in d.changes]).astype(str), width="stretch", hide_index=True,
                     key="diff-table")


# ---------------------------------------------------------------- export

def export_tab(ds: Dataset) -> None:
    numbers = [v.version for v in versions.history(ds.id)]
    c1, c2 = st.columns(2)
    version = c1.selectbox("Version", numbers, index=numbers.index(ds.version), key="export-version")
    fmt = c2.segmented_control("Format", list(EXPORT_LABELS), default="csv", format_func=EXPORT_LABELS.get,
                               key="export-format") or "csv"
    where = st.text_input("Only rows where (optional)", key="export-where")
    names = [c["name"] for c in versions.get_version(ds.id, version).schema_]
    columns = st.multiselect("Columns (empty: all)", names, key="export-columns")
    if st.button("Prepare download", key="export-prepare"):
        with guard(), st.spinner("Preparing…"):
            st.session_state[DKeys.EXPORT] = (str(ds.id), export.export(
                ds.id, fmt, version=version, where=where or None, columns=columns or None))
    ready = st.session_state.get(DKeys.EXPORT)
    if ready and ready[0] == str(ds.id):
        file = ready[1]
        st.download_button(f"Download {file.filename} ({file.rows:,} rows)", file.data, file_name=file.filename,
                           mime=file.mime, key="export-download", type="primary")
        st.caption("Text cells starting with =, +, - or @ are neutralised so spreadsheets do not run them.")


def delete_section(ds: Dataset) -> None:
    with st.expander("Delete this dataset"):
        st.caption("Removes the dataset, every version and its files.")
        if st.button("Delete", key="delete-dataset"):
            with guard():
                datasets.delete_dataset(ds.id)
                st.session_state.pop(Keys.DATASET_ID, None)
                st.rerun()
