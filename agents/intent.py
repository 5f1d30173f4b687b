"""What the user's own message asks for: the specialist families it names and the tools it needs.

Decided from the message alone (and the offline planner's reading of it), never from a model's reply or
a tool's output, so text planted in a dataset, a document or a web page cannot widen what an answer
may do: the LLM loop offers and runs only these tools, and hands off only to specialists that bring one.
"""

from __future__ import annotations

import re

from agents.specialists import SPECIALISTS

# (pattern, specialist, the tools that pattern asks for)
FAMILIES: tuple[tuple[str, str, frozenset[str]], ...] = (
    (r"\b(sql|query|select|join|group by|table)\b", "sql_expert", frozenset({"sql_query"})),
    (r"\b(plot|chart|graph|visuali[sz]|histogram|scatter|heatmap|draw)\b", "visualization_expert",
     frozenset({"create_visualization"})),
    (r"\b(documents?|docs|pdf|cite|citation|report|paper|web|search)\b", "rag_assistant",
     frozenset({"query_documents", "search_documents"})),
    (r"\b(train|model|predict|job|deploy|accuracy|xgboost|forest)\b", "ml_engineer",
     frozenset({"get_job_status"})),
    (r"\b(test|hypothes|significan|p[\s-]?value|anova|regression)\b", "data_scientist",
     frozenset({"hypothesis_test"})),
)

READ_TOOLS = frozenset({"list_datasets", "get_dataset_info", "eda_analysis"})
# Tools that start work, change data (a new version), reach outside or use a model: only when the message
# itself asks for them.
ACTIONS: dict[str, str] = {
    "train_ml_model": r"\b(train\w*|retrain\w*|fit|automl|machine learning|classif\w*|regressor|forecast\w*|"
                      r"predict\w*|build (a |an )?model)\b",
    "predict": r"\b(predict\w*|forecast\w*|score|apply (the |a )?model)\b",
    "web_search": r"\b(web|internet|online|google|search engine|news)\b",
    "clean_dataset": r"\b(fill\w*|imput\w*|dedup\w*|duplicat\w*|clean\w*)\b",
}


def family(message: str) -> str | None:
    """The specialist of the first keyword family the message names, or None."""
    low = message.lower()
    return next((key for pattern, key, _ in FAMILIES if re.search(pattern, low)), None)


def needed_tools(message: str, *, agent: str, planned: list[str]) -> set[str]:
    """The tools one answer may use: reading tools, the chosen specialist's own tools, those the message asks for.

    `agent` was pinned by the user or routed from the message alone; `planned` are the tools the offline
    planner maps the message to. Action tools (training, prediction, web search) need words in the message.
    """
    low = message.lower()
    needed = set(READ_TOOLS) | set(planned)
    needed |= {t for t in SPECIALISTS[agent].tools if t not in ACTIONS}
    needed |= {t for pattern, _, tools in FAMILIES if re.search(pattern, low) for t in tools}
    needed |= {tool for tool, pattern in ACTIONS.items() if re.search(pattern, low)}
    return needed


def needed_specialists(message: str, *, agent: str, planned: list[str]) -> set[str]:
    """The specialists one answer may hand off to: the chosen one, the owners of the planned tools, and those
    of the keyword families the message names."""
    from agents.specialists import owner_of

    low = message.lower()
    return {agent} | {owner_of(t) for t in planned} | {key for pattern, key, _ in FAMILIES if re.search(pattern, low)}
