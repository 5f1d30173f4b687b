"""Archive: a read-only snapshot of a finished project that outlives its live items.

`archive` copies the exact Parquet file of every dataset version the methodology used (a hard link
where the file system allows it: versions are never rewritten), the figures of its charts and a
manifest into DATA_DIR/archive/<id>, built in a temporary folder and renamed into place, and only then
writes the ProjectArchive row; any failure leaves neither. The project becomes read-only until restored.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import select

from core import storage
from core.db import as_uuid, session
from core.errors import InvalidInput, NotFound
from core.models.dataset import DatasetVersion
from core.models.explore import Visualization
from core.models.project import Project, ProjectArchive, ProjectItem, ProjectNote
from core.projects import store
from core.projects.methodology import Step, methodology

AREA = "archive"


def archive(ref: uuid.UUID | str) -> ProjectArchive:
    """Snapshot the project (steps, notes, dataset versions, figures) and make it read-only.

    Raises InvalidInput for an empty project (nothing to keep) and Conflict if it is already archived.
    """
    project = store.writable(ref)
    steps = methodology(project.id)
    notes = store.notes(project.id)
    if not steps and not notes:
        raise InvalidInput(f"The project {project.name!r} is empty, so there is nothing to archive.",
                           hint="Link a dataset or add a note first, or delete the project.")
    archive_id = uuid.uuid4()
    final = storage.area(AREA) / str(archive_id)
    tmp = storage.area(AREA) / f".tmp-{archive_id.hex}"
    try:
        files = _copy_files(steps, tmp)
        snapshot = _snapshot(project, steps, notes, files)
        (tmp / "manifest.json").write_text(json.dumps(snapshot, default=str, indent=1))
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    try:
        row = ProjectArchive(id=archive_id, project_id=project.id, name=project.name, description=project.description,
                             tags=list(project.tags), snapshot=snapshot, folder=storage.relative(final),
                             dataset_names=sorted({s.dataset_name for s in steps if s.kind == "import"}))
        with session() as s:
            s.add(row)
        store.set_status(project.id, "archived")
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    return row


def _copy_files(steps: list[Step], folder: Path) -> dict[str, str]:
    """Copy each used version's file and each chart's figure; return {item id: path inside the archive}."""
    (folder / "datasets").mkdir(parents=True)
    (folder / "charts").mkdir()
    files: dict[str, str] = {}
    with session() as s:
        for step in steps:
            if step.kind == "import":
                first = s.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == uuid.UUID(step.dataset_id))
                               .order_by(DatasetVersion.version)).first()
                files[step.item_id] = _place(step.parameters["file"] if first is None else first.path, folder,
                                             f"datasets/{step.dataset_id}/v1.parquet")
            elif step.kind == "clean":
                version = s.get(DatasetVersion, uuid.UUID(step.item_id))
                files[step.item_id] = _place(version.path, folder,
                                             f"datasets/{step.dataset_id}/v{version.version}.parquet")
            elif step.kind == "chart":
                chart = s.get(Visualization, uuid.UUID(step.item_id))
                (folder / f"charts/{chart.id}.json").write_text(chart.figure)
                files[step.item_id] = f"charts/{chart.id}.json"
    return files


def _place(stored: str, folder: Path, inside: str) -> str:
    source, target = storage.absolute(stored), folder / inside
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return inside


def _snapshot(project: Project, steps: list[Step], notes: list[ProjectNote], files: dict[str, str]) -> dict[str, Any]:
    return {"project": {"id": str(project.id), "name": project.name, "description": project.description,
                        "tags": project.tags, "meta": project.meta, "created": project.created.isoformat()},
            "steps": [s.model_dump(mode="json") for s in steps],
            "notes": [{"kind": n.kind, "text": n.text, "item_type": n.item_type,
                       "item_id": str(n.item_id) if n.item_id else None, "pinned": n.pinned, "done": n.done,
                       "created": n.created.isoformat()} for n in notes],
            "files": files}


def get_archive(ref: uuid.UUID | str) -> ProjectArchive:
    key = as_uuid(ref)
    with session() as s:
        row = s.get(ProjectArchive, key) if key else None
    if row is None:
        raise NotFound(f"No archived project {str(ref)!r}.", hint="The Archive page lists the archived projects.")
    return row


def archived_steps(row: ProjectArchive) -> list[Step]:
    return [Step.model_validate(s) for s in row.snapshot.get("steps", [])]


def archive_file(row: ProjectArchive, item_id: str) -> Path | None:
    """The archived copy of an item's file (a dataset version's Parquet, a chart's figure), if kept."""
    inside = row.snapshot.get("files", {}).get(item_id)
    return storage.absolute(f"{row.folder}/{inside}") if inside else None


def list_archives(*, text: str = "", tag: str = "", dataset: str = "", since: datetime | None = None,
                  until: datetime | None = None, limit: int = 200) -> list[ProjectArchive]:
    """Archived projects, newest first, filtered by text (name, description, notes), tag, dataset and date."""
    query = select(ProjectArchive).order_by(ProjectArchive.created.desc())
    if since is not None:
        query = query.where(ProjectArchive.created >= since)
    if until is not None:
        query = query.where(ProjectArchive.created <= until)
    with session() as s:
        rows = list(s.exec(query).all())
    needle, tag_l, ds_l = text.strip().lower(), tag.strip().lower(), dataset.strip().lower()
    return [r for r in rows if (not needle or needle in _haystack(r)) and (not tag_l or tag_l in
            [t.lower() for t in r.tags]) and (not ds_l or any(ds_l in d.lower() for d in r.dataset_names))][:limit]


def _haystack(row: ProjectArchive) -> str:
    notes = " ".join(n.get("text", "") for n in row.snapshot.get("notes", []))
    return f"{row.name} {row.description} {notes}".lower()


def restore(ref: uuid.UUID | str) -> Project:
    """Make the archived project editable again; a project deleted since is recreated with its notes."""
    row = get_archive(ref)
    try:
        project = store.get_project(row.project_id) if row.project_id else None
    except NotFound:
        project = None
    if project is not None:
        store.set_status(project.id, "active")
        return store.get_project(project.id)
    return _recreate(row)


def _recreate(row: ProjectArchive) -> Project:
    info = row.snapshot.get("project", {})
    project = Project(id=row.project_id or uuid.uuid4(), name=row.name, description=row.description,
                      tags=list(row.tags), meta=info.get("meta", {}))
    with session() as s:
        s.add(project)
        s.flush()
        for step in archived_steps(row):
            if step.kind != "missing":
                s.add(ProjectItem(project_id=project.id, item_type=step.item_type, item_id=uuid.UUID(step.item_id),
                                  label=step.dataset_name or step.result[:300]))
        for note in row.snapshot.get("notes", []):
            s.add(ProjectNote(project_id=project.id, kind=note["kind"], text=note["text"], item_type=note["item_type"],
                              item_id=as_uuid(note["item_id"]) if note["item_id"] else None, pinned=note["pinned"],
                              done=note["done"]))
    return project


def delete_archive(ref: uuid.UUID | str) -> None:
    """Delete an archived snapshot and its files; a live project it froze becomes editable again."""
    row = get_archive(ref)
    with session() as s:
        s.delete(s.get(ProjectArchive, row.id))
        others = s.exec(select(ProjectArchive).where(ProjectArchive.project_id == row.project_id)).first()
        live = s.get(Project, row.project_id) if row.project_id else None
    storage.remove_tree(storage.absolute(row.folder))
    if live is not None and others is None:
        store.set_status(live.id, "active")
