"""Agent cards: the routing workbench agent and one per specialist, with skills from the tool registry."""

from __future__ import annotations

import importlib.util

from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)

from agents.specialists import SPECIALISTS
from agents.tools import TOOLS

WORKBENCH = "workbench"
PLOTLY_JSON = "application/vnd.plotly.v1+json"
SQL = "application/sql"
INPUT_MODES = ["text/plain", "application/json"]
OUTPUT_MODES = ["text/plain", "text/markdown", "application/json", PLOTLY_JSON, SQL]  # what the executor emits
BEARER = "bearer"

EXAMPLES: dict[str, list[str]] = {
    "list_datasets": ["Which datasets are there?"],
    "get_dataset_info": ["Describe the columns of sales"],
    "eda_analysis": ["Missing values in sales", "Correlation matrix of sales"],
    "create_visualization": ["Plot price by region in sales", "Histogram of price"],
    "hypothesis_test": ["Does price differ by region in sales?"],
    "sql_query": ["Average price by region in sales, with SQL"],
    "train_ml_model": ["Train a model to predict churn on customers"],
    "get_job_status": ["How is the training job going?"],
    "predict": ["Predict with model churn-xgb on new_customers"],
    "query_documents": ["What do the reports say about Q3 revenue?"],
    "search_documents": ["Find passages about pricing"],
    "web_search": ["Latest pandas release"],
}


def _skill(tool: str, tags: list[str]) -> AgentSkill:
    t = TOOLS[tool]
    return AgentSkill(id=tool, name=tool.replace("_", " ").capitalize(), description=t.description,
                      tags=tags, examples=EXAMPLES.get(tool, []), input_modes=INPUT_MODES,
                      output_modes=OUTPUT_MODES)


def _card(name: str, description: str, url: str, tools: list[str], tags: list[str], secured: bool) -> AgentCard:
    card = AgentCard(
        name=name, description=description, version="1.0.0",
        provider=AgentProvider(organization="Data-science workbench", url=url.split("/agents/")[0]),
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=INPUT_MODES, default_output_modes=OUTPUT_MODES,
        skills=[_skill(t, tags) for t in tools])
    if secured:
        card.security_schemes[BEARER].CopyFrom(SecurityScheme(http_auth_security_scheme=HTTPAuthSecurityScheme(
            scheme="Bearer", description="A workbench API token (API_TOKENS or `python -m core.tokens issue`).")))
        card.security_requirements.append(SecurityRequirement(schemes={BEARER: StringList()}))
    return card


def _usable(tool: str) -> bool:
    """Whether a tool can be offered, without importing its (heavy) modules: they exist and it is enabled."""
    t = TOOLS[tool]
    return all(importlib.util.find_spec(m) is not None for m in t.requires) and t.enabled()


def agent_path(key: str) -> str:
    """Where an agent lives under the base URL ('' for the workbench agent)."""
    return "" if key == WORKBENCH else f"/agents/{key}"


def cards(base_url: str, *, secured: bool) -> dict[str, AgentCard]:
    """The workbench card (routes each request to the fitting specialist) and one card per specialist."""
    base_url = base_url.rstrip("/")
    usable = {t for t in TOOLS if _usable(t)}
    every = [t for t in TOOLS if t in usable]
    out = {WORKBENCH: _card(
        "Workbench", "The data-science workbench: routes each request to the fitting specialist (Data Analyst, "
        "Data Scientist, SQL Expert, Visualization Expert, RAG Assistant, ML Engineer), which acts through typed "
        "tools on the stored datasets, models and documents and may hand parts to another specialist.",
        f"{base_url}/", every, ["workbench", "router"], secured)}
    for key, spec in SPECIALISTS.items():
        out[key] = _card(spec.name, f"The workbench's {spec.name}: {spec.summary}. {spec.prompt}",
                         f"{base_url}{agent_path(key)}/", [t for t in spec.tools if t in usable], [key], secured)
    return out
