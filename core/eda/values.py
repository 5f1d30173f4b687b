"""One column's values as an Arrow array: exact distinct count, examples, top values and histogram counts.

These run in pyarrow and numpy, whose cost per column is microseconds, where a DuckDB aggregate such as
count(DISTINCT) or histogram() costs milliseconds per column even on a few rows; on wide data that
difference is the whole profile.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from core.eda.kinds import text_of

EXAMPLE_ROWS = 200


def distinct_count(values: pa.ChunkedArray) -> int:
    """Exact number of distinct non-null values."""
    try:
        return int(pc.count_distinct(values, mode="only_valid").as_py())
    except pa.ArrowNotImplementedError:  # a type pyarrow cannot hash: count its text forms
        return len({str(v) for v in values.to_pylist() if v is not None})


def examples(values: pa.ChunkedArray, limit: int = 5) -> list[str]:
    """Up to `limit` distinct values, as text (booleans as DuckDB writes them), from the first EXAMPLE_ROWS rows."""
    head = values.slice(0, EXAMPLE_ROWS).drop_null()
    try:
        first = pc.unique(head)[:limit].to_pylist()
    except pa.ArrowNotImplementedError:  # a type pyarrow cannot hash: the first values as they come
        first = head.to_pylist()
    return list(dict.fromkeys(text_of(v)[:80] for v in first))[:limit]


def value_counts(values: pa.ChunkedArray) -> pa.Table:
    """Every distinct non-null value (`value`) with its number of rows (`count`), in order of appearance."""
    counts = pc.value_counts(values.drop_null())
    return pa.table({"value": counts.field("values"), "count": counts.field("counts")})


def top_values(values: pa.ChunkedArray, k: int, *, as_text: bool, counts: pa.Table | None = None
               ) -> list[tuple[Any, int]]:
    """The `k` commonest non-null values with their counts, most frequent first, ties by value (`counts`: the
    column's `value_counts`, when already made)."""
    table = value_counts(values) if counts is None else counts
    if table.num_rows == 0:
        return []
    if as_text:
        pairs = [(text_of(v), n) for v, n in zip(table["value"].to_pylist(), table["count"].to_pylist(), strict=True)]
        return sorted(pairs, key=lambda vn: (-vn[1], vn[0]))[:k]
    order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("value", "ascending")])
    best = table.take(order[:k])
    return list(zip(best["value"].to_pylist(), best["count"].to_pylist(), strict=True))


def histogram_counts(values: pa.ChunkedArray, lo: float, width: float, bins: int) -> list[int]:
    """Counts of the non-null values in `bins` equal bins of `width` from `lo` (the last bin holds the maximum),
    BLOCK values at a time, so the temporaries stay small whatever the column's length."""
    total = np.zeros(bins, dtype="int64")
    for start in range(0, len(values), BLOCK):
        data = values.slice(start, BLOCK).drop_null().to_numpy().astype("float64")
        data -= lo
        data /= width
        np.floor(data, out=data)
        np.minimum(data, bins - 1, out=data)
        index = data.astype("int64")
        total += np.bincount(index[index >= 0], minlength=bins)[:bins]
    return total.tolist()


BLOCK = 1 << 16  # values per step of the histogram and of the largest gap
UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def largest_gap_seconds(values: pa.ChunkedArray) -> float | None:
    """The largest gap, in seconds, between consecutive distinct values of a date or timestamp column (that of
    the sorted values: equal neighbours add gaps of zero), or None for another type or fewer than two values."""
    kind = values.type
    if pa.types.is_date32(kind):
        raw, scale = values.cast(pa.int32()), 86400.0
    elif pa.types.is_date64(kind):
        raw, scale = values.cast(pa.int64()), 1e-3
    elif pa.types.is_timestamp(kind):
        raw, scale = values.cast(pa.int64()), UNIT_SECONDS[kind.unit]
    else:
        return None
    parts = [chunk.drop_null().to_numpy() for chunk in raw.chunks]  # a chunk at a time: one copy in all
    data = np.concatenate(parts) if parts else np.empty(0, dtype="int64")
    del parts
    if len(data) < 2:
        return None
    data.sort()
    last = len(data) - 1
    gap = max(int((data[i + 1:min(i + BLOCK, last) + 1] - data[i:min(i + BLOCK, last)]).max())
              for i in range(0, last, BLOCK))
    return gap * scale
