"""The intents of the grounded planner and how each fills its tool call from the grounded message.

Roles come from the data, not from word order: a column whose levels the message names is the grouping
column; a yes/no or 0/1 column named in a count is a condition on its true level; a numeric column that
is not a group is the value. Hypothesis tests follow the inputs: two levels means a two-sample test, more
an ANOVA-family test; a test the request names is honoured when its inputs fit, else the answer says why
and runs the one that fits. SQL is built from quoted names and literals of values read from the data.
"""

from __future__ import annotations

import re
from typing import Any

from agents.planner.charts import rule_charts
from agents.planner.clarify import missing_column, unknown_phrase
from agents.planner.datasets import rule_info, rule_list_datasets
from agents.planner.documents import rule_definition, rule_documents
from agents.planner.grounding import false_level, is_binary, true_level, words
from agents.planner.intents import Intent, register
from agents.planner.ml import rule_job, rule_predict, rule_train
from agents.planner.parse import GROUP_SEP, Ctx
from agents.reply import ToolCall
from core.duck import quote
from core.expressions import literal

NAMED_TESTS: tuple[tuple[str, str], ...] = (
    (r"mann[\s\-]?whitney|\bu[\s\-]test\b|wilcoxon rank|rank[\s\-]sum", "mannwhitney"),
    (r"\bkruskal", "kruskal"), (r"\bfisher", "fisher_exact"), (r"\blevene", "levene"), (r"\bbartlett", "bartlett"),
    (r"\bkendall", "kendall"), (r"\bspearman", "spearman"), (r"\bpearson", "pearson"),
    (r"\bchi[\s\-]?(square|squared|sq|2)\b|\bchi2\b", "chi2_independence"),
    (r"\banova\b|analysis of variance", "anova_oneway"),
    (r"\bwelch\b|\bt[\s\-]?test\b|\bttest\b|\bstudent", "ttest_ind"),
    (r"\bshapiro|\bnormality\b|\bnormal(ly)?\b|\bgaussian\b|bell[\s\-]?(shaped|curve)", "shapiro"),
)
TWO = {"ttest_ind", "mannwhitney"}
MANY = {"anova_oneway", "kruskal"}
SPREAD = {"levene", "bartlett"}
ASSOC = {"chi2_independence", "fisher_exact"}
CORR = {"pearson", "spearman", "kendall"}
FITTING = {"mannwhitney": "kruskal", "ttest_ind": "anova_oneway"}


def named_test(ctx: Ctx) -> str | None:
    return next((test for pattern, test in NAMED_TESTS if ctx.has(pattern)), None)


# ---------------------------------------------------------------- roles of the named columns

def _levels(ctx: Ctx, col: str) -> list[Any]:
    return list(ctx.ds.levels.get(col, [])) if ctx.ds else []


def _is_group(ctx: Ctx, col: str) -> bool:
    """Text and boolean columns, and 0/1 columns, hold groups."""
    return ctx.ds.kinds.get(col) == "categorical" or is_binary(_levels(ctx, col))


def group_columns(ctx: Ctx) -> list[str]:
    """Columns whose levels are named, then the group-like columns named, in order."""
    named = list(dict.fromkeys(v.column for v in ctx.values))
    return named + [c for c in ctx.cols if c not in named and _is_group(ctx, c)]


def value_columns(ctx: Ctx) -> list[str]:
    return [c for c in ctx.cols if ctx.ds.kinds.get(c) == "numeric" and not _is_group(ctx, c)]


def named_levels(ctx: Ctx, col: str) -> list[Any]:
    """The levels of `col` the message names; a binary column named with a negation ("smokers and non-smokers",
    "those who churned and those who stayed") names both of its levels."""
    found = list(dict.fromkeys(v.level for v in ctx.values if v.column == col))
    return found


# ---------------------------------------------------------------- hypothesis tests

def build_compare(ctx: Ctx) -> list[ToolCall] | None:
    """A number compared between groups: two-sample when two levels, ANOVA-family when more."""
    return _tests(ctx, prefer="compare")


def build_relation(ctx: Ctx) -> list[ToolCall] | None:
    """Is there a relationship between two columns, tested: correlation for two numbers, chi-square for two
    categories, a group comparison for one of each."""
    return _tests(ctx, prefer="relation")


def build_normality(ctx: Ctx) -> list[ToolCall] | None:
    value = (value_columns(ctx) or [None])[0]
    return ctx.call("hypothesis_test", test="shapiro", value=value) if value else None


def _tests(ctx: Ctx, *, prefer: str) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    named = named_test(ctx)
    values, groups = value_columns(ctx), group_columns(ctx)
    if named == "shapiro" and values:
        return build_normality(ctx)
    if named in CORR or (named is None and prefer == "relation" and len(values) >= 2 and not ctx.values):
        if len(values) >= 2:
            return ctx.call("hypothesis_test", test=named if named in CORR else "pearson", x=values[0], y=values[1])
        if named in CORR:
            return _explain_misfit(ctx, named, "needs two numeric columns", values, groups)
    if named in ASSOC or (not values and len(groups) >= 2):
        if len(groups) >= 2:
            return ctx.call("hypothesis_test", test=named if named in ASSOC else "chi2_independence",
                            x=groups[0], y=groups[1])
        if named in ASSOC:
            return _explain_misfit(ctx, named, "needs two categorical columns", values, groups)
    if values and groups:
        return _compare(ctx, named, values[0], groups[0])
    if values and len(values) >= 2 and prefer == "relation":
        return ctx.call("hypothesis_test", test="pearson", x=values[0], y=values[1])
    missing_column(ctx, f"a {named or 'hypothesis'} test")
    return None


def _compare(ctx: Ctx, named: str | None, value: str, group: str) -> list[ToolCall]:
    levels = named_levels(ctx, group)
    every = _levels(ctx, group)
    restrict = sorted(levels, key=str) if len(levels) >= 2 and len(levels) < len(every) else None
    k = len(levels) if len(levels) >= 2 else (len(every) or None)
    default = "ttest_ind" if k == 2 else "anova_oneway"
    test = named if named in TWO | MANY | SPREAD else default
    if named in TWO and k is not None and k > 2:
        test = FITTING[named]
        ctx.notes.append(f"_{named} compares two groups, but {group} has {k} here, so I ran {test} instead._")
    elif named in ASSOC | CORR:
        test = default
        ctx.notes.append(f"_{named} needs two columns of the same kind; {value} is a number and {group} holds "
                         f"groups, so I ran {test} instead._")
    return ctx.call("hypothesis_test", test=test, value=value, group=group,
                    levels=[_plain(v) for v in restrict] if restrict else None)


def _explain_misfit(ctx: Ctx, named: str, why: str, values: list[str], groups: list[str]) -> list[ToolCall] | None:
    if values and groups:
        return _compare(ctx, named, values[0], groups[0])
    missing_column(ctx, f"a {named} test, which {why}")
    return None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# ---------------------------------------------------------------- counts and aggregates (SQL)

COMPARATORS = (("at least", ">="), ("at most", "<="), ("more than", ">"), ("greater than", ">"), ("above", ">"),
               ("over", ">"), ("less than", "<"), ("below", "<"), ("under", "<"), ("fewer than", "<"),
               ("equal to", "="), ("of", "="), ("is", "="), ("=", "="), ("equals", "="), ("with", "="))
AGGS = (("average", "AVG"), ("avg", "AVG"), ("mean", "AVG"), ("typical", "AVG"), ("median", "MEDIAN"),
        ("total", "SUM"), ("sum", "SUM"), ("overall", "SUM"), ("maximum", "MAX"), ("max", "MAX"),
        ("highest", "MAX"), ("largest", "MAX"), ("biggest", "MAX"), ("longest", "MAX"), ("most", "MAX"),
        ("top", "MAX"), ("minimum", "MIN"), ("min", "MIN"), ("lowest", "MIN"), ("smallest", "MIN"),
        ("shortest", "MIN"), ("cheapest", "MIN"), ("least", "MIN"))
ALIAS = {"AVG": "mean", "MEDIAN": "median", "SUM": "sum", "MAX": "max", "MIN": "min"}


def conditions(ctx: Ctx, *, skip: set[str]) -> list[str]:
    """WHERE terms: named values (col = level), yes/no columns named (col = its true level), and numbers
    after a numeric column ("a rating of 5", "stay over 10")."""
    terms: dict[str, str] = {}
    for v in ctx.values:
        if v.column in skip:
            continue
        op = "<>" if v.negated else "="
        terms.setdefault(v.column, f"{quote(v.column)} {op} {literal(_plain(v.level))}")
    for m in ctx.mentions:
        col = m.column
        if col in skip or col in terms:
            continue
        levels = _levels(ctx, col)
        if is_binary(levels):
            neg = _negated_before(ctx.low, m.start)
            level = false_level(levels) if neg else true_level(levels)
            terms[col] = f"{quote(col)} = {literal(_plain(level))}"
            continue
        number = _number_after(ctx.low, m.end)
        if number is not None and ctx.ds.kinds.get(col) == "numeric":
            op, value = number
            terms[col] = f"{quote(col)} {op} {literal(value)}"
    return list(terms.values())


def _negated_before(low: str, start: int) -> bool:
    from agents.planner.grounding import _negated

    return _negated(low, start)


def _number_after(low: str, end: int) -> tuple[str, int | float] | None:
    """"of 5", "above 10", "= 3" right after a column name (at most three words on)."""
    rest = low[end:end + 40]
    toks = [w for _, _, w in words(rest)][:4]
    text = " " + " ".join(toks) + " "
    for phrase, op in COMPARATORS:
        hit = re.match(rf"\s(?:\w+\s)?{re.escape(phrase)}\s(\d+(?:\.\d+)?)\s", text)
        if hit:
            num = float(hit.group(1))
            return op, int(num) if num.is_integer() else num
    hit = re.match(r"\s(\d+(?:\.\d+)?)\s", text)
    if hit:
        num = float(hit.group(1))
        return "=", int(num) if num.is_integer() else num
    return None


def _group_by(ctx: Ctx) -> str | None:
    parts = ctx.split(GROUP_SEP)
    if not parts or not parts[1]:
        return None
    return next((c for c in parts[1] if _is_group(ctx, c) or ctx.ds.kinds.get(c) == "categorical"), None)


def _table(ctx: Ctx) -> str:
    return quote(ctx.ds.name)


def _where(terms: list[str]) -> str:
    return f" WHERE {' AND '.join(terms)}" if terms else ""


def build_count(ctx: Ctx) -> list[ToolCall] | None:
    """How many rows, with the conditions the message names as WHERE, by a group when it says 'per'."""
    if ctx.ds is None:
        return None
    group = _group_by(ctx)
    terms = conditions(ctx, skip={group} if group else set())
    if group is None and not terms:
        distinct = ctx.has(r"\b(distinct|unique|different)\b")
        named = [c for c in ctx.cols]
        if distinct and named:
            col = named[0]
            return ctx.call("sql_query", sql=f"SELECT COUNT(DISTINCT {quote(col)}) AS {quote('distinct_' + col)} "
                                             f"FROM {_table(ctx)}")
        cats = [c for c in named if ctx.ds.kinds.get(c) == "categorical"]
        if cats:
            group = cats[0]
    if group:
        return ctx.call("sql_query", sql=f"SELECT {quote(group)}, COUNT(*) AS count FROM {_table(ctx)}"
                                         f"{_where(terms)} GROUP BY 1 ORDER BY count DESC")
    alias = "count" if terms else "row_count"
    return ctx.call("sql_query", sql=f"SELECT COUNT(*) AS {alias} FROM {_table(ctx)}{_where(terms)}")


def _agg_fn(ctx: Ctx) -> str | None:
    return next((fn for word, fn in AGGS if ctx.has(rf"\b{word}\b")), None)


def build_aggregate(ctx: Ctx) -> list[ToolCall] | None:
    """An average, total, maximum... of a number, with conditions as WHERE and a group when it says 'by'."""
    if ctx.ds is None:
        return None
    fn = _agg_fn(ctx)
    if fn is None:
        return None
    named = {v.column for v in ctx.values}
    group = _group_by(ctx) or next((c for c in group_columns(ctx) if c not in named and not
                                    is_binary(_levels(ctx, c)) and ctx.ds.kinds.get(c) == "categorical"), None)
    values = [c for c in value_columns(ctx) if c != group]
    if not values:
        missing_column(ctx, f"the {ALIAS[fn]} of a number")
        return None
    value = values[0]
    terms = conditions(ctx, skip={value} | ({group} if group else set()))
    alias = quote(f"{ALIAS[fn]}_{value}")
    top = re.search(r"\btop (\d+)\b", ctx.low)
    if group is None:
        return ctx.call("sql_query", sql=f"SELECT {fn}({quote(value)}) AS {alias} FROM {_table(ctx)}{_where(terms)}")
    limit = f" LIMIT {int(top.group(1))}" if top else ""
    return ctx.call("sql_query", sql=f"SELECT {quote(group)}, {fn}({quote(value)}) AS {alias} FROM {_table(ctx)}"
                                     f"{_where(terms)} GROUP BY 1 ORDER BY 2 DESC{limit}")


def build_shape(ctx: Ctx) -> list[ToolCall] | None:
    """"How many rows and columns": the dataset's info, whose first line answers both parts."""
    return ctx.call("get_dataset_info") if ctx.ds else None


# ---------------------------------------------------------------- exploration, charts, cleaning

def _eda(analysis: str, *, with_columns: bool, needs_columns: bool = False) -> Any:
    def build(ctx: Ctx) -> list[ToolCall] | None:
        if ctx.ds is None:
            return None
        cols = ctx.cols or None
        if analysis == "correlation" and cols and len(cols) < 2:
            cols = None
        if needs_columns and not cols:
            if unknown_phrase(ctx):
                missing_column(ctx, f"the {analysis.replace('_', ' ')}")
            return None
        return ctx.call("eda_analysis", analysis=analysis, columns=cols if with_columns else None)
    build.__name__ = f"build_{analysis}"
    return build


def build_chart(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    calls = rule_charts(ctx)
    if calls or ctx.clarification:
        return calls
    values, groups = value_columns(ctx), group_columns(ctx)
    if values and groups:
        return ctx.call("create_visualization", kind="box", y=values[0], x=groups[0])
    if len(values) >= 2:
        return ctx.call("create_visualization", kind="scatter", x=values[0], y=values[1])
    if values:
        return ctx.call("create_visualization", kind="histogram", x=values[0])
    if groups:
        return ctx.call("create_visualization", kind="bar", x=groups[0], agg="count")
    return None


FILL_METHODS = (("median", "median"), ("mean", "mean"), ("average", "mean"), ("mode", "mode"),
                ("most frequent", "mode"), ("most common", "mode"), ("previous", "ffill"), ("forward", "ffill"),
                ("next", "bfill"), ("backward", "bfill"), ("zero", "value"), ("0", "value"))


def build_fill(ctx: Ctx) -> list[ToolCall] | None:
    """Fill a column's missing values (mean, median, mode, forward fill, zero): a new version of the dataset."""
    if ctx.ds is None:
        return None
    if not ctx.cols:
        missing_column(ctx, "filling missing values")
        return None
    column = ctx.cols[0]
    method = next((m for word, m in FILL_METHODS if ctx.has(rf"\b{word}\b")), None)
    numeric = ctx.ds.kinds.get(column) == "numeric"
    method = method or ("median" if numeric else "mode")
    value = 0 if method == "value" else None
    return ctx.call("clean_dataset", op="fill", column=column, method=method, value=value)


def build_dedupe(ctx: Ctx) -> list[ToolCall] | None:
    return ctx.call("clean_dataset", op="dedupe") if ctx.ds else None


def _rules(*rules: Any) -> Any:
    def build(ctx: Ctx) -> list[ToolCall] | None:
        for rule in rules:
            calls = rule(ctx)
            if calls or ctx.clarification:
                return calls
        return None
    return build


def build_none(ctx: Ctx) -> None:
    return None


register(
    Intent("compare_groups", (
        "does {num} differ between {val} and {val}", "compare {num} of {val} and {val}",
        "is {num} higher for {val} than for {val}", "{val} vs {val} {num}", "do {val} have more {num} than {val}",
        "is {num} different across {cat}", "does {num} vary by {cat}", "difference in {num} between {cat}",
        "compare {num} between the groups of {cat}", "is there a significant difference in {num} by {cat}",
        "do {val} {cat} have higher {num} than {val} ones", "are {val} ones more {num} than {val} ones",
        "does {cat} affect {num}", "{num} between those who {val} and those who did not",
        "do {cat} {val} pay more than {val}", "t-test of {num} by {cat}", "mann-whitney of {num} between {val} and {val}",
        "kruskal-wallis of {num} across {cat}", "anova of {num} by {cat}", "levene test of {num} across {cat}",
        "equal variance of {num} across {cat}", "do {num} differ between {val} and {val}",
        "does {num} depend on {cat}", "is {num} significantly different for {val}",
        "are {num} in {val} higher than in {val}", "{val} and {val}: do their {num} differ",
    ), build_compare, tools=("hypothesis_test",)),
    Intent("relation_test", (
        "is there a significant relationship between {num} and {num}", "test the correlation between {num} and {num}",
        "is {num} significantly correlated with {num}", "correlation test of {num} and {num}",
        "does {num} go up with {num}", "is {num} related to {num} significantly", "spearman of {num} and {num}",
        "is {cat} associated with {cat}", "are {cat} and {cat} independent", "chi-square of {cat} and {cat}",
        "fisher exact test for {cat} vs {cat}", "is there an association between {cat} and {cat}",
        "is {cat} independent of {cat}", "pearson test of {num} and {num}", "kendall tau between {num} and {num}",
    ), build_relation, tools=("hypothesis_test",)),
    Intent("normality", (
        "is {num} normally distributed", "does {num} follow a normal distribution", "check normality of {num}",
        "shapiro test of {num}", "is {num} gaussian", "test if {num} is normal",
    ), build_normality, tools=("hypothesis_test",)),
    Intent("count", (
        "how many {val} are there", "how many rows have {cat} {val}", "number of {val} records",
        "count the {val} rows", "how many {cat} {val}", "how many customers {val}", "how many orders were {val}",
        "how many people {val}", "number of rows with a {num} of {n}", "how many rows per {cat}",
        "count of rows by {cat}", "how many records in {ds}", "how many rows does {ds} have", "how many {val}",
        "how many came from {val}", "headcount by {cat}", "count by {cat}", "number of items in each {cat}",
        "how many are on {val}", "how many work {val}", "how many {val} in {val}",
    ), build_count, tools=("sql_query",)),
    Intent("aggregate", (
        "average {num} by {cat}", "total {num} per {cat}", "mean {num} for {val}", "sum of {num} in {val}",
        "highest {num} in each {cat}", "lowest {num} of {val}", "max {num}", "median {num} of {val} rows",
        "what is the average {num} of {val}", "longest {num} in {val}", "total {num}",
        "the average {num} of people in {val}", "median {num} across {cat}", "top {n} {cat} by average {num}",
    ), build_aggregate, tools=("sql_query",)),
    Intent("shape", (
        "how many rows and columns does {ds} have", "shape of {ds}", "dimensions of the data",
        "number of rows and number of columns", "how big is {ds}", "size of the table in rows and columns",
    ), build_shape, tools=("get_dataset_info",)),
    Intent("info", (
        "what columns does {ds} have", "show the schema", "what fields are in {ds}", "list the columns",
        "data types of the columns", "what variables are in the data", "describe the dataset",
    ), _rules(rule_info, build_shape), tools=("get_dataset_info",)),
    Intent("list_datasets", (
        "which datasets do i have", "list my datasets", "what datasets are available", "show all datasets",
    ), _rules(rule_list_datasets), tools=("list_datasets",)),
    Intent("chart", (
        "plot {num} against {num}", "scatter of {num} vs {num}", "histogram of {num}", "box plot of {num} by {cat}",
        "bar chart of {num} per {cat}", "pie chart of {cat}", "violin plot of {num} by {cat}",
        "visualise {num} against {num}", "draw {num} over time", "chart {num} by {cat}", "line chart of {num}",
        "plot the distribution of {num}", "show a graph of {num}", "density of {num}",
    ), build_chart, tools=("create_visualization",)),
    Intent("missing", (
        "show missing values", "which columns have missing values", "are there nulls", "count the empty cells",
        "how many nan values per column", "where is data missing", "are there any nulls in {ds}",
        "do we have null {num}",
    ), _eda("missing", with_columns=False), tools=("eda_analysis",)),
    Intent("duplicates", (
        "are there duplicate rows", "any duplicates in {ds}", "find repeated records", "duplicated rows",
    ), _eda("duplicates", with_columns=False), tools=("eda_analysis",)),
    Intent("outliers", (
        "find outliers in {num}", "outliers of {num}", "unusual values of {num}", "detect anomalies in {num}",
        "extreme values in {num}",
    ), _eda("outliers", with_columns=True), tools=("eda_analysis",)),
    Intent("statistics", (
        "summary statistics for {num}", "describe {num}", "mean and standard deviation of {num}",
        "stats of {num}", "quartiles of {num}", "statistics of {num}", "variance of {num}",
    ), _eda("statistics", with_columns=True, needs_columns=True), tools=("eda_analysis",)),
    Intent("top_values", (
        "most common {cat}", "what are the most frequent {cat}", "top values of {cat}", "value counts of {cat}",
        "which {cat} are most popular", "levels of {cat}",
    ), _eda("top_values", with_columns=True, needs_columns=True), tools=("eda_analysis",)),
    Intent("distribution", (
        "how is {num} distributed", "distribution of {num}", "spread of {num}", "skew of {num}",
        "show me how {num} is distributed",
    ), _eda("distribution", with_columns=True, needs_columns=True), tools=("eda_analysis",)),
    Intent("correlation", (
        "correlation matrix", "which columns are correlated", "correlation between {num} and {num}",
        "how are the numeric columns related", "corr of {num} with {num}",
        "what is the relationship between {num} and {num}", "how are {num} and {num} related",
    ), _eda("correlation", with_columns=True), tools=("eda_analysis",)),
    Intent("overview", (
        "give me an overview of {ds}", "summarize the data", "explore {ds}", "what does the data look like",
        "quick look at {ds}", "tell me about {ds}", "profile the dataset",
    ), _eda("overview", with_columns=False), tools=("eda_analysis",)),
    Intent("train", (
        "train a model to predict {cat}", "build a classifier for {cat}", "fit a regression model for {num}",
        "forecast {num}", "predict {cat} with machine learning", "classify {cat}", "build a model for {num}",
        "predict {num} from {num} and {num}",
    ), _rules(rule_train), tools=("train_ml_model",)),
    Intent("predict", ("predict with the trained model", "score new data with the model",
                       "apply the model to {ds}", "predict with model {id} on {ds}", "use model {id} to score {ds}"),
           _rules(rule_predict), tools=("predict",)),
    Intent("job_status", ("what is the status of my job", "is training finished", "is my job done",
                          "how is the training going"), _rules(rule_job), tools=("get_job_status",)),
    Intent("documents", (
        "what do the documents say about pricing", "ask the documents about q3 revenue",
        "what does the contract say about termination", "search the documents for", "find passages about",
        "what does the report say about", "define churn according to the documents",
    ), _rules(rule_documents, rule_definition), tools=("query_documents", "search_documents")),
    Intent("fill_missing", (
        "fill missing {num} with the median", "impute {num} with the mean", "replace empty {num} values with the mean",
        "fill the gaps in {num}", "fill nulls in {cat} with the most common value", "impute missing {num}",
        "fill in missing values of {num} with zero",
    ), build_fill, tools=("clean_dataset",), changes_data=True),
    Intent("dedupe", (
        "remove duplicates", "drop duplicate rows", "deduplicate {ds}", "remove duplicate records from {ds}",
        "get rid of duplicated rows",
    ), build_dedupe, tools=("clean_dataset",), changes_data=True),
    Intent("none", (
        "hello there", "tell me a joke", "what is the meaning of life", "make it better", "thanks", "who are you",
        "good morning", "what's the weather",
    ), build_none),
)
