"""Wide-data benchmark: a 50-row x 10,000-column CSV (issue 19, item 2), each figure beside a baseline.

    .venv/bin/python bench/bench_wide.py [--quick] [--columns N] [--repeat R]

- ingest: `datasets.ingest_file` against `pyarrow.csv.read_csv` alone.
- column_info: `eda.column_info` (type, kind, missing, exact distinct, examples of every column; target
  < 3 s) against pandas `DataFrame.describe(include="all")` on the same data already in memory, and
  against reading the Parquet schema with pyarrow (the least any per-column view can cost).
- preview: one page of 100 rows x 50 columns (what the Datasets page shows) and of all columns, against
  `pyarrow.parquet.read_table(...).slice(0, 100).to_pandas()`.
- linearity: column_info on N/5 and N columns; a ratio near 5 is linear (the old code was quadratic).
Timings are the best of `--repeat` runs. The machine may be shared: rerun when the load is high.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
log = logging.getLogger("bench.wide")


def write_csv(path: Path, rows: int, columns: int) -> Path:
    import numpy as np

    values = np.random.default_rng(0).normal(size=(rows, columns)).round(4)
    lines = [",".join(f"c{i}" for i in range(columns))] + [",".join(map(str, r)) for r in values]
    path.write_text("\n".join(lines) + "\n")
    return path


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def line(label: str, ours: float, base_label: str, base: float, target: str = "") -> str:
    return (f"{label:<22} ours {ours:8.3f} s   {base_label:<34} {base:8.3f} s   ratio {ours / base:7.2f}x"
            + (f"   target {target}" if target else ""))


def run(columns: int, repeat: int) -> list[str]:
    import pandas as pd
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from core import datasets, eda

    work = Path(os.environ["DATA_DIR"]).parent
    csv = write_csv(work / "wide.csv", 50, columns)
    small = write_csv(work / "narrower.csv", 50, columns // 5)
    names = iter(range(1_000_000))
    ingest = best(lambda: datasets.ingest_file(csv, name=f"wide_{next(names)}"), repeat)
    ds = datasets.ingest_file(csv, name="wide")
    narrow = datasets.ingest_file(small, name="narrower")
    path = datasets.dataset_path(ds.id)
    frame = pd.read_csv(csv)
    page = [f"c{i}" for i in range(50)]
    info = best(lambda: eda.column_info(ds.id), repeat)
    info_small = best(lambda: eda.column_info(narrow.id), repeat)
    return [
        f"data: 50 rows x {columns:,} columns, {csv.stat().st_size / 1024 / 1024:.1f} MB CSV",
        line("ingest", ingest, "pyarrow.csv.read_csv", best(lambda: pacsv.read_csv(csv), repeat)),
        line("column_info", info, 'pandas describe(include="all")',
             best(lambda: frame.describe(include="all"), repeat), "< 3 s"),
        line("column_info", info, "pyarrow.parquet.read_schema", best(lambda: pq.read_schema(path), repeat)),
        line("preview 100 x 50", best(lambda: datasets.preview(ds.id, limit=100, columns=page), repeat),
             "pyarrow read_table(50 cols)", best(lambda: pq.read_table(path, columns=page).slice(0, 100).to_pandas(),
                                                 repeat)),
        line("preview 100 x all", best(lambda: datasets.preview(ds.id, limit=100), repeat),
             "pyarrow read_table(all)", best(lambda: pq.read_table(path).slice(0, 100).to_pandas(), repeat)),
        f"{'linearity':<22} column_info {columns // 5:,} cols {info_small:.3f} s, {columns:,} cols {info:.3f} s: "
        f"ratio {info / info_small:.1f} for 5x the columns (linear ~5, quadratic ~25)",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run of each timing")
    parser.add_argument("--columns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-wide-") as tmp:
        os.environ["DATA_DIR"] = str(Path(tmp) / "data")
        os.environ["DATABASE_URL"] = ""
        from core.config import reload_settings

        reload_settings()
        for text in run(args.columns, 1 if args.quick else args.repeat):
            log.info(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
