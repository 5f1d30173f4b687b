"""Project tools: summarise the current project, and add a note or finding to it."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from agents.tools.registry import Args, ToolResult
from core.errors import InvalidInput


class ProjectArg(Args):
    project: str | None = Field(None, description="Project name or id; empty: the current project.")


class NoteArgs(ProjectArg):
    text: str = Field(description="The note in Markdown, e.g. 'Tenure drives churn (t-test p < 0.001)'.",
                      max_length=20_000)
    kind: Literal["note", "finding", "todo", "decision"] = "note"


def _project(ref: str | None) -> object:
    from core import project_context, projects

    chosen = ref or project_context.current()
    if chosen is None:
        raise InvalidInput("No project is current.", hint="Pick one in the sidebar, or name the project.")
    return projects.get_project(chosen)


def summarize_project(args: ProjectArg) -> ToolResult:
    """The project's summary from its facts (with the LLM's written summary when one is configured)."""
    from core import projects

    p = _project(args.project)
    s = projects.summary(p.id, save=False)
    table = pd.DataFrame([{"fact": f.number, "text": f.text, "item": f"{f.item_type} {f.item_id}"} for f in s.cited])
    return ToolResult(f"Summary of project {p.name!r}:\n{s.text}", table=table)


def add_note(args: NoteArgs) -> ToolResult:
    from core import projects

    p = _project(args.project)
    note = projects.add_note(p.id, args.text, kind=args.kind, author="assistant")
    return ToolResult(f"Added a {note.kind} to project {p.name!r}.")
