"""Correlations between columns: Pearson and Spearman (numeric pairs), Cramér's V (categorical pairs) and the
correlation ratio (categorical against numeric), over the relation `data`.

At most MAX_CORR_COLUMNS columns of each kind take part. Spearman uses a reproducible sample of at most
SPEARMAN_SAMPLE rows; the other measures use every row.
"""

from __future__ import annotations

import math
from typing import Any

import duckdb
import numpy as np

from core.duck import quote
from core.eda.kinds import CATEGORICAL_MAX, num
from core.eda.models import ColumnProfile, Correlation

MAX_CORR_COLUMNS = 25
SPEARMAN_SAMPLE = 200_000


def candidates(cols: list[ColumnProfile]) -> tuple[list[ColumnProfile], list[ColumnProfile]]:
    """The numeric and the categorical columns that take part."""
    numeric = [c for c in cols if c.kind == "numeric" and (c.std or 0) > 0][:MAX_CORR_COLUMNS]
    cats = [c for c in cols if c.kind in ("categorical", "boolean") and 1 < c.distinct
            <= CATEGORICAL_MAX][:MAX_CORR_COLUMNS]
    return numeric, cats


def correlations(con: duckdb.DuckDBPyConnection, cols: list[ColumnProfile], rows: int
                 ) -> tuple[list[Correlation], int]:
    """Every measure over the candidate columns; also the number of rows Spearman used."""
    numeric, cats = candidates(cols)
    out = pearson(con, numeric)
    ranked, sample = spearman(con, numeric, rows)
    if cats and math.prod(c.distinct + 1 for c in cats) <= JOINT_GROUPS:
        out += ranked + categorical_measures(con, cats, numeric, rows)
    else:
        out += ranked + cramers_v(con, cats) + correlation_ratio(con, cats, numeric, rows)
    return out, sample


JOINT_GROUPS = 100_000  # most combinations of categories for which one GROUP BY serves every categorical measure


def categorical_measures(con: duckdb.DuckDBPyConnection, cats: list[ColumnProfile], nums: list[ColumnProfile],
                         rows: int) -> list[Correlation]:
    """Cramér's V of every categorical pair and the correlation ratio of every categorical-numeric pair, from
    one scan: the rows counted (with each numeric column's count and sum) per combination of all the
    categories, which is small when each has few values; each measure sums the combinations it needs, so the
    figures are those of `cramers_v` and `correlation_ratio` (one hash table instead of one per pair)."""
    keys = ", ".join(quote(c.name) for c in cats)
    stats = "".join(f", count({quote(x.name)}), sum({quote(x.name)}::DOUBLE)" for x in nums)
    groups = con.execute(f"SELECT {keys}, count(*){stats} FROM data GROUP BY ALL").fetchall()
    out = []
    for i in range(len(cats)):
        for j in range(i + 1, len(cats)):
            cells: dict[tuple[Any, Any], int] = {}
            for g in groups:
                if g[i] is not None and g[j] is not None:
                    cells[(g[i], g[j])] = cells.get((g[i], g[j]), 0) + g[len(cats)]
            value = _cramers_v(cells)
            if value is not None:
                out.append(Correlation(a=cats[i].name, b=cats[j].name, method="cramers_v", value=round(value, 4)))
    return out + _ratios_of_groups(cats, nums, groups, rows)


def _ratios_of_groups(cats: list[ColumnProfile], nums: list[ColumnProfile], groups: list[tuple], rows: int
                      ) -> list[Correlation]:
    """The correlation ratio of each categorical-numeric pair from per-combination counts and sums (a missing
    category is a group of its own, as in `correlation_ratio`)."""
    out = []
    base = len(cats) + 1
    for j, x in enumerate(nums):
        total = (x.std or 0) ** 2 * (rows - x.missing - 1)
        if total <= 0 or x.mean is None:
            continue
        for i, c in enumerate(cats):
            sums: dict[Any, list[float]] = {}
            for g in groups:
                acc = sums.setdefault(g[i], [0.0, 0.0])
                acc[0] += g[base + 2 * j] or 0
                acc[1] += g[base + 2 * j + 1] or 0.0
            between = sum(n * (t / n - x.mean) ** 2 for n, t in sums.values() if n)
            eta = math.sqrt(min(max(between / total, 0.0), 1.0))
            out.append(Correlation(a=c.name, b=x.name, method="correlation_ratio", value=round(eta, 4)))
    return out


def pearson(con: duckdb.DuckDBPyConnection, cols: list[ColumnProfile]) -> list[Correlation]:
    pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
    if not pairs:
        return []
    parts = ", ".join(f"corr({quote(a.name)}::DOUBLE, {quote(b.name)}::DOUBLE)" for a, b in pairs)
    values = con.execute(f"SELECT {parts} FROM data").fetchall()[0]
    return [Correlation(a=a.name, b=b.name, method="pearson", value=round(v, 4))
            for (a, b), v in zip(pairs, values, strict=True) if num(v) is not None]


def spearman(con: duckdb.DuckDBPyConnection, cols: list[ColumnProfile], rows: int) -> tuple[list[Correlation], int]:
    if len(cols) < 2:
        return [], 0
    names = [c.name for c in cols]
    select = ", ".join(f"{quote(n)}::DOUBLE" for n in names)
    share = min(100.0, 100.0 * SPEARMAN_SAMPLE / max(rows, 1))
    sample = f" USING SAMPLE {share:.4f}% (bernoulli, 42)" if rows > SPEARMAN_SAMPLE else ""
    table = con.sql(f"SELECT {select} FROM data{sample}").to_arrow_table()
    # one float64 copy of the sample (missing values as NaN), not a masked array and its copies per column
    matrix = np.column_stack([table.column(k).to_numpy() for k in range(table.num_columns)])
    del table
    ranks: dict[int, np.ndarray] = {}  # whole-column ranks, for pairs where neither column misses a value
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            mask = ~np.isnan(matrix[:, i]) & ~np.isnan(matrix[:, j])
            if mask.sum() < 3:
                continue
            if mask.all():
                for k in (i, j):
                    if k not in ranks:
                        ranks[k] = _rank(matrix[:, k])
                ri, rj = ranks[i], ranks[j]
            else:
                ri, rj = _rank(matrix[mask, i]), _rank(matrix[mask, j])
            value = num(np.corrcoef(ri, rj)[0, 1])
            if value is not None:
                out.append(Correlation(a=names[i], b=names[j], method="spearman", value=round(value, 4)))
    return out, matrix.shape[0]


def cramers_v(con: duckdb.DuckDBPyConnection, cols: list[ColumnProfile]) -> list[Correlation]:
    pairs = [(a, b) for i, a in enumerate(cols) for b in cols[i + 1:]]
    if not pairs:
        return []
    names = [quote(c.name) for c in cols]
    sets = ", ".join(f"({quote(a.name)}, {quote(b.name)})" for a, b in pairs)
    grouping = ", ".join(f"GROUPING({n})" for n in names)
    sql = (f"SELECT [{grouping}] AS g, {', '.join(f'{n}::VARCHAR' for n in names)}, count(*) FROM data "
           f"GROUP BY GROUPING SETS ({sets})")
    tables: dict[tuple[int, int], dict[tuple[str, str], int]] = {}
    for g, *values, n in con.execute(sql).fetchall():
        i, j = [k for k, flag in enumerate(g) if flag == 0]
        if values[i] is None or values[j] is None:
            continue
        tables.setdefault((i, j), {})[(values[i], values[j])] = n
    out = []
    for (i, j), cells in tables.items():
        value = _cramers_v(cells)
        if value is not None:
            out.append(Correlation(a=cols[i].name, b=cols[j].name, method="cramers_v", value=round(value, 4)))
    return out


def correlation_ratio(con: duckdb.DuckDBPyConnection, cats: list[ColumnProfile], nums: list[ColumnProfile],
                      rows: int) -> list[Correlation]:
    if not cats or not nums:
        return []
    cat_names = [quote(c.name) for c in cats]
    stats = ", ".join(f"count({quote(x.name)}), avg({quote(x.name)}::DOUBLE)" for x in nums)
    grouping = ", ".join(f"GROUPING({n})" for n in cat_names)
    sql = (f"SELECT [{grouping}] AS g, {stats} FROM data GROUP BY GROUPING SETS "
           f"({', '.join(f'({n})' for n in cat_names)})")
    between = np.zeros((len(cats), len(nums)))
    for g, *values in con.execute(sql).fetchall():
        i = g.index(0)
        for j, x in enumerate(nums):
            count, mean = values[2 * j], values[2 * j + 1]
            if count and mean is not None and x.mean is not None:
                between[i, j] += count * (mean - x.mean) ** 2
    out = []
    for j, x in enumerate(nums):
        total = (x.std or 0) ** 2 * (rows - x.missing - 1)
        for i, c in enumerate(cats):
            if total > 0:
                eta = math.sqrt(min(max(between[i, j] / total, 0.0), 1.0))
                out.append(Correlation(a=c.name, b=x.name, method="correlation_ratio", value=round(eta, 4)))
    return out


def _rank(values: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as Spearman needs."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype="float64")
    ranks[order] = np.arange(1, len(values) + 1)
    sorted_vals = values[order]
    _, first, counts = np.unique(sorted_vals, return_index=True, return_counts=True)
    if len(counts) < len(values):
        mean_rank = first + (counts + 1) / 2
        ranks[order] = np.repeat(mean_rank, counts)
    return ranks


def _cramers_v(cells: dict[tuple[str, str], int]) -> float | None:
    rows = sorted({a for a, _ in cells})
    cols = sorted({b for _, b in cells})
    if len(rows) < 2 or len(cols) < 2:
        return None
    ri, ci = {v: i for i, v in enumerate(rows)}, {v: i for i, v in enumerate(cols)}
    table = np.zeros((len(rows), len(cols)))
    for (a, b), n in cells.items():
        table[ri[a], ci[b]] = n
    total = table.sum()
    expected = np.outer(table.sum(1), table.sum(0)) / total
    chi2 = float(((table - expected) ** 2 / np.where(expected == 0, 1, expected)).sum())
    return math.sqrt(chi2 / total / (min(table.shape) - 1))
