"""Projects: organise work, keep it (Archive) and re-run it on new data (templates).

    from core import projects
    p = projects.create("Churn study")
    with projects.use(p.id):                   # items created inside join p
        ds = datasets.ingest_file("churn.csv")
    projects.add_note(p.id, "Tenure drives churn", kind="finding", item=test_row)
    projects.methodology(p.id); projects.summary(p.id)
    projects.share(p.id, other_user.id, can_edit=True)   # or "everyone"; with sign-in, items are private until shared
    a = projects.archive(p.id); t = projects.make_template(a.id, name="Churn")
    plan = projects.plan_template(t.id, other.id); new = projects.apply_template(t.id, other.id)
    nb = projects.export(p.id, format="ipynb")

The modules, lowest first: `store` (projects, links, notes), `methodology` (steps read from the
stored items), `summary`, `archives`, `templates`, `export`. The current project lives in
`core.project_context`; the table module's flush hook links new items to it.
"""

from __future__ import annotations

from core.models.project import NOTE_KINDS, Project, ProjectArchive, ProjectItem, ProjectNote, ProjectTemplate
from core.project_context import current, set_current
from core.projects.archives import archive, delete_archive, get_archive, list_archives, restore
from core.projects.export import FORMATS, expected_results, export
from core.projects.methodology import Step, methodology
from core.projects.store import (
    add_note,
    create,
    delete_note,
    delete_project,
    get_project,
    item_ids,
    items,
    link,
    list_projects,
    notes,
    unlink,
    update_note,
    update_project,
    use,
)
from core.projects.summary import Fact, Summary, facts, summary
from core.projects.templates import (
    Plan,
    PlanStep,
    apply_template,
    delete_template,
    get_template,
    list_templates,
    make_template,
    match_columns,
    plan_template,
)
from core.users import EVERYONE, share, shares_of, unshare

Archive = ProjectArchive
Note = ProjectNote
Template = ProjectTemplate

__all__ = [
    "EVERYONE",
    "FORMATS",
    "NOTE_KINDS",
    "Archive",
    "Fact",
    "Note",
    "Plan",
    "PlanStep",
    "Project",
    "ProjectArchive",
    "ProjectItem",
    "ProjectNote",
    "ProjectTemplate",
    "Step",
    "Summary",
    "Template",
    "add_note",
    "apply_template",
    "archive",
    "create",
    "current",
    "delete_archive",
    "delete_note",
    "delete_project",
    "delete_template",
    "expected_results",
    "export",
    "facts",
    "get_archive",
    "get_project",
    "get_template",
    "item_ids",
    "items",
    "link",
    "list_archives",
    "list_projects",
    "list_templates",
    "make_template",
    "match_columns",
    "methodology",
    "notes",
    "plan_template",
    "restore",
    "set_current",
    "share",
    "shares_of",
    "summary",
    "unlink",
    "unshare",
    "update_note",
    "update_project",
    "use",
]
