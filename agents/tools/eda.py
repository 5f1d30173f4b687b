"""The exploratory-analysis tool: overview, missing values, statistics, correlation, distribution, outliers,
duplicates and most frequent values of a dataset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from agents import resolve
from agents.tools.registry import MAX_TABLE_ROWS, DatasetArg, ToolResult

ANALYSES = ("overview", "missing", "statistics", "correlation", "distribution", "outliers", "duplicates",
            "top_values")


class EdaArgs(DatasetArg):
    analysis: Literal[ANALYSES] = Field(description="Which analysis to run.")  # type: ignore[valid-type]
    columns: list[str] | None = Field(None, description="Columns to analyse (default: all suitable ones).")


def _frame(ds_ref: str, columns: list[str] | None) -> tuple[Any, pd.DataFrame, list[str] | None]:
    from core import datasets

    ds = resolve.dataset(ds_ref)
    cols = resolve.columns(ds, columns)
    return ds, datasets.load_frame(ds.id, columns=cols), cols


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.select_dtypes("number")


def eda_analysis(args: EdaArgs) -> ToolResult:
    ds, frame, cols = _frame(args.dataset, args.columns)
    return EDA[args.analysis](ds.name, frame, cols)


def _overview(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    missing = int(frame.isna().sum().sum())
    dupes = int(frame.duplicated().sum())
    table = pd.DataFrame({"column": frame.columns, "dtype": [str(t) for t in frame.dtypes],
                          "missing": frame.isna().sum().values, "distinct": frame.nunique().values})
    text = (f"{name}: {len(frame):,} rows × {frame.shape[1]} columns, {missing:,} missing cells, "
            f"{dupes:,} duplicate rows. Numeric columns: {', '.join(_numeric(frame).columns) or 'none'}.")
    return ToolResult(text, table=table)


def _missing(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    counts = frame.isna().sum()
    table = pd.DataFrame({"column": counts.index, "missing": counts.values,
                          "missing_pct": (100 * counts.values / max(len(frame), 1)).round(2)})
    table = table.sort_values("missing", ascending=False)
    with_gaps = table[table["missing"] > 0]
    if with_gaps.empty:
        return ToolResult(f"{name} has no missing values.", table=table)
    parts = ", ".join(f"{r.column} {r.missing} ({r.missing_pct}%)" for r in with_gaps.itertuples())
    return ToolResult(f"Missing values in {name}: {parts}.", table=table)


def _statistics(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    table = frame.describe(include="all").T.reset_index(names="column")
    table = table.astype(object).where(table.notna(), None)
    num = _numeric(frame)
    parts = [f"{c}: mean {num[c].mean():.4g}, median {num[c].median():.4g}, std {num[c].std():.4g}, "
             f"min {num[c].min():.4g}, max {num[c].max():.4g}" for c in num.columns[:6]]
    return ToolResult(f"Summary statistics of {name}. " + "; ".join(parts), table=table)


def _correlation(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    import plotly.express as px

    num = _numeric(frame)
    if num.shape[1] < 2:
        return ToolResult("Correlation needs at least two numeric columns.", ok=False)
    corr = num.corr().round(3)
    fig = px.imshow(corr, text_auto=True, color_continuous_scale="RdBu_r", zmin=-1, zmax=1,
                    title=f"Correlation in {name}")
    pairs = [(a, b, corr.loc[a, b]) for i, a in enumerate(corr.columns) for b in corr.columns[i + 1:]]
    pairs.sort(key=lambda p: -abs(p[2]) if pd.notna(p[2]) else 0)
    if len(pairs) == 1:
        a, b, r = pairs[0]
        text = f"The Pearson correlation between {a} and {b} in {name} is r = {r:.3f}."
    else:
        text = "Strongest correlations: " + "; ".join(f"{a}–{b}: r = {r:.3f}" for a, b, r in pairs[:5])
    return ToolResult(text, table=corr.reset_index(names="column"), figure=fig)


def _distribution(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    import plotly.express as px

    num = _numeric(frame)
    if num.empty:
        return _top_values(name, frame, _cols)
    col = num.columns[0]
    fig = px.histogram(frame, x=col, marginal="box", title=f"Distribution of {col}")
    table = pd.DataFrame({"column": num.columns, "mean": num.mean().values, "median": num.median().values,
                          "std": num.std().values, "skew": num.skew().values, "kurtosis": num.kurt().values})
    s = num[col]
    text = (f"{col}: mean {s.mean():.4g}, median {s.median():.4g}, std {s.std():.4g}, skew {s.skew():.3f} "
            f"({'right' if s.skew() > 0.5 else 'left' if s.skew() < -0.5 else 'roughly'} "
            f"{'skewed' if abs(s.skew()) > 0.5 else 'symmetric'}).")
    return ToolResult(text, table=table.round(4), figure=fig)


def _outliers(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    rows = []
    for col in _numeric(frame).columns:
        s = frame[col].dropna()
        q1, q3 = s.quantile(0.25), s.quantile(0.75)
        lo, hi = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
        rows.append({"column": col, "lower_bound": lo, "upper_bound": hi,
                     "outliers": int(((s < lo) | (s > hi)).sum()), "rows": len(s)})
    if not rows:
        return ToolResult("Outlier detection needs numeric columns.", ok=False)
    table = pd.DataFrame(rows).sort_values("outliers", ascending=False)
    parts = ", ".join(f"{r['column']} {r['outliers']}" for r in rows)
    return ToolResult(f"Outliers by the IQR rule (1.5 × IQR beyond the quartiles) in {name}: {parts}.",
                      table=table.round(4))


def _duplicates(name: str, frame: pd.DataFrame, _cols: list[str] | None) -> ToolResult:
    mask = frame.duplicated(keep=False)
    n = int(frame.duplicated().sum())
    text = f"{name} has {n:,} duplicate row(s)" + ("." if n else ": every row is unique.")
    return ToolResult(text, table=frame[mask].head(MAX_TABLE_ROWS) if n else None)


def _top_values(name: str, frame: pd.DataFrame, cols: list[str] | None) -> ToolResult:
    candidates = cols or [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    tables, parts = [], []
    for col in (candidates or list(frame.columns))[:5]:
        counts = frame[col].value_counts().head(10)
        tables.append(pd.DataFrame({"column": col, "value": counts.index.astype(str), "count": counts.values}))
        parts.append(f"{col}: " + ", ".join(f"{v} ({c})" for v, c in list(counts.items())[:3]))
    return ToolResult("Most frequent values — " + "; ".join(parts), table=pd.concat(tables, ignore_index=True))


EDA: dict[str, Callable[[str, pd.DataFrame, list[str] | None], ToolResult]] = {
    "overview": _overview, "missing": _missing, "statistics": _statistics, "correlation": _correlation,
    "distribution": _distribution, "outliers": _outliers, "duplicates": _duplicates, "top_values": _top_values,
}

