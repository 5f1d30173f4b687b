"""The offline planner: common analyst requests turned into tool calls by rules, with no LLM.

    plan_offline("average price by region", dataset_id=ds_id)
    -> [ToolCall(name="sql_query", arguments={"sql": 'SELECT "region", AVG("price") ...'})]

Dataset and column names are found in the message by fuzzy matching against the stored
schemas; the current dataset is the default. Rules are tried in order; the first that
produces a complete call wins. A message no rule understands plans nothing, and
`explain_unmapped` says what the planner does understand.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from agents.resolve import is_numeric, norm
from core.duck import quote

EXAMPLES = (
    "describe the dataset", "show missing values", "statistics of price", "correlation between price and area",
    "distribution of price", "outliers in price", "top values of region", "average price by region",
    "plot area vs price", "histogram of price", "box plot of price by region", "bar chart of sales by region",
    "t-test of price by group", "ANOVA of price across region", "chi-square between region and segment",
    "is price normal?", "train a model to predict churn", "job status", "ask the documents: what was Q3 revenue?",
    "SELECT region, count(*) FROM sales GROUP BY 1",
)



def examples_for(dataset: Any | None) -> list[str]:
    """Example requests written with a dataset's own column names (the generic list without one)."""
    if dataset is None:
        return list(EXAMPLES)
    numeric = [c["name"] for c in dataset.schema_ if is_numeric(str(c["dtype"]))]
    other = [c["name"] for c in dataset.schema_ if not is_numeric(str(c["dtype"]))]
    if not numeric:
        return ["describe the dataset", "show missing values", *(f"top values of {c}" for c in other[:3])]
    x, y = numeric[0], numeric[1] if len(numeric) > 1 else numeric[0]
    found = ["describe the dataset", "show missing values", f"statistics of {x}", f"distribution of {x}",
             f"outliers in {x}", f"histogram of {y}"]
    if len(numeric) > 1:
        found += [f"correlation between {x} and {y}", f"plot {y} vs {x}"]
    if other:
        group = other[0]
        found += [f"top values of {group}", f"average {x} by {group}", f"box plot of {x} by {group}"]
    return found


FORBIDDEN = re.compile(
    r"\b(delete|drop|truncate|erase|wipe|destroy|remove|overwrite|alter|insert|update)\b.{0,60}"
    r"\b(data|dataset|datasets|table|tables|rows?|columns?|records?|files?|database|everything|all)\b"
    r"|\b(run|execute|exec|eval|evaluate)\b.{0,40}\b(code|python|script|shell|command|bash|snippet)\b"
    r"|\b(import os|subprocess|os\.system|rm -rf|__import__)\b|```(?!\s*sql\b)(?!\s*$)",
    re.IGNORECASE | re.DOTALL,
)


class ToolCall(BaseModel):
    """One planned call of a registered tool."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


@dataclass
class Schema:
    id: str
    name: str
    kinds: dict[str, str]

    @property
    def columns(self) -> list[str]:
        return list(self.kinds)


@dataclass
class Mention:
    start: int
    end: int
    column: str


@dataclass
class Ctx:
    text: str
    low: str
    ds: Schema | None
    mentions: list[Mention] = field(default_factory=list)

    @property
    def cols(self) -> list[str]:
        return list(dict.fromkeys(m.column for m in self.mentions))

    def of_kind(self, kind: str, cols: list[str] | None = None) -> list[str]:
        return [c for c in (self.cols if cols is None else cols) if self.ds and self.ds.kinds.get(c) == kind]

    def split(self, pattern: str) -> tuple[list[str], list[str]] | None:
        """Columns mentioned before and after the first match of `pattern`."""
        hit = re.search(pattern, self.low)
        if not hit:
            return None
        before = [m.column for m in self.mentions if m.end <= hit.start()]
        after = [m.column for m in self.mentions if m.start >= hit.end()]
        return list(dict.fromkeys(before)), list(dict.fromkeys(after))

    def has(self, pattern: str) -> bool:
        return re.search(pattern, self.low) is not None

    def call(self, name: str, **arguments: Any) -> list[ToolCall]:
        if self.ds is not None and name not in ("sql_query", "get_job_status", "query_documents",
                                                 "search_documents", "list_datasets"):
            arguments = {"dataset": self.ds.name, **arguments}
        return [ToolCall(name=name, arguments={k: v for k, v in arguments.items() if v is not None})]


# --- finding datasets and columns -----------------------------------------------------------------


def load_schemas() -> list[Schema]:
    from core import datasets

    return [Schema(str(d.id), d.name, {c["name"]: "numeric" if is_numeric(str(c["dtype"])) else "categorical"
                                      for c in d.schema_}) for d in datasets.list_datasets()]


def _spans(low: str, phrase: str) -> list[tuple[int, int]]:
    """Where a normalised phrase occurs in the normalised message: exactly (plurals too), else fuzzily."""
    if not phrase:
        return []
    plural = rf"|{re.escape(phrase[:-1])}ies" if phrase.endswith("y") else ""
    pattern = rf"(?<![\w])(?:{re.escape(phrase)}(?:e?s)?{plural})(?![\w])"
    exact = [(m.start(), m.end()) for m in re.finditer(pattern, low)]
    if exact or len(phrase) < 4:
        return exact
    size = phrase.count(" ") + 1
    found = []
    for n in {size, size + 1, max(size - 1, 1)}:
        tokens = list(re.finditer(r"[\w']+", low))
        for i in range(len(tokens) - n + 1):
            start, end = tokens[i].start(), tokens[i + n - 1].end()
            piece = low[start:end]
            if piece in VOCABULARY:
                continue
            score = difflib.SequenceMatcher(None, piece, phrase).ratio()
            squeezed = piece.replace(" ", "") == phrase.replace(" ", "")
            if squeezed or (score >= 0.8 and len(piece) >= 4):
                found.append((start, end))
    return found


VOCABULARY = set(
    "distinct district distribution distributed count counts average mean median total sum maximum minimum "
    "histogram chart charts plot plots scatter outlier outliers missing values value correlation correlated "
    "statistics stats summary describe between versus against train model predict status documents search "
    "normal normally anova test tests group groups column columns dataset datasets table rows show with "
    "there their where which what whats about from data each every across per".split())


def _find_dataset(low: str, schemas: list[Schema]) -> tuple[Schema | None, tuple[int, int] | None]:
    best: tuple[int, Schema, tuple[int, int]] | None = None
    for schema in schemas:
        for span in _spans(low, norm(schema.name)):
            if best is None or len(schema.name) > best[0]:
                best = (len(schema.name), schema, span)
    return (best[1], best[2]) if best else (None, None)


def _partial_spans(low: str, col: str, ds: Schema) -> list[tuple[int, int]]:
    """A distinctive word of a multi-word column name ('area' for area_sqm), when no other column shares it."""
    words = norm(col).split()
    others = {w for c in ds.columns if c != col for w in norm(c).split()}
    spans: list[tuple[int, int]] = []
    for word in words if len(words) > 1 else []:
        if len(word) >= 3 and word not in others and word not in STOP:
            spans += [(m.start(), m.end()) for m in re.finditer(rf"(?<![\w]){re.escape(word)}s?(?![\w])", low)]
    return spans


STOP = {"the", "and", "for", "per", "with", "from", "count", "total", "number", "type", "date", "name", "value"}


def _mentions(low: str, ds: Schema, skip: tuple[int, int] | None) -> list[Mention]:
    found: list[Mention] = []
    for col in ds.columns:
        spans = _spans(low, norm(col)) or _partial_spans(low, col, ds)
        for start, end in spans:
            if skip and start < skip[1] and end > skip[0] and norm(col) != norm(ds.name):
                continue
            found.append(Mention(start, end, col))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Mention] = []
    for m in found:  # longest match wins where two overlap
        if kept and m.start < kept[-1].end:
            if m.end - m.start > kept[-1].end - kept[-1].start:
                kept[-1] = m
            continue
        kept.append(m)
    return kept


def context(message: str, *, dataset_id: str | None = None, schemas: list[Schema] | None = None) -> Ctx:
    """Parse a message: which dataset it is about and which columns it names, in order."""
    schemas = load_schemas() if schemas is None else schemas
    low = norm(message.replace("`", " ").replace('"', " ").replace("'s ", " "))
    ds, span = _find_dataset(low, schemas)
    if ds is None:
        ds = next((s for s in schemas if s.id == str(dataset_id)), None) or (schemas[0] if schemas else None)
    ctx = Ctx(message.strip(), low, ds)
    if ds is not None:
        ctx.mentions = _mentions(low, ds, span)
    return ctx


# --- the rules --------------------------------------------------------------------------------------

Rule = Callable[[Ctx], list[ToolCall] | None]

AGG_WORDS = {"average": "avg", "avg": "avg", "mean": "avg", "sum": "sum", "total": "sum", "maximum": "max",
             "max": "max", "highest": "max", "minimum": "min", "min": "min", "lowest": "min", "median": "median",
             "count": "count", "number of": "count", "how many": "count"}
GROUP_SEP = r"\b(by|per|for each|for every|in each|across|grouped by|group by|broken down by|split by|among)\b"


def rule_sql(ctx: Ctx) -> list[ToolCall] | None:
    text = re.sub(r"```(sql)?", " ", ctx.text, flags=re.IGNORECASE).strip()
    hit = re.search(r"(?i)\b(select|with)\b\s", text)  # then one scan for FROM: linear, unlike \s.+\bfrom\b.+
    if not hit or not re.compile(r"(?is)\bfrom\b.").search(text, hit.end() + 1):
        return None
    if hit.start() > 0 and not re.search(r"(?i)\b(sql|query|run|execute)\b", text[: hit.start()]):
        return None
    return ctx.call("sql_query", sql=text[hit.start():].strip().rstrip(";").strip())


def rule_list_datasets(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.has(r"(?m)^(?>.*?\b(which|what|list|show|available|my|all)\b).*\bdatasets\b|^(?>.*?\bdatasets\b).*\b(do i have|available)\b"):
        return ctx.call("list_datasets")
    return None


def rule_job(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.has(r"(?m)^(?>.*?\b(job|jobs|training|train run)\b).*\b(status|progress|done|finished|complete|ready|going|doing)\b"
               r"|^(?>.*?\b(status|progress)\b).*\b(job|jobs|training|model)\b|\bis (the |my )?(model|training) (done|ready)"):
        job = re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", ctx.low)
        return ctx.call("get_job_status", job=job.group(0) if job else None)
    return None


DOC_WORDS = (r"\b(documents?|docs|pdfs?|the (report|paper|manual|contract|policy|handbook)|uploaded files?|"
             r"according to|knowledge base)\b")


def rule_documents(ctx: Ctx) -> list[ToolCall] | None:
    if not ctx.has(DOC_WORDS):
        return None
    if ctx.has(r"^(search|find|look up|locate|show)\b|\b(passages?|excerpts?|snippets?)\b|\bmention(s|ed)?\b"):
        query = re.search(r"(?i)^(?>.*?\b(?:for|about|on|mentioning|regarding|that mention)\s+)(.+)", ctx.text.rstrip("\n").rsplit("\n", 1)[-1])
        return ctx.call("search_documents", query=(query.group(1) if query else ctx.text).strip(" ?.!"))
    question = re.sub(r"(?i)^(ask|check|query)\s+(the\s+)?(documents?|docs)\s*[:,\-]?\s*", "", ctx.text)
    return ctx.call("query_documents", question=question.strip() or ctx.text)


def _value_group(ctx: Ctx) -> tuple[str | None, str | None]:
    """A numeric column and a grouping column, by type first and by order second."""
    parts = ctx.split(GROUP_SEP)
    if parts and parts[0] and parts[1]:
        return parts[0][0], parts[1][0]
    nums, cats = ctx.of_kind("numeric"), ctx.of_kind("categorical")
    if nums and cats:
        return nums[0], cats[0]
    cols = ctx.cols
    return (cols[0] if cols else None), (cols[1] if len(cols) > 1 else None)


def _pair(ctx: Ctx) -> tuple[str | None, str | None]:
    cols = ctx.cols
    return (cols[0] if cols else None), (cols[1] if len(cols) > 1 else None)


TESTS = (
    (r"mann[\s\-]?whitney|\bu[\s\-]test\b|wilcoxon rank|rank[\s\-]sum", "mannwhitney", "value_group"),
    (r"\bt[\s\-]?test\b|\bttest\b|student|welch", "ttest_ind", "value_group"),
    (r"\banova\b|analysis of variance", "anova_oneway", "value_group"),
    (r"\bchi[\s\-]?(square|squared|sq|2)\b|\bchi2\b|contingency|\bindependen(t|ce)\b", "chi2_independence", "pair"),
    (r"\bspearman\b", "spearman", "pair"),
    (r"\bpearson\b|significant(ly)? correlat", "pearson", "pair"),
    (r"\bnormal(ly)?\b|normality|shapiro|gaussian|bell[\s\-]?(shaped|curve)", "shapiro", "value"),
    (r"(?m)^(?>.*?\b(differ|differs|different|difference|differences)\b).*\b(between|across|by|among)\b|"
     r"^(?>.*?\bcompare\b).*\b(between|across|by|among)\b", "anova_oneway", "value_group"),
)


def rule_tests(ctx: Ctx) -> list[ToolCall] | None:
    for pattern, test, shape in TESTS:
        if not ctx.has(pattern):
            continue
        if shape == "value":
            value = (ctx.of_kind("numeric") or ctx.cols or [None])[0]
            return ctx.call("hypothesis_test", test=test, value=value) if value else None
        if shape == "pair":
            x, y = _pair(ctx)
            return ctx.call("hypothesis_test", test=test, x=x, y=y) if x and y else None
        value, group = _value_group(ctx)
        return ctx.call("hypothesis_test", test=test, value=value, group=group) if value and group else None
    return None


def rule_predict(ctx: Ctx) -> list[ToolCall] | None:
    hit = re.search(r"(?im)^(?>.*?\b(?:predict|score|apply|use|run)\b).*?"
                    r"\bmodel\s+[\"'`]?(?P<model>[\w\-.:]+)", ctx.text)
    if not hit or ctx.ds is None or hit.group("model").lower() in ("to", "that", "for", "on", "which"):
        return None
    return ctx.call("predict", model=hit.group("model"))


def rule_train(ctx: Ctx) -> list[ToolCall] | None:
    if not ctx.has(r"(?m)^(?>.*?\b(train|fit|build|create|make|develop)\b).*\b(model|classifier|regressor|regression|"
                   r"predictor|forest|xgboost)\b|\bpredict(s|ing|ion)?\b|\bforecast\b|\bclassify\b|"
                   r"\bmachine learning\b|\bautoml\b"):
        return None
    parts = ctx.split(r"\b(predict|predicting|forecast|classify|target|for|of)\b")
    target = parts[1][0] if parts and parts[1] else (ctx.cols[0] if ctx.cols else None)
    if target is None:
        return None
    task = "classification" if ctx.has(r"classif") else "regression" if ctx.has(r"\bregress(ion|or)\b") and \
        not ctx.has(r"logistic") else None
    models = [key for pattern, key in MODEL_NAMES if ctx.has(pattern)] or None
    return ctx.call("train_ml_model", target=target, task=task, models=models)


MODEL_NAMES = (
    (r"\blinear regression", "linear_regression"), (r"\blogistic regression", "logistic_regression"),
    (r"\bridge\b", "ridge"), (r"\brandom forest", "random_forest"), (r"\bdecision tree", "decision_tree"),
    (r"\bknn\b|nearest neighbou?r", "knn"), (r"\bsvm\b|support vector", "svm"),
    (r"\bgradient boost", "hist_gradient_boosting"), (r"\bxgboost\b", "xgboost"),
    (r"\bmlp\b|neural net", "mlp"),
)


def _agg(ctx: Ctx) -> str | None:
    for word, agg in AGG_WORDS.items():
        if ctx.has(rf"\b{word}\b"):
            return {"avg": "mean"}.get(agg, agg)
    return None


def _chart(ctx: Ctx, kind: str) -> list[ToolCall] | None:
    value, group = _value_group(ctx)
    if kind in ("histogram", "kde"):
        x = (ctx.of_kind("numeric") or ctx.cols or [None])[0]
        return ctx.call("create_visualization", kind=kind, x=x) if x else None
    if kind in ("box", "violin"):
        y = (ctx.of_kind("numeric") or [None])[0]
        x = next((c for c in ctx.cols if c != y), None)
        return ctx.call("create_visualization", kind=kind, y=y, x=x) if y else None
    if kind == "pie":
        x = (ctx.of_kind("categorical") or ctx.cols or [None])[0]
        return ctx.call("create_visualization", kind="pie", x=x, agg="count") if x else None
    if kind in ("bar", "line", "area"):
        if group is None and value is not None:
            only = value
            if kind == "bar" or ctx.ds.kinds.get(only) == "categorical":
                return ctx.call("create_visualization", kind=kind, x=only, agg="count")
            return None
        if value is None:
            return None
        parts = ctx.split(r"\b(over|by|per|across|vs|versus|against)\b")
        x, y = (group, value) if parts and parts[1] else (value, group)
        return ctx.call("create_visualization", kind=kind, x=x, y=y, agg=_agg(ctx) or ("mean" if kind == "bar"
                                                                                      else None))
    if kind == "pair":
        return ctx.call("create_visualization", kind="pair")
    x, y = _pair(ctx)
    if x and y:
        color = ctx.cols[2] if len(ctx.cols) > 2 and ctx.has(r"\b(colou?r(ed)?|by|per|hue)\b") else None
        return ctx.call("create_visualization", kind=kind, x=x, y=y, color=color)
    return None


CHARTS = (
    (r"\bpair ?plot|scatter ?matrix|pairwise", "pair"),
    (r"\bhistogram|\bhist\b", "histogram"),
    (r"\bdensity|\bkde\b", "kde"),
    (r"\bbox[\s\-]?(plot|chart|and whisker)s?|\bboxplot|\bwhisker", "box"),
    (r"\bviolin", "violin"),
    (r"\bpie\b|\bdonut\b", "pie"),
    (r"\bbar[\s\-]?(chart|plot|graph)?s?\b|\bcolumn chart", "bar"),
    (r"\bline[\s\-]?(chart|plot|graph)|\bover time\b|\btrend\b", "line"),
    (r"\barea[\s\-](chart|plot|graph)", "area"),
    (r"\bscatter", "scatter"),
)


def rule_charts(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    for pattern, kind in CHARTS:
        if ctx.has(pattern):
            return _chart(ctx, kind)
    if not ctx.has(r"\b(plot|chart|graph|visuali[sz]e|visuali[sz]ation|draw|show me|display)\b|\bvs\b|versus"
                   r"|\bagainst\b"):
        return None
    if ctx.has(r"\bdistribution\b") and ctx.cols:
        return _chart(ctx, "histogram")
    if len(ctx.cols) >= 2:
        if ctx.has(GROUP_SEP) and ctx.of_kind("categorical") and not ctx.has(r"\bvs\b|versus|against"):
            return _chart(ctx, "bar")
        return _chart(ctx, "scatter")
    if len(ctx.cols) == 1 and ctx.has(r"\b(plot|chart|graph|visuali[sz]e|draw)\b"):
        return _chart(ctx, "histogram" if ctx.of_kind("numeric") else "bar")
    return None


def rule_aggregate(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    table = quote(ctx.ds.name)
    if ctx.has(r"\bhow many (rows|records|lines|entries|observations)\b|\b(row|record) count\b|"
               r"\bnumber of (rows|records|observations)\b") and not ctx.has(GROUP_SEP):
        return ctx.call("sql_query", sql=f"SELECT COUNT(*) AS row_count FROM {table}")
    if ctx.has(r"\bquartiles?\b|\bstatistic|\bstats\b|\bstd\b|\bstandard deviation|\bvariance\b|\bdescribe"):
        return None
    agg = _agg(ctx)
    top = re.search(r"\btop (\d+)\b", ctx.low)
    if agg is None and not top:
        return None
    parts = ctx.split(GROUP_SEP)
    group = parts[1][0] if parts and parts[1] else None
    value = next((c for c in (parts[0] if parts else ctx.cols) if c != group), None)
    kinds = ctx.ds.kinds
    if group and value and kinds.get(group) == "numeric" and kinds.get(value) == "categorical":
        group, value = value, group  # "top 3 cities by average price"
    if agg == "count" or (agg is None and value is None):
        if ctx.has(r"\b(distinct|unique|different)\b") and value and not group:
            return ctx.call("sql_query", sql=f"SELECT COUNT(DISTINCT {quote(value)}) AS distinct_{value} FROM {table}")
        key = group or value
        if key is None:
            return None
        return ctx.call("sql_query", sql=f"SELECT {quote(key)}, COUNT(*) AS count FROM {table} GROUP BY 1 "
                                         f"ORDER BY count DESC" + (f" LIMIT {top.group(1)}" if top else ""))
    if value is None or ctx.ds.kinds.get(value) != "numeric":
        return None
    fn = {"mean": "AVG", "avg": "AVG"}.get(agg or "sum", (agg or "sum").upper())
    alias = f"{(agg or 'sum')}_{value}"
    if group is None:
        return ctx.call("sql_query", sql=f"SELECT {fn}({quote(value)}) AS {quote(alias)} FROM {table}")
    limit = f" LIMIT {top.group(1)}" if top else ""
    return ctx.call("sql_query", sql=f"SELECT {quote(group)}, {fn}({quote(value)}) AS {quote(alias)} FROM {table} "
                                     f"GROUP BY 1 ORDER BY 2 DESC{limit}")


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
            return ctx.call("eda_analysis", analysis=analysis, columns=cols)
    if ctx.has(r"\bdescribe\b|\bdescription\b|\bsummari[sz]e\b") and ctx.cols:
        return ctx.call("eda_analysis", analysis="statistics", columns=ctx.cols)
    return None


def rule_info(ctx: Ctx) -> list[ToolCall] | None:
    if ctx.ds is None:
        return None
    if ctx.has(r"(?m)\bdescribe\b|\bcolumns\b|\bschema\b|\bfields\b|\bvariables\b|\bdata ?types\b|\bdtypes\b|"
               r"\binfo(rmation)?\b|\bwhat('s| is) in\b|^(?>.*?\bwhat does ).*contain|\bhow big\b|\bsize of\b"):
        return ctx.call("get_dataset_info")
    return None


RULES: tuple[Rule, ...] = (rule_sql, rule_list_datasets, rule_job, rule_documents, rule_tests, rule_predict,
                           rule_train,
                           rule_charts, rule_aggregate, rule_eda, rule_info)


def plan(ctx: Ctx) -> list[ToolCall]:
    """The tool calls of the first rule that maps the parsed message."""
    for rule in RULES:
        calls = rule(ctx)
        if calls:
            return calls
    return []


def plan_offline(message: str, *, dataset_id: str | None = None) -> list[ToolCall]:
    """Turn a common analyst request into tool calls with no LLM; [] when it cannot be mapped."""
    if forbidden(message):
        return []
    return plan(context(message, dataset_id=dataset_id))


def forbidden(message: str) -> bool:
    """True for requests to delete or change data or to run code: there is no tool for that, by design."""
    return FORBIDDEN.search(message) is not None


def explain_unmapped(ctx: Ctx) -> str:
    """What to say when no rule maps a message: why, and examples of what works."""
    if ctx.ds is None:
        why = "There is no dataset yet, so I cannot look at data. Import one on the Datasets page."
    else:
        cols = ", ".join(ctx.ds.columns[:12])
        why = (f"I could not turn that into an analysis of **{ctx.ds.name}** (columns: {cols}). Without an LLM "
               "configured I understand requests like these:")
    return why + "\n" + "\n".join(f"- {e}" for e in EXAMPLES)
