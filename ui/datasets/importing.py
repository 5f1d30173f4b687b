"""The Datasets page's import section: a file (with detected options to override), a URL or Kaggle;
databases are in `ui.datasets.database`. A finished import becomes the selected dataset."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import streamlit as st

from core import datasets, storage
from core.config import get_settings
from core.datasets import importers
from core.datasets.images import import_image_zip
from core.models import Dataset
from ui.datasets.database import database_import
from ui.errors import guard
from ui.safe import escape_markdown, sanitize_reply
from ui.state import DatasetKeys, Keys

FILE_TYPES = ["csv", "tsv", "txt", "xlsx", "xlsm", "xls", "json", "jsonl", "ndjson", "parquet", "feather", "arrow",
              "gz", "zip"]
DELIMITERS = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1", "cp932", "gb18030"]
QUOTES = {'"': 'double "', "'": "single '", "none": "none"}
ESCAPES = {"": "doubled quote", "\\": "backslash \\", "none": "none"}


def import_section(*, expanded: bool) -> None:
    with st.expander("Import data", expanded=expanded):
        file_tab, images_tab, url_tab, kaggle_tab, db_tab = st.tabs(["File", "Images", "URL", "Kaggle", "Database"])
        with file_tab:
            _file_import()
        with images_tab:
            _images_import()
        with url_tab:
            _url_import()
        with kaggle_tab:
            _kaggle_import()
        with db_tab:
            database_import()


def _images_import() -> None:
    """A zip of class-named folders (cats/…, dogs/…) becomes an image dataset for deep learning."""
    upload = st.file_uploader("A zip with one folder of images per class", type=["zip"], key="import-images")
    if upload is not None and st.button("Import images", type="primary", key="import-images-run"):
        with guard():
            ds = import_image_zip(upload.getvalue(), upload.name)  # its notes show with the dataset
            select_new(ds, f"Imported {ds.rows:,} images as {ds.name}: train a CNN on the Models page.")


def select_new(ds: Dataset, message: str) -> None:
    """Make a new dataset the selected one (the picker follows) and rerun."""
    st.session_state[Keys.DATASET_ID] = str(ds.id)
    st.toast(escape_markdown(message))
    st.rerun()


def _upload_copy(upload: Any) -> Path:
    """Keep one temporary copy of the uploaded file for detection and import (not one per rerun)."""
    key = hashlib.sha1(f"{upload.file_id}".encode(), usedforsecurity=False).hexdigest()[:16]
    saved = st.session_state.get(DatasetKeys.UPLOAD_TMP)
    if saved and saved[0] == key and Path(saved[1]).exists():
        return Path(saved[1])
    datasets.check_size(upload.size, what=f"The file {upload.name}")
    target = storage.area("tmp") / f"upload-{key}"
    target.write_bytes(upload.getvalue())
    st.session_state[DatasetKeys.UPLOAD_TMP] = (key, str(target))
    return target


def _file_import() -> None:
    nonce = st.session_state.setdefault(Keys.UPLOAD_NONCE, 0)
    upload = st.file_uploader("Data file", type=FILE_TYPES, key=f"upload-{nonce}",
                              max_upload_size=get_settings().max_upload_mb,
                              help="CSV/TSV/TXT, Excel, JSON, Parquet, Feather, or one of them in .gz / .zip")
    name = st.text_input("Dataset name (optional)", key="upload-name")
    if upload is None:
        return
    with guard():
        tmp = _upload_copy(upload)
        saved = st.session_state.get(DatasetKeys.UPLOAD_CSV_OPTIONS)
        overrides = saved[1] if saved and saved[0] == upload.file_id else {}  # a new file starts from detection
        found = datasets.detect_file(tmp, upload.name, **overrides)
        options = _file_options(found)
        if found.csv is not None and options != overrides:
            st.session_state[DatasetKeys.UPLOAD_CSV_OPTIONS] = (upload.file_id, options)
            st.rerun()  # the preview follows the options the analyst chose
        if st.button("Import", type="primary", key="upload-import"):
            with st.spinner("Importing…"):
                ds = datasets.ingest_file(tmp, name=name or None, filename=upload.name, **options)
            tmp.unlink(missing_ok=True)
            st.session_state.pop(DatasetKeys.UPLOAD_TMP, None)
            st.session_state[Keys.UPLOAD_NONCE] = nonce + 1
            select_new(ds, f"Imported {ds.name}: {ds.rows:,} rows")


def _file_options(found: Any) -> dict[str, Any]:
    """Show what was detected and let the analyst override it; return the options to import with."""
    for note in found.notes:
        st.info(sanitize_reply(note))
    if found.csv is not None:
        options = _csv_options(found.csv)
        csv_preview(found)
        return options
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
    d1, d2, d3, d4 = st.columns(4)
    quotes = list(QUOTES)
    quote = d1.selectbox("Quote", quotes, index=quotes.index(csv.quotechar or "none") if (csv.quotechar or "none")
                         in quotes else 0, format_func=QUOTES.get, key="upload-quote")
    escapes = list(ESCAPES)
    escape = d2.selectbox("Escape", escapes, index=escapes.index(csv.escape) if csv.escape in escapes else 0,
                          format_func=ESCAPES.get, key="upload-escape")
    comment = d3.text_input("Comment character", value=csv.comment, max_chars=1, key="upload-comment")
    skip_rows = d4.number_input("Skip rows", min_value=0, max_value=1_000_000, value=csv.skip_rows, step=1,
                                key="upload-skip-rows")
    return {"delimiter": delimiter, "encoding": encoding, "decimal": decimal, "header": header,
            "quotechar": quote, "escape": escape or "none" if quote != "none" else "none",
            "comment": comment or "none", "skip_rows": int(skip_rows), "skip_bad_rows": skip}


def csv_preview(found: Any) -> None:
    """The first rows as they will be imported (the notes are shown above them)."""
    if found.preview:
        st.dataframe(found.preview, hide_index=True, key="upload-preview")


def _url_import() -> None:
    s = get_settings()
    url = st.text_input("URL (http or https)", key="url-input", placeholder="https://example.org/data.csv")
    name = st.text_input("Dataset name (optional)", key="url-name")
    st.caption(f"At most {s.max_upload_mb} MB, {s.url_timeout_s:g} s and {s.url_max_redirects} redirects; "
               "the type is detected from the content.")
    if st.button("Import URL", type="primary", key="url-import", disabled=not url):
        with guard(), st.spinner("Downloading…"):
            ds = datasets.import_url(url, name=name or None)
            select_new(ds, f"Imported {ds.name}: {ds.rows:,} rows")


def _kaggle_import() -> None:
    s = get_settings()
    if not s.kaggle_username or not s.kaggle_key:
        st.info("Set KAGGLE_USERNAME and KAGGLE_KEY (kaggle.com > Settings > API > Create new token) to import "
                "from Kaggle.")
        return
    slug = st.text_input("Dataset (owner/dataset-name)", key="kaggle-slug")
    files = st.session_state.get(DatasetKeys.KAGGLE_FILES, {}).get(slug)
    if st.button("List files", key="kaggle-list", disabled=not slug):
        with guard(), st.spinner("Asking Kaggle…"):
            files = importers.kaggle_files(slug)
            st.session_state[DatasetKeys.KAGGLE_FILES] = {slug: files}
    if not files:
        return
    chosen = st.selectbox("File", files, key="kaggle-file")
    name = st.text_input("Dataset name (optional)", key="kaggle-name")
    if st.button("Import from Kaggle", type="primary", key="kaggle-import"):
        with guard(), st.spinner("Downloading from Kaggle…"):
            ds = datasets.import_kaggle(slug, file=chosen, name=name or None)
            select_new(ds, f"Imported {ds.name}: {ds.rows:,} rows")
