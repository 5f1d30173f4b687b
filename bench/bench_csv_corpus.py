"""CSV/TSV files from the wild: our importer against DuckDB's own reader and the previous importer, same run.

    .venv/bin/python bench/bench_csv_corpus.py [--quick] [--corpus DIR] [--split all|tune|holdout] [--show N]

Corpus: several hundred real files from public test-data folders and data repositories, built outside
the repository by `bench/build_csv_corpus.py` (skipped with a message when it is not there), split
into `tune/` and a `holdout/` part not looked at while tuning. For every file:
- DuckDB: does `read_csv(file)` with its own sniffer read it, and how many rows;
- ours: `core.readers.read` with no option, then (if that fails) with each override the import
  preview offers (skip bad rows, quote none, header no, another delimiter...) until one reads it;
- baseline: the importer as it was before this change (pyarrow and a home-made sniffer), loaded from
  git commit BASELINE_COMMIT, with no option;
- rows: a silent loss is a file read with fewer rows than DuckDB reads, or than a rectangular quote-free
  reading holds, with no note that speaks of lines or rows.
Reports, for all files and for the hold-out part: % of DuckDB-readable files imported with no option and
with the offered options, silent-loss count (goal 0), against the baseline's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BASELINE_COMMIT = "36bf089"  # main before DuckDB became the CSV reader
OVERRIDES = [{"skip_bad_rows": True}, {"quotechar": "none"}, {"header": False}, {"quotechar": "none", "skip_bad_rows": True},
             {"encoding": "cp1252"}, *({"delimiter": d, "skip_bad_rows": True} for d in (",", ";", "\t", "|", " "))]
ROW_WORDS = ("line", "row", "quot", "preamble", "footer", "skipped", "left out")


def load_baseline() -> types.ModuleType | None:
    """The previous `sniff` + `csvfile` modules from git, as one module with `read(path)`; None when git has none."""
    try:
        sniff = subprocess.run(["git", "show", f"{BASELINE_COMMIT}:core/readers/sniff.py"], cwd=ROOT,
                               capture_output=True, check=True, text=True).stdout
        csvfile = subprocess.run(["git", "show", f"{BASELINE_COMMIT}:core/readers/csvfile.py"], cwd=ROOT,
                                 capture_output=True, check=True, text=True).stdout
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"baseline not available ({exc}); the baseline columns are left empty")
        return None
    mod_sniff = types.ModuleType("baseline_sniff")
    # our own previous source, read from this repository's git history (never downloaded or generated text)
    exec(compile(sniff, "baseline_sniff.py", "exec"), mod_sniff.__dict__)
    sys.modules["baseline_sniff"] = mod_sniff
    mod = types.ModuleType("baseline_csvfile")
    exec(compile(csvfile.replace("from core.readers.sniff import", "from baseline_sniff import"),
                 "baseline_csvfile.py", "exec"), mod.__dict__)
    mod.sniff_format = mod_sniff.sniff_format
    return mod


def baseline_read(base: types.ModuleType, path: Path) -> tuple[int, list[str]]:
    from core.readers.tables import normalise

    fmt = base.sniff_format(path, path.name)
    if fmt != "csv":
        raise ValueError(f"sniffed as {fmt}")
    notes: list[str] = []
    table = normalise(base.read_csv(path, path.name, notes), notes, path.name)
    return table.num_rows, notes


def duckdb_rows(path: Path) -> int | None:
    import duckdb

    con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB", "autoload_known_extensions": False})
    try:
        return con.execute("SELECT count(*) FROM read_csv(?, compression='none')", [str(path)]).fetchall()[0][0]
    except duckdb.Error:
        return None
    finally:
        con.close()


def quote_free_rows(path: Path) -> int | None:
    """Rows of a quote-free reading when every line has the header's number of fields, of two or more (else None:
    a one-column file is rectangular whatever its quoting says)."""
    import duckdb

    con = duckdb.connect(config={"threads": 2, "memory_limit": "1GB"})
    try:
        rel = "read_csv(?, quote='', escape='', compression='none', store_rejects=true)"
        count = con.execute(f"SELECT count(*) FROM {rel}", [str(path)]).fetchall()[0][0]
        bad = con.execute("SELECT count(*) FROM reject_errors").fetchall()[0][0]
        width = len(con.execute(f"DESCRIBE SELECT * FROM {rel}", [str(path)]).fetchall())
        return count if bad == 0 and width >= 2 else None
    except duckdb.Error:
        return None
    finally:
        con.close()


def ours_read(path: Path, options: dict) -> tuple[int, list[str]]:
    from core import readers

    result = readers.read(path, filename=path.name, **options)
    if result.format != "csv":
        raise ValueError(f"sniffed as {result.format}")
    return result.table.num_rows, result.notes


def attempt(fn, *args) -> tuple[int | None, list[str], str]:
    try:
        rows, notes = fn(*args)
        return rows, notes, ""
    except Exception as exc:  # the bench records every failure, whatever its kind
        return None, [], f"{type(exc).__name__}: {str(exc)[:120]}"


def silent_loss(rows: int | None, notes: list[str], reference: int | None) -> bool:
    if rows is None or reference is None or rows >= reference:
        return False
    return not any(word in n.lower() for n in notes for word in ROW_WORDS)


def measure(path: Path, base: types.ModuleType | None) -> dict:
    duck = duckdb_rows(path)
    free = quote_free_rows(path)
    reference = max([r for r in (duck, free) if r is not None], default=None)
    rows, notes, error = attempt(ours_read, path, {})
    used = None
    if rows is None:
        for option in OVERRIDES:
            r, n, _e = attempt(ours_read, path, option)
            if r is not None:
                used, rows_opt, notes_opt = option, r, n
                break
    record = {"file": path.name, "split": path.parent.name, "duckdb": duck, "reference": reference, "ours": rows,
              "ours_error": error, "ours_loss": silent_loss(rows, notes, reference), "override": used,
              "override_loss": silent_loss(rows_opt, notes_opt, reference) if used else False}
    if base is not None:
        b_rows, b_notes, b_error = attempt(baseline_read, base, path)
        record.update(baseline=b_rows, baseline_error=b_error, baseline_loss=silent_loss(b_rows, b_notes, reference))
    return record


def summary(records: list[dict], label: str, *, with_rows: bool = False) -> None:
    """One line of figures; `with_rows` counts only files DuckDB reads with at least one row (a dataset needs one)."""
    readable = [r for r in records if r["duckdb"] is not None and (r["duckdb"] > 0 or not with_rows)]
    n = len(readable) or 1
    ours = sum(r["ours"] is not None for r in readable)
    with_options = sum(r["ours"] is not None or r["override"] is not None for r in readable)
    loss = sum(r["ours_loss"] or r["override_loss"] for r in records)
    what = "DuckDB reads >=1 row" if with_rows else "DuckDB reads"
    line = (f"{label:9s} files {len(records):4d}, {what} {len(readable):4d} | ours: no option {100 * ours / n:5.1f}%"
            f", with offered options {100 * with_options / n:5.1f}%, silent loss {loss}")
    if "baseline" in records[0]:
        base = sum(r["baseline"] is not None for r in readable)
        base_loss = sum(r["baseline_loss"] for r in records)
        line += f" | baseline: no option {100 * base / n:5.1f}%, silent loss {base_loss}"
    print(line)


def main() -> int:
    from bench.build_csv_corpus import default_out

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_out())
    parser.add_argument("--quick", action="store_true", help="every 6th file only")
    parser.add_argument("--split", choices=["all", "tune", "holdout"], default="all")
    parser.add_argument("--show", type=int, default=15, help="list this many files we fail or lose rows on")
    args = parser.parse_args()
    files = sorted(p for p in args.corpus.glob("*/*") if p.is_file() and (args.split == "all" or p.parent.name == args.split))
    if not files:
        print(f"no corpus at {args.corpus}: run `python -m bench.build_csv_corpus` after fetching the snapshots; skipped")
        return 0
    if args.quick:
        files = files[::6]
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="bench-csv-"))
    os.environ.setdefault("DATABASE_URL", "")
    import logging

    logging.disable(logging.CRITICAL)
    base = load_baseline()
    started = time.time()
    records = []
    for i, p in enumerate(files, start=1):
        records.append(measure(p, base))
        if i % 100 == 0:
            print(f"  {i}/{len(files)} files, {time.time() - started:.0f} s", flush=True)
    print(f"{len(records)} files in {time.time() - started:.0f} s")
    held = [r for r in records if r["split"] == "holdout"]
    for with_rows in (False, True):
        summary(records, "all", with_rows=with_rows)
        if held:
            summary(held, "hold-out", with_rows=with_rows)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "csv_corpus.json").write_text(json.dumps(records, indent=1, default=str))
    bad = [r for r in records if r["duckdb"] is not None and ((r["ours"] is None and r["override"] is None)
                                                               or r["ours_loss"] or r["override_loss"])]
    for r in bad[: args.show]:
        print(f"  miss {r['file'][:70]}: duckdb {r['duckdb']}, ours {r['ours']} {r['ours_error'][:90]}"
              f"{' (silent loss)' if r['ours_loss'] else ''}")
    needs = [r for r in records if r["ours"] is None and r["override"] is not None]
    for r in needs[: args.show]:
        print(f"  needs {r['override']}: {r['file'][:70]} ({r['ours_error'][:80]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
