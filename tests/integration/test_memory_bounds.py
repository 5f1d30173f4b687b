"""Memory stays bounded on data big enough to matter: pages and charts never load a dataset whole.

The work runs in a child process whose DuckDB may use 64 MB (DUCKDB_MEMORY_LIMIT) and one thread; it
reports its peak RSS (VmHWM) above the RSS it had after a warm-up on a tiny dataset, and that must stay under half
the data's in-memory size (loading it into pandas would take more than the whole of it). The writing of the
version's heads, which the first page starts in the background, is waited for and measured on its own (VmHWM
is reset between the two): it reads one row group at a time inside DuckDB, so it must stay within DuckDB's
limit, whatever the data's size. The deep sorted page (the sort index) is bounded by DuckDB's limit instead and
is checked for correctness elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from core import datasets

ROOT = Path(__file__).resolve().parents[2]
ROWS = 3_000_000

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from core import charts, datasets
from core.datasets import pages
def status_mb(field):  # VmHWM, unlike ru_maxrss, starts afresh at exec (not at the forking parent's peak)
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field))
for kind, spec in (('histogram', {'x': 'price'}), ('scatter', {'x': 'id', 'y': 'price'})):
    charts.make_chart(kind, 'tiny', **spec)
datasets.preview('tiny', offset=5, limit=5, sort_by='price')
before = status_mb('VmRSS')
datasets.preview('big', limit=100)  # starts the heads
heads = pages.heads_path(datasets.dataset_path('big'))
started = time.monotonic()
while not heads.is_file() and time.monotonic() - started < 60:
    time.sleep(0.02)
heads_mb = status_mb('VmHWM') - before
with open('/proc/self/clear_refs', 'w') as f:
    f.write('5')  # VmHWM starts again from the current RSS
before = status_mb('VmRSS')
middle = datasets.preview('big', offset=%(rows)d // 2, limit=100)
page = datasets.preview('big', offset=1000, limit=100, sort_by='price', descending=True)
hist = charts.make_chart('histogram', 'big', x='price')
scatter = charts.make_chart('scatter', 'big', x='id', y='price')
peak = status_mb('VmHWM')
print(json.dumps({'extra_mb': peak - before, 'heads_mb': heads_mb, 'heads': heads.is_file(),
                  'page_rows': len(page), 'first_price': float(page['price'][0]),
                  'middle_id': int(middle['id'][0]),
                  'scatter_points': len(scatter.data[0].x)}))
"""


def test_pages_and_charts_stay_under_half_the_data_size(workbench: Path) -> None:
    # Given a 3-million-row dataset (about 60 MB in memory as Arrow)
    rng = np.random.default_rng(3)
    price = np.round(rng.lognormal(3, 1, ROWS), 2)
    table = pa.table({"id": np.arange(ROWS), "price": price,
                      "region": pa.array(np.array(["n", "s", "e", "w"], dtype=object)[rng.integers(0, 4, ROWS)])})
    data_mb = table.nbytes / 2**20
    datasets.store_table(table, name="big", source="test")
    datasets.store_table(table.slice(0, 300), name="tiny", source="test")
    del table
    # When a child process with a 64 MB DuckDB reads a middle page, a sorted page and draws two charts
    env = {**os.environ, "DATA_DIR": str(workbench), "DUCKDB_MEMORY_LIMIT": "64MB", "DUCKDB_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", CHILD % {"rows": ROWS}, str(ROOT)], capture_output=True, text=True,
                         env=env, timeout=120, cwd=workbench.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    # Then the page is right, the scatter is sampled, and the peak stays under the data's size
    assert got["page_rows"] == 100 and got["first_price"] == pytest.approx(np.sort(price)[::-1][1000])
    assert got["middle_id"] == ROWS // 2
    assert got["scatter_points"] < ROWS
    assert got["extra_mb"] < data_mb / 2, f"peak {got['extra_mb']:.0f} MB above start for {data_mb:.0f} MB of data"
    assert got["heads"] and got["heads_mb"] < 64, f"heads took {got['heads_mb']:.0f} MB"  # DUCKDB_MEMORY_LIMIT


PROFILE_ROWS = 1_000_000
PROFILE_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from core import datasets, duck, eda
def status_mb(field):
    with open('/proc/self/status') as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field))
datasets.get_dataset('tall')
with duck.cursor() as con:  # the process's shared DuckDB database, open in any running app (about 28 MB)
    con.execute('SELECT 1').fetchall()
before = status_mb('VmRSS')
prof = eda.profile('tall')
print(json.dumps({'extra_mb': status_mb('VmHWM') - before, 'rows': prof.rows,
                  'median': prof.column('amount').median, 'distinct': prof.column('city').distinct}))
"""


def test_a_full_profile_stays_within_a_small_multiple_of_the_data(workbench: Path) -> None:
    # Given a million rows of numbers, text categories, dates and booleans with gaps (about 45 MB as Arrow)
    rng = np.random.default_rng(4)
    n = PROFILE_ROWS
    amount, gaps = np.round(rng.normal(100, 25, n), 2), rng.random(n) < 0.03
    table = pa.table({
        "id": np.arange(n), "amount": pa.array(amount, mask=gaps), "qty": rng.integers(0, 50, n),
        "city": pa.array(np.char.add("c", rng.integers(0, 300, n).astype(str))),
        "day": pa.array(np.datetime64("2020-01-01") + rng.integers(0, 1500, n).astype("timedelta64[D]")),
        "active": rng.random(n) < 0.7,
    })
    data_mb = table.nbytes / 2**20
    datasets.store_table(table, name="tall", source="test")
    del table
    # When a fresh process whose shared DuckDB database is open profiles it
    env = {**os.environ, "DATA_DIR": str(workbench)}
    out = subprocess.run([sys.executable, "-c", PROFILE_CHILD, str(ROOT)], capture_output=True, text=True, env=env,
                         timeout=300, cwd=workbench.parent)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    # Then the statistics are exact and the peak stays within issue 15's goal of 2x the data (5.6x before it; about
    # 1.6x here; with the opening of DuckDB's database counted too it was 2.5x, at this bound's edge)
    assert got["rows"] == n and got["distinct"] == 300
    assert got["median"] == pytest.approx(float(np.median(amount[~gaps])))
    assert got["extra_mb"] < 2 * data_mb, f"peak {got['extra_mb']:.0f} MB above start for {data_mb:.0f} MB of data"
