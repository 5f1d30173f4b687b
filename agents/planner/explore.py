"""Intent: exploration. Overview, missing values, summary statistics, correlation, distribution, outliers,
duplicates and most frequent values."""

from __future__ import annotations

from agents.planner.clarify import missing_column, unknown_phrase
from agents.planner.parse import Ctx
from agents.reply import ToolCall

EDA = (
    (r"\bmissing|\bnulls?\b|\bnan\b|\bna\b|\bempty (values|cells|fields)|\bincomplete|\bblanks?\b", "missing"),
    (r"\bduplicat|\bdupes?\b|\brepeated rows", "duplicates"),
    (r"\boutliers?\b|\banomal|\bextreme values|\bunusual values", "outliers"),
    (r"\bcorrelat|\brelationship|\bassociat|\brelated\b", "correlation"),
    (r"\btop values|\bmost (common|frequent|popular)|\bvalue counts|\bfrequenc|\bunique values|"
     r"\bdistinct values|\bcategories|\blevels of|\bmode\b", "top_values"),
    (r"\bdistribut|\bspread|\bskew", "distribution"),
    (r"\bstatistic|\bstats\b|\bsummary statistics|\bmean\b|\baverage\b|\bmedian\b|\bstd\b|\bstandard deviation|"
     r"\bvariance\b|\brange\b|\bquartiles?", "statistics"),
    (r"\boverview|\bsummar|\bexplore|\beda\b|\bprofile|\blook like|\bquick look|\bfirst look|"
     r"\btell me about", "overview"),
)

COLUMN_ANALYSES = ("statistics", "distribution", "outliers", "top_values")


def rule_eda(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    for pattern, analysis in EDA:
        if ctx.has(pattern):
            cols = ctx.cols or None
            if analysis in ("overview", "duplicates", "missing"):
                cols = None if analysis != "missing" else cols
            if analysis == "correlation" and cols and len(cols) < 2:
                cols = None
            if analysis in COLUMN_ANALYSES and not ctx.cols and unknown_phrase(ctx):
                missing_column(ctx, f"the {analysis.replace('_', ' ')}")
                return None
            return ctx.call("eda_analysis", analysis=analysis, columns=cols)
    if ctx.has(r"\bdescribe\b|\bdescription\b|\bsummari[sz]e\b") and ctx.cols:
        return ctx.call("eda_analysis", analysis="statistics", columns=ctx.cols)
    return None
