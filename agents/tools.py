"""The tool registry: every action an agent can take, each a typed call into `core` or `jobs`.

A tool is registered once: name, description, a pydantic argument model (its JSON schema
is what the LLM sees) and the function. `core` modules are imported inside the functions,
and a tool is offered only while the module it needs imports. Nothing here deletes data
or runs code: there is no such tool.
"""

from __future__ import annotations

import importlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents import resolve
from core.errors import WorkbenchError

log = logging.getLogger(__name__)

MAX_TABLE_ROWS = 200
ANALYSES = ("overview", "missing", "statistics", "correlation", "distribution", "outliers", "duplicates",
            "top_values")
CHART_KINDS = ("histogram", "kde", "scatter", "bar", "line", "area", "heatmap", "box", "violin", "pie", "pair")
TEST_ALIASES = {
    "ttest": "ttest_ind", "t-test": "ttest_ind", "t_test": "ttest_ind", "welch": "ttest_ind",
    "mann-whitney": "mannwhitney", "mann_whitney": "mannwhitney", "mannwhitneyu": "mannwhitney",
    "anova": "anova_oneway", "chi2": "chi2_independence", "chi-square": "chi2_independence",
    "chisquare": "chi2_independence", "normality": "shapiro", "shapiro-wilk": "shapiro",
    "correlation": "pearson",
}


@dataclass
class ToolResult:
    """What a tool returns: text for the model and the person, plus an optional table, figure, job or SQL."""

    text: str
    table: pd.DataFrame | None = None
    figure: Any = None
    job_id: str | None = None
    sql: str | None = None
    ok: bool = True

    def record(self) -> dict[str, Any]:
        """A JSON-safe copy for storage (tables cut to MAX_TABLE_ROWS, figures as Plotly JSON)."""
        out: dict[str, Any] = {"text": self.text, "ok": self.ok, "job_id": self.job_id, "sql": self.sql}
        if self.table is not None:
            out["table"] = json.loads(self.table.head(MAX_TABLE_ROWS).to_json(orient="split", date_format="iso"))
        if self.figure is not None:
            out["figure"] = self.figure.to_json()
        return out


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[BaseModel]
    fn: Callable[[Any], ToolResult]
    requires: tuple[str, ...] = ()
    enabled: Callable[[], bool] = field(default=lambda: True)

    def spec(self) -> dict[str, Any]:
        """The OpenAI function-calling description of this tool."""
        schema = self.args.model_json_schema()
        schema.pop("title", None)
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": schema}}

    def available(self) -> bool:
        for module in self.requires:
            try:
                importlib.import_module(module)
            except Exception:  # a module still being written, or missing optional dependencies
                log.debug("tool %s unavailable: %s does not import", self.name, module)
                return False
        return self.enabled()


class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetArg(Args):
    dataset: str = Field(description="Dataset name or id.")


class EdaArgs(DatasetArg):
    analysis: Literal[ANALYSES] = Field(description="Which analysis to run.")  # type: ignore[valid-type]
    columns: list[str] | None = Field(None, description="Columns to analyse (default: all suitable ones).")


class ChartArgs(DatasetArg):
    kind: Literal[CHART_KINDS] = Field(description="Chart type.")  # type: ignore[valid-type]
    x: str | None = Field(None, description="Column on the x axis (or the column of a histogram/pie).")
    y: str | None = Field(None, description="Column on the y axis.")
    color: str | None = Field(None, description="Column that colours the marks.")
    agg: Literal["count", "sum", "mean", "median", "min", "max"] | None = Field(
        None, description="Aggregation of y per x (bar, line).")


class TestArgs(DatasetArg):
    test: str = Field(description="Test name: ttest_ind, mannwhitney, anova_oneway, chi2_independence, shapiro, "
                                  "pearson, spearman, ttest_1samp, ...")
    value: str | None = Field(None, description="Numeric column to compare (t-test, ANOVA, Mann-Whitney, Shapiro).")
    group: str | None = Field(None, description="Column holding the groups.")
    x: str | None = Field(None, description="First column (chi-square, correlation tests).")
    y: str | None = Field(None, description="Second column (chi-square, correlation tests).")
    alternative: Literal["two-sided", "less", "greater"] = "two-sided"

    @field_validator("test")
    @classmethod
    def _alias(cls, value: str) -> str:
        key = value.strip().lower().replace(" ", "-")
        return TEST_ALIASES.get(key, TEST_ALIASES.get(key.replace("-", "_"), value.strip().lower()))


class SqlArgs(Args):
    sql: str = Field(description="One read-only SELECT statement; tables are named after the datasets.")


class TrainArgs(DatasetArg):
    target: str = Field(description="Column to predict.")
    models: list[str] | None = Field(None, description="Model names to try (default: a sensible set).")
    task: Literal["classification", "regression"] | None = Field(None, description="Default: inferred.")


class JobArgs(Args):
    job: str | None = Field(None, description="Job id (default: the most recent job).")


class PredictArgs(DatasetArg):
    model: str = Field(description="Model name or id.")


class QuestionArgs(Args):
    question: str = Field(description="The question to answer from the documents.")


class QueryArgs(Args):
    query: str = Field(description="What to search for.")


class NoArgs(Args):
    pass


# --- dataset info and EDA -------------------------------------------------------------------------


def list_datasets(_: NoArgs) -> ToolResult:
    from core import datasets

    rows = datasets.list_datasets()
    if not rows:
        return ToolResult("There are no datasets yet. Import one on the Datasets page.")
    table = pd.DataFrame([{"name": r.name, "rows": r.rows, "columns": r.columns, "id": str(r.id)} for r in rows])
    return ToolResult(f"{len(rows)} dataset(s): " + ", ".join(r.name for r in rows) + ".", table=table)


def get_dataset_info(args: DatasetArg) -> ToolResult:
    from core import eda

    ds = resolve.dataset(args.dataset)
    prof = eda.profile(ds.id)
    fields = ("name", "dtype", "kind", "missing", "missing_pct", "distinct", "min", "max", "mean")
    table = pd.DataFrame([{f: getattr(c, f, None) for f in fields} for c in prof.columns])
    table[["min", "max"]] = table[["min", "max"]].astype(str).replace("None", "")
    cols = ", ".join(f"{c.name} ({c.kind}{f', {c.missing} missing' if c.missing else ''})" for c in prof.columns)
    return ToolResult(f"Dataset {ds.name}: {prof.rows:,} rows × {len(prof.columns)} columns. Columns: {cols}.",
                      table=table)


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


# --- charts, tests, SQL ---------------------------------------------------------------------------


def create_visualization(args: ChartArgs) -> ToolResult:
    from core import charts

    ds = resolve.dataset(args.dataset)
    spec = {k: resolve.column(ds, v) for k, v in (("x", args.x), ("y", args.y), ("color", args.color)) if v}
    if args.agg:
        spec["agg"] = args.agg
    fig = charts.make_chart(args.kind, str(ds.id), **spec)
    axes = " vs ".join(v for k, v in spec.items() if k in ("y", "x"))
    return ToolResult(f"Made a {args.kind} chart of {axes or ds.name} from {ds.name}.", figure=fig)


def hypothesis_test(args: TestArgs) -> ToolResult:
    from core import datasets, stats

    ds = resolve.dataset(args.dataset)
    params = {k: resolve.column(ds, v) for k, v in
              (("value", args.value), ("group", args.group), ("x", args.x), ("y", args.y)) if v}
    frame = datasets.load_frame(ds.id, columns=list(dict.fromkeys(params.values())) or None)
    res = stats.run_test(args.test, frame, alternative=args.alternative, **params)
    rows = [{"field": k, "value": "" if v is None else str(v)} for k, v in res.summary().items()]
    text = f"{res.method}: statistic {res.statistic_name or ''} = {res.statistic if res.statistic is not None else '–'}"
    text = f"{text}, p = {res.p_value:.4g}. {res.conclusion}".replace(" = –", "")
    failed = [a.name for a in res.assumptions if a.passed is False]
    if failed:
        text += f" Assumption(s) not met: {', '.join(failed)}."
    if res.recommendation:
        text += f" {res.recommendation}"
    return ToolResult(text, table=pd.DataFrame(rows))


def sql_query(args: SqlArgs) -> ToolResult:
    from core import sql

    frame = sql.query(args.sql)
    shown = f"{len(frame):,} row(s)" + (f", showing the first {MAX_TABLE_ROWS}" if len(frame) > MAX_TABLE_ROWS
                                       else "")
    if frame.attrs.get("truncated"):
        shown += f" (cut at the {frame.attrs.get('limit'):,}-row limit)"
    return ToolResult(f"The query returned {shown}.", table=frame, sql=args.sql)


# --- ML and jobs -------------------------------------------------------------------------------------


def train_ml_model(args: TrainArgs) -> ToolResult:
    import jobs

    ds = resolve.dataset(args.dataset)
    target = resolve.column(ds, args.target)
    job = jobs.submit("ml.train", title=f"Train {target} on {ds.name}", dataset_id=str(ds.id), target=target,
                      task=args.task, models=args.models)
    return ToolResult(f"Started training a model to predict {target} on {ds.name} (job {job.id}). "
                      "Follow it on the Jobs page or ask me for the job status.", job_id=str(job.id))


def get_job_status(args: JobArgs) -> ToolResult:
    import jobs

    if args.job:
        job = jobs.get_job(args.job)
    else:
        recent = jobs.list_jobs(limit=1)
        if not recent:
            return ToolResult("There are no jobs yet.")
        job = recent[0]
    text = f"Job {job.title or job.kind} is {job.status} ({job.progress:.0%}): {job.message or job.status}."
    if job.error:
        text += f" Error: {job.error}"
    table = None
    if job.result and job.status == "succeeded":
        board = job.result.get("leaderboard")
        if isinstance(board, list) and board and isinstance(board[0], dict):
            table = pd.DataFrame(board)
            text += f" Best model: {job.result.get('best_model_id')} ({job.result.get('primary_metric', '')})."
        else:
            text += " Result: " + json.dumps(job.result, default=str)[:600]
    return ToolResult(text, table=table, job_id=str(job.id))


def predict(args: PredictArgs) -> ToolResult:
    from core import ml

    ds = resolve.dataset(args.dataset)
    model = ml.get_model(args.model)
    from core import datasets

    out = ml.predict(model.id, datasets.load_frame(ds.id))
    warnings = "; ".join(map(str, out.attrs.get("warnings", [])))
    return ToolResult(f"Predicted {len(out):,} row(s) of {ds.name} with model {model.name} ({model.algorithm}, "
                      f"target {model.target})." + (f" Warnings: {warnings}" if warnings else ""), table=out)


# --- documents and the web -------------------------------------------------------------------------


def query_documents(args: QuestionArgs) -> ToolResult:
    from core import rag

    ans = rag.ask(args.question)
    rows = [{"citation": c.number, **_hit_row(c.hit)} for c in ans.citations]
    return ToolResult(ans.text, table=pd.DataFrame(rows) if rows else None)


def _hit_row(hit: Any) -> dict[str, Any]:
    document = getattr(hit, "document", "")
    return {"document": str(getattr(document, "name", document) or ""), "page": getattr(hit, "page", None),
            "score": round(float(getattr(hit, "score", 0.0) or 0.0), 3), "text": str(hit.text)[:500]}


def search_documents(args: QueryArgs) -> ToolResult:
    from core import rag

    hits = rag.search(args.query, k=5)
    if not hits:
        return ToolResult("No passage in the documents matches that.")
    table = pd.DataFrame([_hit_row(h) for h in hits])
    text = "\n".join(f"- {r.document} p.{r.page}: {r.text[:200]}" for r in table.itertuples())
    return ToolResult(f"{len(hits)} passage(s) found:\n{text}", table=table)


def web_search(args: QueryArgs) -> ToolResult:
    import httpx

    from core.config import get_settings
    from core.errors import ConnectionFailed

    s = get_settings()
    params = {"q": args.query, "engine": "google", "api_key": s.serpapi_api_key.get_secret_value()}
    try:
        resp = httpx.get(s.serpapi_url, params=params, timeout=s.url_timeout_s)
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ConnectionFailed(f"The web search service could not be reached ({type(exc).__name__}).") from exc
    if resp.status_code >= 400 or data.get("error"):
        raise ConnectionFailed(f"The web search failed: {data.get('error') or f'HTTP {resp.status_code}'}",
                               hint="Check SERPAPI_API_KEY and SERPAPI_URL in the settings.")
    hits = [{"title": r.get("title", ""), "link": r.get("link", ""), "snippet": r.get("snippet", "")}
            for r in data.get("organic_results", [])[:5]]
    if not hits:
        return ToolResult(f"The web search for {args.query!r} found nothing.")
    text = "\n".join(f"- {h['title']} ({h['link']}): {h['snippet']}" for h in hits)
    return ToolResult(f"Web results for {args.query!r}:\n{text}", table=pd.DataFrame(hits))


def _serpapi_configured() -> bool:
    from core.config import get_settings

    key = get_settings().serpapi_api_key
    return bool(key and key.get_secret_value())


TOOLS: dict[str, Tool] = {t.name: t for t in [
    Tool("list_datasets", "List the datasets in the workbench with their size.", NoArgs, list_datasets),
    Tool("get_dataset_info", "Schema and per-column profile (type, missing, distinct, min, max, mean) of a "
         "dataset.", DatasetArg, get_dataset_info, ("core.eda",)),
    Tool("eda_analysis", "Exploratory analysis of a dataset: overview, missing values, summary statistics, "
         "correlation matrix, distribution, IQR outliers, duplicate rows or most frequent values.",
         EdaArgs, eda_analysis),
    Tool("create_visualization", "Draw a Plotly chart of a dataset (histogram, scatter, bar, line, box, ...).",
         ChartArgs, create_visualization, ("core.charts",)),
    Tool("hypothesis_test", "Run a statistical test (t-test, Mann-Whitney, ANOVA, chi-square, Shapiro normality, "
         "correlation tests) on a dataset's columns.", TestArgs, hypothesis_test, ("core.stats",)),
    Tool("sql_query", "Run one read-only SQL SELECT over the datasets (DuckDB dialect; each dataset is a table "
         "named after it).", SqlArgs, sql_query, ("core.sql",)),
    Tool("train_ml_model", "Start a background job that trains and compares ML models to predict a target "
         "column; returns the job link.", TrainArgs, train_ml_model, ("core.ml",)),
    Tool("get_job_status", "Status, progress and result of a background job (default: the latest).",
         JobArgs, get_job_status),
    Tool("predict", "Predict with a trained model on a dataset.", PredictArgs, predict, ("core.ml",)),
    Tool("query_documents", "Answer a question from the uploaded documents, with citations.",
         QuestionArgs, query_documents, ("core.rag",)),
    Tool("search_documents", "Find the passages of the uploaded documents that match a query.",
         QueryArgs, search_documents, ("core.rag",)),
    Tool("web_search", "Search the web (SerpAPI) for up-to-date information.", QueryArgs, web_search,
         enabled=_serpapi_configured),
]}


def available(names: list[str] | None = None) -> dict[str, Tool]:
    """The tools usable now (their modules import, their settings are present), optionally a subset."""
    wanted = TOOLS if names is None else {n: TOOLS[n] for n in names if n in TOOLS}
    return {name: tool for name, tool in wanted.items() if tool.available()}


def run_tool(name: str, arguments: dict[str, Any] | str | None, *, allowed: list[str] | None = None) -> ToolResult:
    """Validate the arguments and run a tool. Errors come back as a failed ToolResult whose text explains them."""
    tool = TOOLS.get(name)
    if tool is None or (allowed is not None and name not in allowed) or not tool.available():
        known = ", ".join(sorted(available(allowed)))
        return ToolResult(f"There is no tool named {name!r} here. Available tools: {known}.", ok=False)
    try:
        if isinstance(arguments, str):
            arguments = json.loads(arguments or "{}")
        args = tool.args.model_validate(arguments or {})
        return tool.fn(args)
    except json.JSONDecodeError as exc:
        return ToolResult(f"The arguments of {name} are not valid JSON ({exc.msg}). Send a JSON object.", ok=False)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
        return ToolResult(f"Invalid arguments for {name}: {problems}.", ok=False)
    except WorkbenchError as exc:
        return ToolResult(str(exc), ok=False)
    except Exception:
        error_id = uuid.uuid4().hex[:8]
        log.exception("tool %s failed (error id %s)", name, error_id)
        return ToolResult(f"The tool {name} failed unexpectedly (error id {error_id}).", ok=False)
