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


def top_values(values: pa.ChunkedArray, k: int, *, as_text: bool) -> list[tuple[Any, int]]:
    """The `k` commonest non-null values with their counts, most frequent first, ties by value."""
    counts = pc.value_counts(values.drop_null())
    if len(counts) == 0:
        return []
    table = pa.table({"value": counts.field("values"), "count": counts.field("counts")})
    if as_text:
        pairs = [(text_of(v), n) for v, n in zip(table["value"].to_pylist(), table["count"].to_pylist(), strict=True)]
        return sorted(pairs, key=lambda vn: (-vn[1], vn[0]))[:k]
    order = pc.sort_indices(table, sort_keys=[("count", "descending"), ("value", "ascending")])
    best = table.take(order[:k])
    return list(zip(best["value"].to_pylist(), best["count"].to_pylist(), strict=True))


def histogram_counts(values: pa.ChunkedArray, lo: float, width: float, bins: int) -> list[int]:
    """Counts of the non-null values in `bins` equal bins of `width` from `lo` (the last bin holds the maximum)."""
    data = values.drop_null().to_numpy().astype("float64")
    index = np.minimum(np.floor((data - lo) / width), bins - 1).astype("int64")
    return np.bincount(index[index >= 0], minlength=bins)[:bins].tolist()
