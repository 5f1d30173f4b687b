"""Charts and SQL on 1M rows, beside plain pandas + plotly.express baselines.

    .venv/bin/python bench/bench_explore.py [--quick]

Charts: `charts.make_chart` (DuckDB aggregates or samples, Plotly gets the small result) plus
`fig.to_json()` (what the page sends to the browser), vs the naive way: the whole dataset in
pandas, the same plotly.express call on every row, `to_json()`.
SQL: a group-by over 1M rows through `sql.query` (validation, a fresh locked-down DuckDB, the
history row included) vs pandas reading the same Parquet file and grouping; target ratio <= 0.5.
Also shown: pandas grouping a frame already in memory (no file read), for context.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs (after one warm-up run)."""
    fn()
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def make_data(rows: int) -> pa.Table:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pa.table({
        "price": rng.gamma(2, 10, rows), "units": rng.integers(1, 100, rows),
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "city": np.array([f"city{i:03d}" for i in rng.integers(0, 300, rows)]),
        "day": pd.date_range("2024-01-01", periods=rows, freq="min"),
    })


CHARTS = {
    "histogram": ({"x": "price", "color": "region"}, lambda px, df: px.histogram(df, x="price", color="region")),
    "kde": ({"x": "price"}, None),
    "scatter": ({"x": "price", "y": "units", "color": "region"},
                lambda px, df: px.scatter(df, x="price", y="units", color="region")),
    "bar": ({"x": "city", "y": "price", "agg": "mean"},
            lambda px, df: px.bar(df.groupby("city", as_index=False)["price"].mean(), x="city", y="price")),
    "line": ({"x": "day", "y": "price"}, lambda px, df: px.line(df, x="day", y="price")),
    "area": ({"x": "day", "y": "units", "color": "region"}, None),
    "heatmap": ({"columns": ["price", "units"]}, lambda px, df: px.imshow(df[["price", "units"]].corr())),
    "box": ({"x": "region", "y": "price"}, lambda px, df: px.box(df, x="region", y="price")),
    "violin": ({"x": "region", "y": "price"}, lambda px, df: px.violin(df, x="region", y="price")),
    "pie": ({"x": "region", "y": "units"}, lambda px, df: px.pie(df, names="region", values="units")),
    "pair": ({"columns": ["price", "units"], "color": "region"}, None),
    "custom": ({"function": "strip", "args": {"x": "region", "y": "price"}},
               lambda px, df: px.strip(df, x="region", y="price")),
}


def bench_charts(dataset_id: str, repeat: int, baselines: bool) -> None:
    import plotly.express as px

    from core import charts, datasets

    frame = datasets.load_frame(dataset_id) if baselines else None
    print(f"\n{'chart':<10} {'ours (make_chart + to_json)':>28} {'baseline (px on every row)':>28} {'ratio':>7}")
    for kind, (spec, naive) in CHARTS.items():
        ours = timed(lambda k=kind, s=spec: charts.make_chart(k, dataset_id, **s).to_json(), repeat)
        base = timed(lambda f=naive: f(px, frame).to_json(), 1) if (baselines and naive) else None
        base_s = f"{base * 1e3:10.0f} ms" if base else "         —   "
        ratio = f"{ours / base:6.2f}x" if base else "     —"
        print(f"{kind:<10} {ours * 1e3:24.0f} ms {base_s:>28} {ratio:>7}")


def bench_sql(dataset_id: str, repeat: int) -> float:
    import pandas as pd

    from core import datasets, sql

    path = datasets.dataset_path(dataset_id)
    statement = ("SELECT city, count(*) AS n, avg(price) AS mean_price, sum(units) AS units "
                 "FROM big GROUP BY city ORDER BY city")

    def ours() -> pd.DataFrame:
        return sql.query(statement)

    def pandas_from_file() -> pd.DataFrame:
        df = pd.read_parquet(path, columns=["city", "price", "units"])
        return df.groupby("city", as_index=False).agg(n=("price", "size"), mean_price=("price", "mean"),
                                                      units=("units", "sum"))

    loaded = pd.read_parquet(path, columns=["city", "price", "units"])

    def pandas_in_memory() -> pd.DataFrame:
        return loaded.groupby("city", as_index=False).agg(n=("price", "size"), mean_price=("price", "mean"),
                                                          units=("units", "sum"))

    a, b = ours(), pandas_from_file()
    assert len(a) == len(b) and (a["units"].to_numpy() == b["units"].to_numpy()).all(), "results differ"
    t_ours, t_file, t_mem = timed(ours, repeat), timed(pandas_from_file, repeat), timed(pandas_in_memory, repeat)
    print(f"\nSQL group-by over {len(loaded):,} rows ({len(a)} groups), median of {repeat}:")
    print(f"  sql.query (DuckDB)              {t_ours * 1e3:8.1f} ms")
    print(f"  pandas: read Parquet + groupby  {t_file * 1e3:8.1f} ms   ratio {t_ours / t_file:5.2f}x (target <= 0.5)")
    print(f"  pandas: groupby in memory only  {t_mem * 1e3:8.1f} ms   ratio {t_ours / t_mem:5.2f}x (context)")
    return t_ours / t_file


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="100k rows, one repeat: a smoke run")
    quick = parser.parse_args().quick
    rows, repeat = (100_000, 1) if quick else (1_000_000, 3)
    tmp = Path(tempfile.mkdtemp(prefix="bench-explore-"))
    os.environ.update({"DATA_DIR": str(tmp / "data"), "DATABASE_URL": "", "REDIS_URL": ""})
    from core import datasets

    ds = datasets.store_table(make_data(rows), name="big", source="bench")
    print(f"dataset: {rows:,} rows, {ds.size_bytes / 1e6:.1f} MB Parquet; timings are medians of {repeat}")
    bench_charts(str(ds.id), repeat, baselines=True)
    ratio = bench_sql(str(ds.id), 5 if quick else 7)
    return 0 if ratio <= 0.5 or quick else 1


if __name__ == "__main__":
    raise SystemExit(main())
