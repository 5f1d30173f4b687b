"""Scale benchmark: how time and peak memory grow from 100k to 100M rows, each figure beside a baseline.

    .venv/bin/python bench/bench_scale.py [--quick] [--sizes 100000,1000000,10000000] [--keep]

Data: the datasets benchmark's 12-column mix (numbers, categories, dates, timestamps, booleans, 3% missing),
written a million rows at a time as Parquet and CSV under bench/out/scale/ (never held whole in memory).
Per size, every step runs in its own child process, which reports its wall time and its peak RSS above
the RSS it had after imports (VmHWM), so one step's memory never hides another's:
- ingest: `datasets.ingest_file(csv)` vs `pyarrow.csv.read_csv` and `pandas.read_csv` (pandas up to 10M)
- preview: 100-row pages, unsorted / sorted by price, first and middle page (the first sorted page before
  the heads are written, when they are, the first page by eight other orders; the sort index is built by
  the first deep sorted page; its build time is reported apart) vs DuckDB's `ORDER BY ... LIMIT OFFSET`
- profile: `eda.profile` (time, peak memory) against the data's in-memory Arrow size
- SQL group-by: `sql.query` vs DuckDB directly and pandas `groupby` (pandas up to 10M)
- charts: histogram of price, scatter of amount vs price (sampled) via `charts.make_chart`
- training: compare mode (`ml.train`, 3 models, 3-fold CV) on a 100k-row sample, target `active`
Writes bench/out/scale/scale.md (the table), scale.json and docs/scale.png (log-log time and memory vs rows).
The machine is shared: wall times are noisy, compare ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out" / "scale"
PLOT = ROOT / "docs" / "scale.png"

CHILD_HEAD = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
def status_mb(field):
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field))
def rss_mb():
    return status_mb('VmRSS')
def peak_mb():  # VmHWM starts afresh at exec; ru_maxrss would start at the forking parent's peak
    return status_mb('VmHWM')
"""

# Each step: setup code (imports, warm-up; not measured), then the measured body; extras go in `out`.
# AFTER runs once the peak is taken (the data's in-memory size: reading it first would leave freed pages that
# the measured step then reuses unseen).
STEPS: dict[str, tuple[str, str]] = {
    "ingest": ("from core import datasets\ndatasets.count_datasets()",
               "ds = datasets.ingest_file(CSV, name='scale')"),
    "pyarrow_read_csv": ("import pyarrow.csv as pacsv", "pacsv.read_csv(CSV)"),
    "pandas_read_csv": ("import pandas as pd", "pd.read_csv(CSV)"),
    "profile": ("from core import eda, datasets\nimport pyarrow.parquet as pq",
                "eda.profile('scale', refresh=True)"),
    "preview": ("from core import datasets\nfrom core.datasets import pages\nds = datasets.get_dataset('scale')\n"
                "datasets.preview(ds.id, limit=100)",
                "out.update(preview_times(ds))"),
    "duckdb_pages": ("import duckdb\ncon = duckdb.connect(config={'threads': 2, 'memory_limit': '2GB'})\n"
                     "con.execute('SET enable_progress_bar = false')",
                     "out.update(duckdb_pages(con, PARQUET, ROWS))"),
    "sql_groupby": ("from core import sql\nsql.query('SELECT 1')",
                    "sql.query('SELECT region, segment, count(*) AS n, avg(price) AS p FROM scale GROUP BY ALL')"),
    "duckdb_groupby": ("import duckdb\ncon = duckdb.connect(config={'threads': 2, 'memory_limit': '2GB'})",
                       "con.execute(f\"SELECT region, segment, count(*), avg(price) FROM read_parquet('{PARQUET}') "
                       "GROUP BY ALL\").fetchall()"),
    "pandas_groupby": ("import pandas as pd",
                       "pd.read_parquet(PARQUET, columns=['region', 'segment', 'price'])"
                       ".groupby(['region', 'segment']).price.agg(['count', 'mean'])"),
    "histogram": ("from core import charts\ncharts.make_chart('histogram', 'scale', x='qty')",
                  "charts.make_chart('histogram', 'scale', x='price')"),
    "scatter": ("from core import charts\ncharts.make_chart('histogram', 'scale', x='qty')",
                "charts.make_chart('scatter', 'scale', x='amount', y='price')"),
    "train": ("from core import datasets, ml\nimport pyarrow.parquet as pq\nimport pyarrow as pa\n"
              "t = pq.ParquetFile(datasets.dataset_path('scale')).read()\n"
              "n = min(t.num_rows, 100_000)\n"
              "sample = t.take(pa.array(sorted(__import__('random').Random(0).sample(range(t.num_rows), n))))\n"
              "del t\nsample = sample.drop(['id', 'seen'])\n"
              "small = datasets.store_table(sample, name=f'scale-sample-{time.time_ns()}', source='bench')\n"
              "out['train_rows'] = n",
              "run = ml.train(small.id, target='active', models=['logistic_regression', 'random_forest', "
              "'hist_gradient_boosting'], cv=3)\nbest = next(r for r in run.leaderboard if r.get('best'))\n"
              "out['score'] = best[run.primary_metric + '_mean']\nout['model'] = best['model']"),
}

AFTER = {"profile": "out['data_mb'] = pq.ParquetFile(datasets.dataset_path('scale')).read().nbytes / 1024 / 1024"}

HELPERS = """
def preview_times(ds):
    import statistics
    def med(**kw):
        ts = []
        for _ in range(3):
            t = time.perf_counter(); datasets.preview(ds.id, limit=100, **kw); ts.append(time.perf_counter() - t)
        return statistics.median(ts)
    mid = ds.rows // 2
    heads = pages.heads_path(datasets.dataset_path(ds.id))
    started = time.perf_counter()
    t = time.perf_counter(); datasets.preview(ds.id, limit=100, sort_by='price', descending=True)
    first = time.perf_counter() - t  # the heads are still being written: DuckDB's top-k
    while not heads.is_file() and time.perf_counter() - started < 600:
        time.sleep(0.05)
    ready = time.perf_counter() - started
    by_column = {f'{c} {"desc" if d else "asc"}': med(sort_by=c, descending=d)
                 for c in ('amount', 'city', 'seen', 'active') for d in (False, True)}
    t = time.perf_counter(); datasets.preview(ds.id, offset=mid, limit=100, sort_by='price', descending=True)
    build = time.perf_counter() - t
    return {'page_first_s': med(), 'page_middle_s': med(offset=mid), 'sorted_first_cold_s': first,
            'heads_ready_s': ready, 'sorted_first_any_s': max(by_column.values()), 'sorted_first_by': by_column,
            'sort_index_build_s': build, 'sorted_first_s': med(sort_by='price', descending=True),
            'sorted_middle_s': med(offset=mid, sort_by='price', descending=True)}

def duckdb_pages(con, path, rows):
    def one(sql):
        t = time.perf_counter(); con.execute(sql).fetchall(); return time.perf_counter() - t
    src = f"read_parquet('{path}')"
    return {'duck_page_middle_s': one(f'SELECT * FROM {src} LIMIT 100 OFFSET {rows // 2}'),
            'duck_sorted_first_s': one(f'SELECT * FROM {src} ORDER BY price DESC NULLS LAST LIMIT 100'),
            'duck_sorted_middle_s': one(f'SELECT * FROM {src} ORDER BY price DESC NULLS LAST LIMIT 100 '
                                        f'OFFSET {rows // 2}')}
"""


def run_step(step: str, *, csv: Path, parquet: Path, rows: int, data: Path, timeout: float) -> dict:
    """One step in a fresh child process: its wall time, peak RSS above its post-setup RSS, and extras."""
    setup, body = STEPS[step]
    code = (CHILD_HEAD.format(root=str(ROOT)) + HELPERS +
            f"CSV, PARQUET, ROWS = {str(csv)!r}, {str(parquet)!r}, {rows}\nout = {{}}\n{setup}\n"
            "before = rss_mb(); started = time.perf_counter()\n"
            f"{body}\n"
            "out.update(seconds=time.perf_counter() - started, peak_extra_mb=max(peak_mb() - before, 0.0))\n"
            f"{AFTER.get(step, '')}\nprint(json.dumps(out))\n")
    env = {**os.environ, "DATA_DIR": str(data), "DATABASE_URL": "", "REDIS_URL": "", "MAX_UPLOAD_MB": "100000",
           "DUCKDB_TIMEOUT_S": "3600", "SQL_TIMEOUT_S": "3600"}
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
    return json.loads(lines[-1])


def bench_size(rows: int, *, quick: bool, timeout: float) -> dict:
    from scale_data import generate

    parquet, csv = generate(OUT, rows)
    data = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=OUT))
    result: dict = {"rows": rows, "csv_mb": csv.stat().st_size / 2**20, "load": os.getloadavg()[0]}
    steps = list(STEPS)
    if rows > 10_000_000:  # pandas would need tens of GB; the training sample is the same 100k rows
        steps = [s for s in steps if not s.startswith("pandas")]
    if quick:
        steps = [s for s in steps if s != "train"]
    try:
        for step in steps:
            started = time.time()
            result[step] = run_step(step, csv=csv, parquet=parquet, rows=rows, data=data, timeout=timeout)
            print(f"  {rows:>11,} {step:<18} {time.time() - started:7.1f} s  {result[step]}", flush=True)
            if step == "ingest" and "error" in result[step]:
                break
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return result


def _s(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _get(r: dict, step: str, key: str = "seconds") -> float | None:
    v = r.get(step, {})
    return v.get(key) if isinstance(v, dict) else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def table(results: list[dict]) -> str:
    """The markdown table: one row per measure, one column per size."""
    cols = [f"{r['rows']:,} rows" for r in results]
    rows: list[tuple[str, list[str]]] = []

    def add(label: str, fn) -> None:
        rows.append((label, [fn(r) for r in results]))

    add("ingest CSV (ours)", lambda r: _s(_get(r, "ingest")))
    add("`pyarrow.csv.read_csv`", lambda r: _s(_get(r, "pyarrow_read_csv")))
    add("ingest / pyarrow", lambda r: _ratio(_get(r, "ingest"), _get(r, "pyarrow_read_csv")))
    add("`pandas.read_csv`", lambda r: _s(_get(r, "pandas_read_csv")))
    add("ingest peak memory", lambda r: f"{_get(r, 'ingest', 'peak_extra_mb') or 0:.0f} MB")
    add("pyarrow read peak memory", lambda r: f"{_get(r, 'pyarrow_read_csv', 'peak_extra_mb') or 0:.0f} MB")
    add("page, middle (ours)", lambda r: _s(_get(r, "preview", "page_middle_s")))
    add("page, middle (DuckDB OFFSET)", lambda r: _s(_get(r, "duckdb_pages", "duck_page_middle_s")))
    add("sorted first page, heads not yet written (top-k)", lambda r: _s(_get(r, "preview", "sorted_first_cold_s")))
    add("heads written, after the first page (background)", lambda r: _s(_get(r, "preview", "heads_ready_s")))
    add("first page by any other column, either way (worst of 8)",
        lambda r: _s(_get(r, "preview", "sorted_first_any_s")))
    add("sort index build (once per column)", lambda r: _s(_get(r, "preview", "sort_index_build_s")))
    add("sorted first page (ours)", lambda r: _s(_get(r, "preview", "sorted_first_s")))
    add("sorted middle page (ours)", lambda r: _s(_get(r, "preview", "sorted_middle_s")))
    add("sorted first page (DuckDB top-k)", lambda r: _s(_get(r, "duckdb_pages", "duck_sorted_first_s")))
    add("sorted middle page (DuckDB)", lambda r: _s(_get(r, "duckdb_pages", "duck_sorted_middle_s")))
    add("full profile", lambda r: _s(_get(r, "profile")))
    add("profile peak memory", lambda r: f"{_get(r, 'profile', 'peak_extra_mb') or 0:.0f} MB")
    add("data in memory (Arrow)", lambda r: f"{_get(r, 'profile', 'data_mb') or 0:.0f} MB")
    add("profile memory / data", lambda r: _ratio(_get(r, "profile", "peak_extra_mb"), _get(r, "profile", "data_mb")))
    add("SQL group-by (ours)", lambda r: _s(_get(r, "sql_groupby")))
    add("group-by DuckDB directly", lambda r: _s(_get(r, "duckdb_groupby")))
    add("group-by pandas", lambda r: _s(_get(r, "pandas_groupby")))
    add("histogram chart", lambda r: _s(_get(r, "histogram")))
    add("scatter chart (sampled)", lambda r: _s(_get(r, "scatter")))
    add("compare-mode training (100k sample)", lambda r: _s(_get(r, "train")))
    add("training best CV score", lambda r: f"{_get(r, 'train', 'score'):.4f}" if _get(r, "train", "score") else "n/a")
    head = "| measure | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n"
    return head + "".join(f"| {label} | " + " | ".join(vals) + " |\n" for label, vals in rows)


SERIES_TIME = (("ingest", "ingest"), ("pyarrow_read_csv", "pyarrow read_csv"), ("profile", "profile"),
               ("sql_groupby", "SQL group-by"), ("duckdb_groupby", "DuckDB group-by"), ("histogram", "histogram"),
               ("scatter", "scatter"))
SERIES_MEMORY = (("ingest", "ingest"), ("pyarrow_read_csv", "pyarrow read_csv"), ("profile", "profile"))
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def plot(results: list[dict], path: Path) -> None:
    """Log-log time and peak memory against rows, drawn with Pillow (a small PNG; no plotting library needed)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (900, 380), "white")
    draw = ImageDraw.Draw(image)
    xs = [r["rows"] for r in results]
    time_series = [(label, [(x, _get(r, step)) for x, r in zip(xs, results, strict=True)])
                   for step, label in SERIES_TIME]
    memory_series = [(label, [(x, _get(r, step, "peak_extra_mb")) for x, r in zip(xs, results, strict=True)])
                     for step, label in SERIES_MEMORY]
    memory_series.append(("data in memory", [(x, _get(r, "profile", "data_mb")) for x, r in zip(xs, results,
                                                                                                strict=True)]))
    _panel(draw, (60, 30, 420, 320), "wall time (s) vs rows", time_series)
    _panel(draw, (510, 30, 870, 320), "peak memory above start (MB) vs rows", memory_series)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


def _panel(draw, box: tuple[int, int, int, int], title: str, series: list[tuple[str, list]]) -> None:
    import math

    left, top, right, bottom = box
    points = [(x, y) for _, pts in series for x, y in pts if y]
    if not points:
        return
    lx = [math.log10(x) for x, _ in points]
    ly = [math.log10(y) for _, y in points]
    x0, x1 = math.floor(min(lx)), math.ceil(max(lx)) + (0 if max(lx) > min(lx) else 1)
    y0, y1 = math.floor(min(ly)), math.ceil(max(ly)) + (0 if max(ly) > min(ly) else 1)

    def at(x: float, y: float) -> tuple[float, float]:
        return (left + (math.log10(x) - x0) / (x1 - x0) * (right - left),
                bottom - (math.log10(y) - y0) / (y1 - y0) * (bottom - top))

    draw.rectangle(box, outline="black")
    draw.text((left, top - 18), title, fill="black")
    for e in range(x0, x1 + 1):
        px = left + (e - x0) / (x1 - x0) * (right - left)
        draw.line([(px, top), (px, bottom)], fill="#dddddd")
        draw.text((px - 10, bottom + 4), f"1e{e}", fill="black")
    for e in range(y0, y1 + 1):
        py = bottom - (e - y0) / (y1 - y0) * (bottom - top)
        draw.line([(left, py), (right, py)], fill="#dddddd")
        draw.text((left - 40, py - 6), f"1e{e}", fill="black")
    for n, (label, pts) in enumerate(series):
        colour = COLOURS[n % len(COLOURS)]
        coords = [at(x, y) for x, y in pts if y]
        if len(coords) > 1:
            draw.line(coords, fill=colour, width=2)
        for cx, cy in coords:
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=colour)
        draw.text((left + 6, top + 6 + 12 * n), label, fill=colour)


def replot(json_path: Path = OUT / "scale.json") -> None:
    """Redraw the plot and table from a saved run."""
    results = json.loads(json_path.read_text())
    plot(results, PLOT)
    (OUT / "scale.md").write_text(table(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k rows only, no training (a minute or two)")
    parser.add_argument("--sizes", default="100000,1000000,10000000",
                        help="comma-separated row counts (100000000 needs ~15 GB of disk and a long time)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one step may take")
    parser.add_argument("--keep", action="store_true", help="keep the generated files under bench/out/scale")
    parser.add_argument("--replot", action="store_true", help="only redraw the table and plot from scale.json")
    args = parser.parse_args()
    if args.replot:
        replot()
        return
    sizes = [100_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; free disk "
          f"{shutil.disk_usage(ROOT).free / 2**30:.0f} GB", flush=True)
    results = [bench_size(rows, quick=args.quick, timeout=args.timeout) for rows in sizes]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps(results, indent=2))
    text = table(results)
    (OUT / "scale.md").write_text(text)
    print(text)
    if not args.quick:
        plot(results, PLOT)
        print(f"plot: {PLOT.relative_to(ROOT)}")
    if not args.keep:
        for rows in sizes:
            if rows >= 10_000_000:
                for suffix in (".csv", ".parquet"):
                    (OUT / f"scale-{rows}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
