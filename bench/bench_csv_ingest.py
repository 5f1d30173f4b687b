"""CSV ingest at scale: `datasets.ingest_file` (DuckDB streaming into Parquet + the dataset row) against
`pyarrow.csv.read_csv` alone on the same file, with peak memory of each in a child process.

    .venv/bin/python bench/bench_csv_ingest.py [--quick] [--rows 1000000 10000000] [--with-100m]

The CSV (12 columns: numbers, categories, dates, text, 3% missing) is written in chunks under bench/out/
and removed afterwards. Goal (issue 15): ingest <= 2.0x pyarrow at 1M and 10M rows; 100M rows (opt-in,
about 12 GB on disk) under 4 GiB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(0)
    with pacsv.CSVWriter(path, _schema()) as writer:
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            ids = np.arange(start, start + n)
            miss = rng.random(n) < 0.03
            cols = {"id": ids, "a": rng.normal(size=n), "b": rng.integers(0, 1000, n),
                    "c": pa.array(rng.random(n), mask=miss), "cat": rng.choice(np.array(["red", "green", "blue"]), n),
                    "city": rng.choice(np.array(["Lyon", "Paris", "Nice", "Lille"]), n), "flag": ids % 3 == 0,
                    "day": (np.datetime64("2020-01-01") + rng.integers(0, 2000, n)).astype("datetime64[D]"),
                    "score": rng.random(n) * 100, "count": rng.integers(0, 10, n), "ratio": rng.random(n),
                    "label": np.char.add("item ", (ids % 5000).astype(str))}
            writer.write_table(pa.table(cols, schema=_schema()))


def _schema():
    import pyarrow as pa

    return pa.schema([("id", pa.int64()), ("a", pa.float64()), ("b", pa.int64()), ("c", pa.float64()),
                      ("cat", pa.string()), ("city", pa.string()), ("flag", pa.bool_()), ("day", pa.date32()),
                      ("score", pa.float64()), ("count", pa.int64()), ("ratio", pa.float64()), ("label", pa.string())])


CHILD = """
import json, sys, time
from pathlib import Path
kind, path = sys.argv[1], Path(sys.argv[2])
import pyarrow.csv as pacsv
if kind != "pyarrow":
    from core import datasets
    datasets.count_datasets()  # imports and database migrations happen once per process, not per import
start = time.perf_counter()
if kind == "pyarrow":
    rows = pacsv.read_csv(path).num_rows
else:
    rows = datasets.ingest_file(path).rows
print(json.dumps({"s": time.perf_counter() - start, "rows": rows,
                  # VmHWM: this image's own peak (ru_maxrss survives exec, so it starts at the parent's)
                  "peak_mb": int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))) / 1024}))
"""


def run(kind: str, path: Path, data_dir: Path) -> dict:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DATABASE_URL": "", "PYTHONPATH": str(ROOT),
           "MAX_UPLOAD_MB": "100000"}
    done = subprocess.run([sys.executable, "-c", CHILD, kind, str(path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows only")
    parser.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument("--with-100m", action="store_true", help="also 100M rows (about 12 GB of disk)")
    args = parser.parse_args()
    sizes = [100_000] if args.quick else args.rows + ([100_000_000] if args.with_100m else [])
    OUT.mkdir(parents=True, exist_ok=True)
    for rows in sizes:
        path = OUT / f"ingest-{rows}.csv"
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as data_dir:
            try:
                started = time.time()
                generate(path, rows)
                print(f"{rows:>11,} rows: {path.stat().st_size / 1e6:,.0f} MB written in {time.time() - started:.0f} s")
                base = run("pyarrow", path, Path(data_dir)) if rows < 100_000_000 else None
                ours = run("ours", path, Path(data_dir))
            finally:
                path.unlink(missing_ok=True)
        line = f"{rows:>11,} rows: ingest {ours['s']:.2f} s, peak {ours['peak_mb']:,.0f} MB"
        if base:
            line += (f" | pyarrow.csv.read_csv alone {base['s']:.2f} s, peak {base['peak_mb']:,.0f} MB"
                     f" | ratio {ours['s'] / base['s']:.2f}x (goal <= 2.0x)")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
