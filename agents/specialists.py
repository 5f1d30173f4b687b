"""The six specialist agents: who they are, what they may do, and their settings."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

COMMON = (
    "You work inside a data-science workbench. Act only through the tools you are given; never write code for "
    "the user to run and never claim to have run anything you did not run with a tool. Nothing can delete or "
    "change data: refuse such requests and say so. Use exact dataset and column names from the context. "
    "Keep answers short: say what you found and what it means, with numbers. If another specialist fits the "
    "request better, call the `handoff` tool."
)


@dataclass(frozen=True)
class Specialist:
    key: str
    name: str
    icon: str
    tools: tuple[str, ...]
    prompt: str
    summary: str

    def system_prompt(self) -> str:
        return f"You are the {self.name} of the workbench. {self.prompt}\n\n{COMMON}"


SPECIALISTS: dict[str, Specialist] = {s.key: s for s in [
    Specialist("data_analyst", "Data Analyst", "🔎",
               ("eda_analysis", "get_dataset_info", "create_visualization", "list_datasets", "clean_dataset",
                "summarize_project", "add_note"),
               "You explore datasets: overviews, missing values, statistics, distributions, outliers, "
               "correlations, with a chart where it helps.",
               "explores data: overview, missing values, statistics, outliers, correlation"),
    Specialist("data_scientist", "Data Scientist", "🧪",
               ("train_ml_model", "train_dl_model", "hypothesis_test", "eda_analysis", "create_visualization",
                "list_datasets"),
               "You test hypotheses and build models: choose the right statistical test, check its assumptions, "
               "report effect and p-value in plain words; start model training when asked.",
               "hypothesis tests, statistics and modelling"),
    Specialist("sql_expert", "SQL Expert", "🗄️",
               ("sql_query", "get_dataset_info", "list_datasets"),
               "You answer questions by writing one read-only DuckDB SELECT over the datasets (each is a table "
               "named after the dataset; quote identifiers with double quotes). Show the SQL you ran. If the "
               "query fails, read the error, fix the SQL once and try again.",
               "answers questions with read-only SQL"),
    Specialist("visualization_expert", "Visualization Expert", "📈",
               ("create_visualization", "get_dataset_info", "eda_analysis", "list_datasets"),
               "You pick and draw the chart that answers the question: scatter for two numbers, histogram or "
               "box for one, bar for a number by category, line over time.",
               "draws charts"),
    Specialist("rag_assistant", "RAG Assistant", "📚",
               ("query_documents", "search_documents", "web_search"),
               "You answer from the uploaded documents and cite them (document and page). If the documents do "
               "not say, say so; do not guess.",
               "answers from the documents, with citations"),
    Specialist("ml_engineer", "ML Engineer", "🤖",
               ("train_ml_model", "train_dl_model", "hypothesis_test", "get_dataset_info", "get_job_status",
                "predict", "list_datasets"),
               "You train, follow and use ML models: start training jobs, report job status and metrics, "
               "predict with trained models.",
               "trains models, follows jobs, predicts"),
]}

DEFAULT = "data_analyst"


def owner_of(tool: str, *, prefer: str | None = None) -> str:
    """The specialist that owns a tool (the preferred one when it has it)."""
    if prefer in SPECIALISTS and tool in SPECIALISTS[prefer].tools:
        return prefer
    order = ("visualization_expert", "sql_expert", "rag_assistant", "ml_engineer", "data_scientist", "data_analyst")
    if tool in ("eda_analysis", "get_dataset_info", "list_datasets"):
        order = ("data_analyst", *order)
    if tool in ("hypothesis_test",):
        order = ("data_scientist", *order)
    if tool in ("train_ml_model",):
        order = ("data_scientist", *order)
    return next((k for k in order if tool in SPECIALISTS[k].tools), DEFAULT)


class AgentSettings(BaseModel):
    """Effective settings of a specialist: stored AgentConfig over the defaults."""

    agent: str
    model: str
    temperature: float
    enabled_tools: list[str]


def settings_for(key: str) -> AgentSettings:
    """The model, temperature and enabled tools of a specialist (stored values over the defaults)."""
    from core.config import get_settings
    from core.db import session
    from core.models.conversation import AgentConfig

    spec = SPECIALISTS[key]
    with session() as s:
        row = s.get(AgentConfig, key)
    enabled = [t for t in (row.enabled_tools if row and row.enabled_tools is not None else spec.tools)
               if t in spec.tools]
    return AgentSettings(agent=key, model=(row.model if row and row.model else get_settings().llm_model),
                         temperature=row.temperature if row else 0.2, enabled_tools=enabled)


def save_settings(key: str, *, model: str, temperature: float, enabled_tools: list[str]) -> AgentSettings:
    """Store a specialist's settings (only its own tools can be enabled)."""
    from core.db import session, utcnow
    from core.errors import InvalidInput
    from core.models.conversation import AgentConfig

    if key not in SPECIALISTS:
        raise InvalidInput(f"No agent {key!r}.", hint=f"Agents: {', '.join(SPECIALISTS)}")
    if not 0.0 <= temperature <= 2.0:
        raise InvalidInput("Temperature must be between 0 and 2.")
    tools = [t for t in enabled_tools if t in SPECIALISTS[key].tools]
    with session() as s:
        row = s.get(AgentConfig, key) or AgentConfig(agent=key)
        row.model, row.temperature, row.enabled_tools, row.updated = model.strip(), temperature, tools, utcnow()
        s.add(row)
    return settings_for(key)
