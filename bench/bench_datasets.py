"""Datasets benchmark: ingest, full profile and one preview page, each beside a baseline from the same run.

    .venv/bin/python bench/bench_datasets.py [--quick] [--no-ydata] [--rows N]

Data: a generated CSV (default 1,000,000 rows x 12 columns: numbers, categories, dates, timestamps,
booleans, 3% missing; about 70 MB), written once under bench/out/.
- ingest: `datasets.ingest_file` (read + Parquet + database row) against `pyarrow.csv.read_csv` alone
  and `pandas.read_csv` alone; targets <= 2.5x and <= 0.35x.
- profile: `eda.profile` (no cache) against ydata-profiling's `ProfileReport(df).get_description()`
  on the same file, run in its own virtualenv .venv-bench-ydata (created here when missing, because
  ydata-profiling pins clash with ours); target <= 0.15x. Peak memory of our profile is measured in a
  child process (peak RSS minus RSS before profiling) against the data's in-memory Arrow size; target < 2x.
- preview: a 100-row page from the middle of the data, and sorted pages (first, middle); target < 100 ms.
Timings are the best of `--repeat` runs (3, 1 with --quick). The machine is shared: rerun when the load is high.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
YDATA_VENV = ROOT / ".venv-bench-ydata"


def generate(path: Path, rows: int) -> Path:
    """The benchmark CSV (written once per row count)."""
    if path.exists():
        return path
    import numpy as np
    import pyarrow.csv as pacsv
    from scale_data import chunk  # the same 12-column mix the scale benchmark writes in chunks

    table = chunk(np.random.default_rng(0), 0, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="needed"))
    tmp.rename(path)
    return path


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def use_fresh_workbench(tmp: Path) -> None:
    os.environ.update({"DATA_DIR": str(tmp / "data"), "DATABASE_URL": "", "REDIS_URL": "",
                       "MAX_UPLOAD_MB": "2000"})
    from core.config import reload_settings
    from core.db import reset_engines

    reset_engines()
    reload_settings()


def bench_ingest(csv: Path, repeat: int) -> dict[str, float]:
    import pandas as pd
    import pyarrow.csv as pacsv

    from core import datasets

    datasets.count_datasets()  # migrations run on first use; keep them out of the timing
    counter = iter(range(1000))
    ours = best(lambda: datasets.ingest_file(csv, name=f"bench{next(counter)}"), repeat)
    arrow = best(lambda: pacsv.read_csv(csv), repeat)
    pandas = best(lambda: pd.read_csv(csv), repeat)
    return {"ours_s": ours, "pyarrow_read_csv_s": arrow, "pandas_read_csv_s": pandas}


PROFILE_CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
from core import eda, datasets
import pyarrow.parquet as pq
ds = datasets.get_dataset({name!r})
small = datasets.store_table(pq.read_table(datasets.dataset_path(ds.id)).slice(0, 1000), name="warmup", source="bench")
eda.profile(small.id)  # warm-up: DuckDB and imports, so the peak below is what the data costs
def rss_mb():
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith('VmRSS'))
before = rss_mb()
times = []
for _ in range({repeat}):
    t = time.perf_counter(); eda.profile(ds.id, refresh=True); times.append(time.perf_counter() - t)
peak = int(next(ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:'))) / 1024  # VmHWM: this image's own peak (ru_maxrss survives exec)
size = pq.read_table(datasets.dataset_path(ds.id)).nbytes / 1024 / 1024
print(json.dumps({{"ours_s": min(times), "peak_extra_mb": max(peak - before, 0.0), "data_mb": size}}))
"""

YDATA_CHILD = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from ydata_profiling import ProfileReport
df = pd.read_csv(sys.argv[1])
t = time.perf_counter()
ProfileReport(df, progress_bar=False).get_description()
print(json.dumps({"ydata_s": time.perf_counter() - t}))
"""


def bench_profile(name: str, repeat: int) -> dict[str, float]:
    code = PROFILE_CHILD.format(root=str(ROOT), name=name, repeat=repeat)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    return _last_json(out.stdout)


def _last_json(stdout: str) -> dict:
    """The last line of a child's output that is a JSON object (libraries may print before it)."""
    found = [ln for ln in stdout.strip().splitlines() if ln.startswith("{")]
    if not found:
        raise RuntimeError(f"no result from the child process: {stdout[-2000:]}")
    return json.loads(found[-1])


def ensure_ydata_venv() -> Path | None:
    """The ydata-profiling virtualenv's python (created when missing); None when it cannot be made."""
    python = YDATA_VENV / "bin" / "python"
    probe = [str(python), "-c", "import ydata_profiling"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print("creating .venv-bench-ydata with ydata-profiling (once; a few minutes)…", flush=True)
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    try:
        subprocess.run([str(base if base.exists() else sys.executable), "-m", "venv", str(YDATA_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "ydata-profiling"], check=True)
    except subprocess.CalledProcessError as exc:
        print(f"could not create the ydata-profiling venv: {exc}")
        return None
    return python


def bench_ydata(csv: Path) -> float | None:
    python = ensure_ydata_venv()
    if python is None:
        return None
    out = subprocess.run([str(python), "-c", YDATA_CHILD, str(csv)], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr[-2000:])
        return None
    return _last_json(out.stdout)["ydata_s"]


def bench_preview(name: str, rows: int) -> dict[str, float]:
    """Median of 5 pages of 100 rows: from the middle in file order, the first sorted page, a middle sorted page."""
    from core import datasets

    ds = datasets.get_dataset(name)
    datasets.preview(ds.id, limit=100)

    def median(**kwargs: object) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            datasets.preview(ds.id, limit=100, **kwargs)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    return {"page_s": median(offset=rows // 2), "sorted_first_s": median(sort_by="price", descending=True),
            "sorted_middle_s": median(offset=rows // 2, sort_by="price", descending=True)}


def line(label: str, ours: float, base_label: str, base: float | None, target: str) -> str:
    if base is None:
        return f"{label:<10} ours {ours:8.3f} s   {base_label}: n/a   (target {target})"
    return f"{label:<10} ours {ours:8.3f} s   {base_label} {base:8.3f} s   ratio {ours / base:5.2f}x   (target {target})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, one repeat (under a minute)")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--no-ydata", action="store_true", help="skip the ydata-profiling baseline")
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (1 if args.quick else 3)
    csv = generate(OUT / f"bench-{rows}.csv", rows)
    print(f"data: {csv.name}, {csv.stat().st_size / 1024 / 1024:.1f} MB, {rows:,} rows x 12 columns; "
          f"best of {repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    tmp = Path(tempfile.mkdtemp(prefix="bench-datasets-"))
    try:
        use_fresh_workbench(tmp)
        ing = bench_ingest(csv, repeat)
        prof = bench_profile("bench0", repeat)
        ydata = None if args.no_ydata or args.quick else bench_ydata(csv)
        preview = bench_preview("bench0", rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(line("ingest", ing["ours_s"], "pyarrow.read_csv", ing["pyarrow_read_csv_s"], "<= 2.5x"))
    print(line("ingest", ing["ours_s"], "pandas.read_csv", ing["pandas_read_csv_s"], "<= 0.35x"))
    print(line("profile", prof["ours_s"], "ydata get_description", ydata, "<= 0.15x"))
    print(f"{'memory':<10} profile peak +{prof['peak_extra_mb']:.0f} MB   data in memory {prof['data_mb']:.0f} MB   "
          f"ratio {prof['peak_extra_mb'] / prof['data_mb']:.2f}x   (target < 2x)")
    print(f"{'preview':<10} 100-row page from the middle {preview['page_s'] * 1000:.1f} ms; sorted: first page "
          f"{preview['sorted_first_s'] * 1000:.1f} ms, middle page {preview['sorted_middle_s'] * 1000:.1f} ms   "
          "(target < 100 ms)")
    OUT.mkdir(parents=True, exist_ok=True)
    record = {"rows": rows, "repeat": repeat, "load": os.getloadavg()[0], **ing, **prof, "ydata_s": ydata,
              **preview}
    (OUT / f"datasets-{rows}.json").write_text(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
