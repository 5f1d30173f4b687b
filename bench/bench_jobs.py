"""Job round trip and progress visibility on Redis + PostgreSQL, beside bare-Dramatiq and raw-SQL baselines.

    .venv/bin/python bench/bench_jobs.py [--quick]

Round trip: `jobs.submit` to the actor starting (Job.started), vs a bare Dramatiq actor (no Job rows).
Progress visibility: a progress report written by the worker to a poller seeing it in the Job row
(poll every 10 ms), vs a raw UPDATE every 50 ms on one connection polled the same way on another.
The page itself polls every 1 s (st.fragment), which adds up to 1 s on top of either.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(name: str, ours: list[float], base: list[float], base_name: str) -> None:
    o50, o95, b50, b95 = pct(ours, .5) * 1e3, pct(ours, .95) * 1e3, pct(base, .5) * 1e3, pct(base, .95) * 1e3
    print(f"{name:<22} ours p50 {o50:7.1f} ms  p95 {o95:7.1f} ms | {base_name} p50 {b50:7.1f} ms  "
          f"p95 {b95:7.1f} ms | ratio p50 {o50 / b50:5.2f}x")


def start(module: str, env: dict[str, str], queues: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dramatiq", module, "--processes", "1", "--threads", "2",
                             "--queues", *queues], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    n = 15 if parser.parse_args().quick else 60
    from sqlalchemy import create_engine, text

    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    name = f"wb_bench_{uuid.uuid4().hex[:6]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    db_url = admin.url.set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp())
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": REDIS, "DATA_DIR": str(tmp / "data"),
           "PYTHONPATH": str(ROOT), "JOB_HEARTBEAT_TIMEOUT_S": "120"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DATA_DIR")})
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    workers = [start("jobs.worker", env, ["default"], tmp / "w.log"),
               start("bench.raw_actor", env, ["raw_bench"], tmp / "raw.log")]
    try:
        run(n, db_url)
    finally:
        for w in workers:
            os.killpg(w.pid, 15)
            w.wait(20)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(n: int, db_url: str) -> None:

    import jobs
    from bench.raw_actor import client, raw_start

    time.sleep(4)  # both workers boot
    ours, base = [], []
    for _ in range(n):
        sent = time.time()
        job = jobs.submit("diagnostics.sleep", steps=1, interval=0.0)
        while (row := jobs.get_job(job.id)).started is None:
            time.sleep(0.002)
        ours.append(row.started.timestamp() - sent)
        key = f"raw:{uuid.uuid4().hex}"
        sent = time.time()
        raw_start.send(key)
        while (value := client.get(key)) is None:
            time.sleep(0.002)
        base.append(float(value) - sent)
    print(f"Job round trip and progress on Redis + PostgreSQL ({n} samples each)")
    line("submit -> actor start", ours, base, "bare dramatiq")
    line("progress -> poll sees", progress_lags(n), raw_sql_lags(n, db_url), "raw SQL update")


def progress_lags(n: int) -> list[float]:
    import jobs

    job = jobs.submit("diagnostics.sleep", steps=n, interval=0.05)
    lags, seen = [], 0
    while True:
        row = jobs.get_job(job.id)
        now = time.time()
        lags += [now - m["ts"] for m in row.metrics[seen:]]
        seen = len(row.metrics)
        if row.state.finished:
            return lags
        time.sleep(0.01)


def raw_sql_lags(n: int, db_url: str) -> list[float]:
    """The same shape as progress_lags without the workbench: a writer thread updates a row every
    50 ms on one connection; a reader polls it every 10 ms on another."""
    import threading

    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_tick (id int primary key, ts double precision)"))
        c.execute(text("INSERT INTO bench_tick VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET ts = 0"))

    def writer() -> None:
        for _ in range(n):
            with engine.begin() as w:
                w.execute(text("UPDATE bench_tick SET ts = :t WHERE id = 1"), {"t": time.time()})
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    lags, last = [], 0.0
    with engine.connect() as reader:
        while thread.is_alive() or len(lags) < n:
            value = reader.execute(text("SELECT ts FROM bench_tick WHERE id = 1")).scalar()
            reader.commit()
            if value != last:
                lags.append(time.time() - value)
                last = value
            if not thread.is_alive() and value == last and len(lags) >= n - 1:
                break
            time.sleep(0.01)
    thread.join()
    engine.dispose()
    return lags


if __name__ == "__main__":
    main()
