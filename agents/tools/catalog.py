"""The catalogue of tools: every action an agent can take, each a typed call into `core` or `jobs`.

`core` modules are imported inside the tool functions, and a tool is offered only while the module
it needs imports. Nothing here deletes data or runs code: there is no such tool (cleaning makes a new version).
"""

from __future__ import annotations

from typing import Any

from agents.tools.charts import ChartArgs, create_visualization
from agents.tools.cleaning import CleanArgs, clean_dataset
from agents.tools.datasets import get_dataset_info, list_datasets
from agents.tools.dl import TrainDLArgs, train_dl_model
from agents.tools.documents import QuestionArgs, query_documents, search_documents
from agents.tools.eda import EdaArgs, eda_analysis
from agents.tools.ml import JobArgs, PredictArgs, TrainArgs, get_job_status, predict, train_ml_model
from agents.tools.projects import NoteArgs, ProjectArg, add_note, summarize_project
from agents.tools.registry import DatasetArg, NoArgs, QueryArgs, Tool, ToolResult, execute
from agents.tools.sql import SqlArgs, sql_query
from agents.tools.stats import TestArgs, hypothesis_test
from agents.tools.web import serpapi_configured, web_search

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
    Tool("clean_dataset", "Clean a dataset with one step (fill a column's missing values, or remove duplicate "
         "rows); makes a new version, the previous one is kept.", CleanArgs, clean_dataset, ("core.cleaning",)),
    Tool("sql_query", "Run one read-only SQL SELECT over the datasets (DuckDB dialect; each dataset is a table "
         "named after it).", SqlArgs, sql_query, ("core.sql",)),
    Tool("train_ml_model", "Start a background job that trains and compares ML models to predict a target "
         "column; returns the job link.", TrainArgs, train_ml_model, ("core.ml",)),
    Tool("train_dl_model", "Start a background job that trains a deep-learning network (MLP, CNN, RNN, LSTM, GRU, "
         "Transformer, Autoencoder, GAN, ResNet) in PyTorch or TensorFlow; returns the job link.", TrainDLArgs,
         train_dl_model, ("core.dl",)),
    Tool("get_job_status", "Status, progress and result of a background job (default: the latest).",
         JobArgs, get_job_status),
    Tool("predict", "Predict with a trained model on a dataset.", PredictArgs, predict, ("core.ml",)),
    Tool("query_documents", "Answer a question from the uploaded documents, with citations.",
         QuestionArgs, query_documents, ("core.rag",)),
    Tool("search_documents", "Find the passages of the uploaded documents that match a query.",
         QueryArgs, search_documents, ("core.rag",)),
    Tool("web_search", "Search the web (SerpAPI) for up-to-date information.", QueryArgs, web_search,
         enabled=serpapi_configured),
    Tool("summarize_project", "Summarise a project (default: the current one) from its datasets, tests, models "
         "and findings, each fact citing its item.", ProjectArg, summarize_project, ("core.projects",)),
    Tool("add_note", "Add a note, finding, to-do or decision to a project (default: the current one).",
         NoteArgs, add_note, ("core.projects",)),
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
    return execute(tool, arguments)
