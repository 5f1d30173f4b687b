"""Alerts: findings in a profile an analyst should look at (empty, constant, missing, skewed, imbalanced,
mixed-type and identifier columns, strong correlations, duplicate rows), most important first."""

from __future__ import annotations

from core.eda.models import Alert, ColumnProfile, Profile

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def alerts(prof: Profile) -> list[Alert]:
    """Findings an analyst should look at, most important first."""
    out: list[Alert] = []
    for c in prof.columns:
        out += _column_alerts(c, prof.rows)
    strong = [c for c in prof.correlations if abs(c.value) >= 0.9 and c.method != "spearman"]
    for c in strong:
        out.append(Alert(kind="high_correlation", column=f"{c.a} / {c.b}",
                         message=f"{c.a} and {c.b} are highly correlated ({c.method.replace('_', ' ')} {c.value:.2f}).",
                         severity="info"))
    if prof.duplicate_rows:
        out.append(Alert(kind="duplicates", column="(all)", message=f"{prof.duplicate_rows:,} duplicate rows "
                         f"({prof.duplicate_pct:g}%).", severity="warning"))
    return sorted(out, key=lambda a: SEVERITY_ORDER.get(a.severity, 3))


def _column_alerts(c: ColumnProfile, rows: int) -> list[Alert]:
    non_null = rows - c.missing
    if c.missing == rows and rows:
        return [Alert(kind="empty", column=c.name, message=f"{c.name} is empty in every row.", severity="error")]
    out = []
    if c.missing_pct >= 20:
        out.append(Alert(kind="high_missing", column=c.name, message=f"{c.name} is missing in {c.missing_pct:g}% of rows."))
    if c.distinct == 1:
        out.append(Alert(kind="constant", column=c.name, message=f"{c.name} has a single value"
                         f"{f' ({c.top_values[0].value!r})' if c.top_values else ''}."))
    if c.kind == "identifier":
        out.append(Alert(kind="identifier", column=c.name, message=f"{c.name} looks like an identifier (unique per row).",
                         severity="info"))
    elif c.kind == "text" and non_null and c.distinct / non_null > 0.5:
        out.append(Alert(kind="high_cardinality", column=c.name,
                         message=f"{c.name} has {c.distinct:,} distinct values.", severity="info"))
    if c.skewness is not None and abs(c.skewness) > 2:
        out.append(Alert(kind="skewed", column=c.name, message=f"{c.name} is strongly skewed ({c.skewness:.1f}).",
                         severity="info"))
    return out + _value_alerts(c, non_null)


def _value_alerts(c: ColumnProfile, non_null: int) -> list[Alert]:
    out = []
    if c.kind in ("categorical", "boolean") and c.top_values and non_null and c.distinct > 1:
        share = c.top_values[0].count / non_null
        if share >= 0.9:
            out.append(Alert(kind="imbalance", column=c.name, message=f"{c.name} is imbalanced: "
                             f"{c.top_values[0].value!r} is {share:.0%} of values."))
    if c.numeric_share is not None and 0.05 <= c.numeric_share <= 0.95:
        out.append(Alert(kind="mixed_types", column=c.name, message=f"{c.name} mixes numbers ({c.numeric_share:.0%}) "
                         "and text.", severity="warning"))
    return out
