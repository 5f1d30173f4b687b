"""Pick the specialist for a message: by rules offline, by the LLM when one is configured."""

from __future__ import annotations

import logging
import re

from agents import intent
from agents.llm_client import complete
from agents.reply import ToolCall
from agents.specialists import DEFAULT, SPECIALISTS, owner_of

log = logging.getLogger(__name__)

KEYWORDS: tuple[tuple[str, str], ...] = tuple((pattern, key) for pattern, key, _ in intent.FAMILIES)


def route_offline(message: str, calls: list[ToolCall]) -> str:
    """The owner of the first planned tool; else the first keyword family that matches; else the analyst."""
    if calls:
        return owner_of(calls[0].name)
    return intent.family(message) or DEFAULT


ROUTER_PROMPT = (
    "Route the user's message to one specialist of a data-science workbench. Answer with the key only.\n"
    + "\n".join(f"- {s.key}: {s.summary}" for s in SPECIALISTS.values())
)


def route_llm(message: str, calls: list[ToolCall]) -> str:
    """Ask the LLM which specialist should answer (it sees the user's message only); an odd answer falls back
    to the rules. Raises LLMError when the endpoint fails (the orchestrator then answers offline).
    """
    answer = complete([{"role": "system", "content": ROUTER_PROMPT},
                       {"role": "user", "content": message}], max_tokens=10)
    key = re.sub(r"[^a-z_]", "", answer.strip().lower().replace(" ", "_"))
    if key in SPECIALISTS:
        return key
    by_name = {s.name.lower().replace(" ", "_"): s.key for s in SPECIALISTS.values()}
    return by_name.get(key) or route_offline(message, calls)
