"""Build the corpus of real CSV/TSV files for `bench_csv_corpus.py` from fetched snapshots of public repositories.

The files come from public projects' test-data folders and data repositories (DuckDB's data/csv,
frictionless, csvkit, csv-spectrum, messytables, CleverCSV, readr, polars, rust-csv, node-csv, and real
data sets from fivethirtyeight, Rdatasets, plotly and vega). Nothing of it is committed: the corpus
lives outside the repository (CSV_CORPUS, default /work/wt/corpus-csv), split by a hash of each file's
name into `tune/` (70%) and `holdout/` (30%, never looked at while tuning the reader).

    python -m bench.build_csv_corpus [--mirror /work/.mirror] [--out DIR]

A snapshot that is not present is skipped with a message.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

MAX_BYTES = 2 * 1024 * 1024
EXTENSIONS = (".csv", ".tsv", ".tab", ".psv", ".txt")
# (repository, folder prefix, most files taken from it: a seeded sample when there are more)
SOURCES = [
    ("duckdb/duckdb", "data/csv/", 330),
    ("frictionlessdata/frictionless-py", "data/", 120),
    ("wireservice/csvkit", "examples/", 80),
    ("maxogden/csv-spectrum", "csvs/", 20),
    ("okfn/messytables", "horror/", 30),
    ("alan-turing-institute/CleverCSV", "", 10),
    ("tidyverse/readr", "", 30),
    ("pola-rs/polars", "", 40),
    ("BurntSushi/rust-csv", "", 20),
    ("adaltas/node-csv", "", 20),
    ("apache/arrow-testing", "", 10),
    ("fivethirtyeight/data", "", 120),
    ("vincentarelbundock/Rdatasets", "csv/", 80),
    ("plotly/datasets", "", 80),
    ("vega/vega-datasets", "data/", 30),
]
SKIP_PARTS = ("/afl/", "/fuzzing/", "/glob/", "/benchmark/", "/tpch/", "/tpcds/", "CMakeLists", "LICENSE",
              "requirements", "README")


def default_out() -> Path:
    return Path(os.environ.get("CSV_CORPUS", "/work/wt/corpus-csv"))


def split_of(name: str) -> str:
    """70% tune, 30% hold-out, fixed by the file's name."""
    return "holdout" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 10 < 3 else "tune"


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, check=True).stdout


def _candidates(git_dir: Path, prefix: str) -> list[tuple[str, int]]:
    listing = _git(git_dir, "ls-tree", "-r", "-l", "HEAD", *([prefix] if prefix else [])).decode(errors="replace")
    out = []
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) < 4 or parts[1] != "blob" or not parts[3].isdigit():
            continue
        size = int(parts[3])
        if path.lower().endswith(EXTENSIONS) and 0 < size <= MAX_BYTES and not any(p in path for p in SKIP_PARTS):
            if path.lower().endswith(".txt") and "csv" not in path.lower():
                continue  # text files count only where they sit in a CSV folder
            out.append((path, size))
    return out


def build(mirror: Path, out: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for repo, prefix, most in SOURCES:
        git_dir = mirror / repo.replace("/", "+") / "repo"
        if not git_dir.is_dir():
            print(f"skip {repo}: no snapshot at {git_dir} (fetch github:{repo} first)")
            continue
        files = _candidates(git_dir, prefix)
        random.Random(repo).shuffle(files)
        taken = 0
        for path, _size in sorted(files[:most]):
            name = f"{repo.split('/')[1]}__{path.replace('/', '__')}"
            target = out / split_of(name) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_bytes(_git(git_dir, "show", f"HEAD:{path}"))
            taken += 1
        counts[repo] = taken
        print(f"{repo}: {taken} files")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--out", type=Path, default=default_out())
    args = parser.parse_args()
    if not args.mirror.is_dir():
        print(f"no snapshots at {args.mirror}: nothing to build (fetch the repositories listed in SOURCES)")
        return 0
    counts = build(args.mirror, args.out)
    print(f"{sum(counts.values())} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
