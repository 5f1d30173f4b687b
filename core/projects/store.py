"""Projects and their items and notes: create, list, update per field, delete, link, unlink, note.

Updates write only the fields given, in one UPDATE statement, so two analysts editing one project at
once each keep the fields they changed (last write wins per field); notes are rows of their own, so
adding one never overwrites another.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import select

from core import project_context, users
from core.db import as_uuid, session, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.models.project import ITEM_TYPES, NOTE_KINDS, Project, ProjectItem, ProjectNote, item_type_of, label_of

MAX_NAME = 200
MAX_TAGS = 20
MAX_NOTE = 20_000


def _name(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise InvalidInput("The project name is empty.", hint="Give it a short name such as 'Churn study'.")
    if len(cleaned) > MAX_NAME:
        raise InvalidInput(f"The project name has {len(cleaned)} characters; at most {MAX_NAME} are allowed.")
    return cleaned


def _tags(tags: list[str] | None) -> list[str]:
    out = list(dict.fromkeys(" ".join(str(t).split())[:50] for t in tags or [] if str(t).strip()))
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"{len(out)} tags given; at most {MAX_TAGS} are allowed.")
    return out


def create(name: str, *, description: str = "", tags: list[str] | None = None) -> Project:
    """A new, empty, active project. Names are shown as text, so any characters are allowed."""
    row = Project(name=_name(name), description=(description or "")[:MAX_NOTE], tags=_tags(tags))
    with session() as s:
        s.add(row)
    return row


def get_project(ref: uuid.UUID | str) -> Project:
    """A project by id (or exact name); raises NotFound."""
    key = as_uuid(ref)
    with session() as s:
        row = s.get(Project, key) if key else s.exec(select(Project).where(Project.name == str(ref))
                                                      .order_by(Project.created.desc())).first()
    if row is None:
        raise NotFound(f"No project {str(ref)!r}.", hint="It may have been deleted; the Projects page lists the others.")
    return row


def list_projects(*, status: str | None = "active", limit: int = 200) -> list[Project]:
    """Projects, most recently changed first (`status=None`: archived ones too)."""
    query = select(Project).order_by(Project.updated.desc()).limit(limit)
    if status is not None:
        query = query.where(Project.status == status)
    with session() as s:
        return list(s.exec(query).all())


def update_project(ref: uuid.UUID | str, *, name: str | None = None, description: str | None = None,
                   tags: list[str] | None = None) -> Project:
    """Rename, describe or tag a project; only the fields given are written (last write wins per field)."""
    row = get_project(ref)
    values: dict[str, Any] = {"updated": utcnow()}
    if name is not None:
        values["name"] = _name(name)
    if description is not None:
        values["description"] = description[:MAX_NOTE]
    if tags is not None:
        values["tags"] = _tags(tags)
    with session() as s:
        s.execute(update(Project).where(Project.id == row.id).values(**values))
    return get_project(row.id)


def touch(project_id: uuid.UUID) -> None:
    with session() as s:
        s.execute(update(Project).where(Project.id == project_id).values(updated=utcnow()))


def delete_project(ref: uuid.UUID | str) -> None:
    """Delete a project with its links and notes; the linked items themselves and its archives stay."""
    row = get_project(ref)
    with session() as s:
        s.execute(delete(ProjectNote).where(ProjectNote.project_id == row.id))
        s.execute(delete(ProjectItem).where(ProjectItem.project_id == row.id))
        s.execute(delete(Project).where(Project.id == row.id))


def writable(ref: uuid.UUID | str) -> Project:
    """The project, if it may change; an archived one is read-only (Conflict)."""
    row = get_project(ref)
    if row.status == "archived":
        raise Conflict(f"The project {row.name!r} is archived, so it is read-only.",
                       hint="Restore it from the Archive page to change it.")
    return row


@contextmanager
def use(ref: uuid.UUID | str | None) -> Iterator[Project | None]:
    """Inside the block, every item created joins the project (None: no project)."""
    row = writable(ref) if ref is not None else None
    with project_context.using(row.id if row else None):
        yield row


def item_ref(item: object, item_type: str | None = None) -> tuple[str, uuid.UUID]:
    """(type, id) of a stored item, or of an explicit (type, id) pair; raises InvalidInput."""
    if isinstance(item, tuple) and len(item) == 2:
        item_type, item = item
    kind = item_type or item_type_of(item)
    key = as_uuid(getattr(item, "id", item))
    if kind not in ITEM_TYPES.values() or key is None:
        known = ", ".join(sorted(set(ITEM_TYPES.values())))
        raise InvalidInput(f"{type(item).__name__} is not an item a project can hold.", hint=f"Items: {known}.")
    return kind, key


def link(ref: uuid.UUID | str, item: object, *, item_type: str | None = None) -> None:
    """Link a stored item to the project (linking twice is harmless)."""
    project = writable(ref)
    kind, key = item_ref(item, item_type)
    users.check_link(project, kind, key)
    with session() as s:
        exists = s.exec(select(ProjectItem).where(ProjectItem.project_id == project.id, ProjectItem.item_type == kind,
                                                  ProjectItem.item_id == key)).first()
        if exists is None:
            s.add(ProjectItem(project_id=project.id, item_type=kind, item_id=key, label=label_of(item)))
    touch(project.id)


def unlink(ref: uuid.UUID | str, item: object, *, item_type: str | None = None) -> None:
    """Remove an item from the project (the item itself stays)."""
    project = writable(ref)
    kind, key = item_ref(item, item_type)
    with session() as s:
        s.execute(delete(ProjectItem).where(ProjectItem.project_id == project.id, ProjectItem.item_type == kind,
                                            ProjectItem.item_id == key))
    touch(project.id)


def items(ref: uuid.UUID | str, item_type: str | None = None) -> list[ProjectItem]:
    """The project's links, oldest first (optionally of one type)."""
    project = get_project(ref)
    query = select(ProjectItem).where(ProjectItem.project_id == project.id).order_by(ProjectItem.created)
    if item_type is not None:
        query = query.where(ProjectItem.item_type == item_type)
    with session() as s:
        return list(s.exec(query).all())


def item_ids(ref: uuid.UUID | str, item_type: str) -> set[uuid.UUID]:
    """Ids of the project's items of one type (pages filter their lists with it)."""
    return {row.item_id for row in items(ref, item_type)}


def add_note(ref: uuid.UUID | str, text: str, *, kind: str = "note", item: object = None, pinned: bool = False,
             author: str = "") -> ProjectNote:
    """Add a Markdown note (shown safely, never as HTML); `item` links it to what it is about."""
    project = writable(ref)
    if kind not in NOTE_KINDS:
        raise InvalidInput(f"Unknown note kind {kind!r}.", hint=f"Kinds: {', '.join(NOTE_KINDS)}.")
    body = (text or "").strip()
    if not body:
        raise InvalidInput("The note is empty.", hint="Write what you found or decided.")
    if len(body) > MAX_NOTE:
        raise InvalidInput(f"The note has {len(body):,} characters; at most {MAX_NOTE:,} are allowed.")
    kind_of, key = item_ref(item) if item is not None else (None, None)
    row = ProjectNote(project_id=project.id, kind=kind, text=body, item_type=kind_of, item_id=key, pinned=pinned,
                      author=author[:200])
    with session() as s:
        s.add(row)
    touch(project.id)
    return row


def update_note(note_id: uuid.UUID | str, *, text: str | None = None, pinned: bool | None = None,
                done: bool | None = None) -> ProjectNote:
    """Change a note's text, pin or done flag; only the fields given are written."""
    note = _note(note_id)
    writable(note.project_id)
    values: dict[str, Any] = {"updated": utcnow()}
    if text is not None:
        if not text.strip():
            raise InvalidInput("The note is empty.", hint="Write something, or delete the note.")
        values["text"] = text.strip()[:MAX_NOTE]
    if pinned is not None:
        values["pinned"] = bool(pinned)
    if done is not None:
        values["done"] = bool(done)
    with session() as s:
        s.execute(update(ProjectNote).where(ProjectNote.id == note.id).values(**values))
    return _note(note.id)


def delete_note(note_id: uuid.UUID | str) -> None:
    note = _note(note_id)
    writable(note.project_id)
    with session() as s:
        s.execute(delete(ProjectNote).where(ProjectNote.id == note.id))


def _note(note_id: uuid.UUID | str) -> ProjectNote:
    key = as_uuid(note_id)
    with session() as s:
        row = s.get(ProjectNote, key) if key else None
    if row is None:
        raise NotFound(f"No note {str(note_id)!r}.", hint="It may have been deleted.")
    return row


def notes(ref: uuid.UUID | str, *, kind: str | None = None) -> list[ProjectNote]:
    """The project's notes: pinned first, then oldest first."""
    project = get_project(ref)
    query = select(ProjectNote).where(ProjectNote.project_id == project.id)
    if kind is not None:
        query = query.where(ProjectNote.kind == kind)
    with session() as s:
        rows = list(s.exec(query.order_by(ProjectNote.created)).all())
    return sorted(rows, key=lambda n: not n.pinned)


def set_status(project_id: uuid.UUID, status: str) -> None:
    with session() as s:
        s.execute(update(Project).where(Project.id == project_id).values(status=status, updated=utcnow()))


def set_meta(project_id: uuid.UUID, meta: dict[str, Any]) -> None:
    with session() as s:
        s.execute(update(Project).where(Project.id == project_id).values(meta=meta, updated=utcnow()))


__all__ = ["add_note", "create", "delete_note", "delete_project", "get_project", "item_ids",
           "item_ref", "items", "link", "list_projects", "notes", "set_meta", "set_status", "touch", "unlink",
           "update_note", "update_project", "use", "writable"]
