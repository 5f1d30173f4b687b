"""The scale benchmark's data: the datasets benchmark's 12-column mix, written in chunks as Parquet and CSV.

Only one chunk (CHUNK rows) is ever in memory, so 100 million rows can be written on a small machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK = 1_000_000


def chunk(rng: np.random.Generator, start: int, rows: int) -> pa.Table:
    """`rows` rows of numbers, categories, dates, timestamps and booleans, 3% missing (ids from `start`)."""

    def gaps(values: object) -> pa.Array:
        return pa.array(values, mask=rng.random(rows) < 0.03)

    return pa.table({
        "id": pa.array(np.arange(start, start + rows)),
        "amount": gaps(rng.normal(100, 25, rows).round(2)),
        "qty": gaps(rng.integers(0, 50, rows)),
        "price": gaps(rng.lognormal(3, 1, rows).round(2)),
        "score": gaps(rng.random(rows).round(3)),
        "region": gaps(np.array(["north", "south", "east", "west", "centre"])[rng.integers(0, 5, rows)]),
        "segment": gaps(np.array(list("abcdefgh"))[rng.integers(0, 8, rows)]),
        "city": gaps(np.char.add("c", rng.integers(0, 300, rows).astype(str))),
        "day": gaps(np.datetime64("2020-01-01") + rng.integers(0, 1500, rows).astype("timedelta64[D]")),
        "seen": gaps(np.datetime64("2023-01-01T00:00:00") + (rng.integers(0, 10**6, rows) * 60).astype("timedelta64[s]")),
        "active": gaps(rng.random(rows) < 0.7),
        "flag": gaps(rng.random(rows) < 0.1),
    })


def generate(folder: Path, rows: int, *, csv: bool = True) -> tuple[Path, Path | None]:
    """`scale-<rows>.parquet` (and `.csv`) under `folder`, written once, a chunk at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    parquet, text = folder / f"scale-{rows}.parquet", folder / f"scale-{rows}.csv"
    if parquet.exists() and (text.exists() or not csv):
        return parquet, text if csv else None
    rng = np.random.default_rng(0)
    tmp_pq, tmp_csv = parquet.with_suffix(".tmp"), text.with_suffix(".csvtmp")
    first = chunk(rng, 0, min(CHUNK, rows))
    with pq.ParquetWriter(tmp_pq, first.schema, compression="snappy") as pw:
        writer = pacsv.CSVWriter(tmp_csv, first.schema, write_options=pacsv.WriteOptions(quoting_style="needed")) \
            if csv else None
        done, part = 0, first
        while True:
            pw.write_table(part)
            if writer:
                writer.write_table(part)
            done += part.num_rows
            if done >= rows:
                break
            part = chunk(rng, done, min(CHUNK, rows - done))
        if writer:
            writer.close()
    tmp_pq.rename(parquet)
    if csv:
        tmp_csv.rename(text)
    return parquet, text if csv else None
