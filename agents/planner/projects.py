"""Intent: projects. "Summarise this project", "add a finding: ..." (a hook kept apart from the other rules)."""

from __future__ import annotations

import re

from agents.planner.parse import Ctx
from agents.reply import ToolCall

_SUMMARY = re.compile(r"\bsummar(?:ise|ize|y)\b.*\bproject\b|\bproject\b.*\bsummary\b", re.IGNORECASE)
_NOTE = re.compile(r"^\s*(?:please\s+)?(?:add|record|note)\s+(?:(?:a|an|this)\s+)?"
                   r"(note|finding|to-?do|decision)\s*[:\-]\s*(.+)$", re.IGNORECASE | re.DOTALL)


def rule_projects(ctx: Ctx) -> list[ToolCall] | None:
    """`summarize_project` or `add_note` on the current project; None for anything else."""
    match = _NOTE.match(ctx.text)
    if match:
        kind = match.group(1).lower().replace("-", "")
        return [ToolCall(name="add_note", arguments={"text": match.group(2).strip()[:20_000], "kind": kind})]
    if _SUMMARY.search(ctx.text):
        return [ToolCall(name="summarize_project", arguments={})]
    return None
