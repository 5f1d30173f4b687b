"""Who acts: users, `acting_as`, ownership of every stored item, project shares and the audit trail.

    user = users.get_or_create("auth0|42", name="Ada", email="ada@example.org")
    with users.acting_as(user.id):
        datasets.list_datasets()            # only Ada's datasets and those shared with her

Off sign-in (the embedded default) one local user owns everything and nothing is filtered. With
SIGN_IN on, two session hooks enforce ownership on every path that reads or writes through the ORM
(pages, jobs, agents, MCP, A2A, SQL's dataset list, RAG's chunk lookups):

- reads: every SELECT, UPDATE and DELETE of an owned table (and of a child table, through its parent)
  gets "owned by the acting user, or linked to a project shared with them", so another user's item is
  simply not found, and its name does not leak;
- writes: a new row is stamped with the acting user; changing an item needs ownership or an editable
  share of a project it is linked to; deleting one needs ownership. Deletions are audited.

Who acts is, in order: the innermost `acting_as` block; else the signed-in user of the Streamlit
session (a resolver the UI registers; nobody, seeing nothing, when not signed in); else the system
(a worker's bookkeeping, the scheduler, a notebook holding the database's credentials), which sees
everything. Every entry point that serves a user sets it: pages, `jobs` (the submitter), schedules
(their owner), MCP and A2A (the token's user).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, event, false, or_, select, true
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlalchemy.orm import Session as OrmSession

from core.config import get_settings
from core.db import as_uuid, session, utcnow
from core.errors import InvalidInput, NotFound, ReadOnly
from core.models.analysis import HypothesisTest
from core.models.base import LOCAL_USER_ID
from core.models.conversation import Conversation, Message
from core.models.dataset import DatabaseConnection, Dataset, DatasetVersion
from core.models.documents import Document, DocumentChunk, DocumentPage
from core.models.explore import QueryHistory, Visualization
from core.models.job import Job
from core.models.ml import MLModel, TrainingRun
from core.models.project import ITEM_TYPES, Project, ProjectArchive, ProjectItem, ProjectNote, ProjectTemplate
from core.models.protocols import ApiToken
from core.models.schedule import Schedule, ScheduleRun
from core.models.user import LOCAL_SUBJECT, AuditEvent, ProjectShare, User

log = logging.getLogger(__name__)

NOBODY = uuid.UUID(int=0)  # a Streamlit session nobody signed in to: sees nothing, owns nothing
EVERYONE = "everyone"


class _System:
    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()
_acting: ContextVar[uuid.UUID | _System | None] = ContextVar("workbench_acting_user", default=None)
_resolver: Callable[[], uuid.UUID | None] | None = None

# Tables whose rows have an owner. Items that can be linked to a project are visible through a share.
LINKABLE: tuple[type, ...] = (Dataset, Document, Visualization, QueryHistory, HypothesisTest, TrainingRun,
                              MLModel, Conversation)
PRIVATE: tuple[type, ...] = (DatabaseConnection, Job, Schedule, ApiToken)
# Child tables: visible (and changeable) exactly when their parent is.
CHILDREN: dict[type, tuple[type, str]] = {
    DatasetVersion: (Dataset, "dataset_id"), DocumentPage: (Document, "document_id"),
    DocumentChunk: (Document, "document_id"), Message: (Conversation, "conversation_id"),
    ProjectItem: (Project, "project_id"), ProjectNote: (Project, "project_id"),
    ScheduleRun: (Schedule, "schedule_id"),
}
OWNED: tuple[type, ...] = (*LINKABLE, *PRIVATE, Project, ProjectArchive, ProjectTemplate)


# ---------------------------------------------------------------------------------------------- who acts
def register_resolver(resolver: Callable[[], uuid.UUID | None]) -> None:
    """The UI's way to name the signed-in user of the running Streamlit session (None: not in a session)."""
    global _resolver
    _resolver = resolver


def _acting_now() -> uuid.UUID | _System:
    value = _acting.get()
    if value is not None:
        return value
    if _resolver is not None:
        found = _resolver()
        if found is not None:
            return found
    return SYSTEM if get_settings().sign_in else LOCAL_USER_ID


def current_id() -> uuid.UUID | None:
    """The acting user's id: the local user off sign-in, None for the system."""
    acting = _acting_now()
    return None if acting is SYSTEM else acting  # type: ignore[return-value]


def filtering_for() -> uuid.UUID | None:
    """The user whose view every query is cut to now, or None (sign-in off, or the system acting)."""
    if not get_settings().sign_in:
        return None
    return current_id()


@contextmanager
def acting_as(user_id: uuid.UUID | str | None) -> Iterator[uuid.UUID | None]:
    """Make every `core` call inside the block act as `user_id` (None or "": the local user)."""
    key = as_uuid(user_id) if user_id not in (None, "") else LOCAL_USER_ID
    if key is None:
        raise InvalidInput(f"{user_id!r} is not a user id.")
    token = _acting.set(key)
    try:
        yield key
    finally:
        _acting.reset(token)


@contextmanager
def as_system() -> Iterator[None]:
    """Act as the system inside the block (sees and changes everything): workers' bookkeeping only."""
    token = _acting.set(SYSTEM)
    try:
        yield
    finally:
        _acting.reset(token)


# ---------------------------------------------------------------------------------------------- users
def get_or_create(subject: str, *, name: str = "", email: str = "") -> User:
    """The user keyed by the provider's `subject`, created on first sign-in.

    The first user ever to sign in becomes an administrator and takes over what the local user made
    before sign-in was switched on; so does anyone whose e-mail or subject is listed in ADMINS.
    """
    subject = (subject or "").strip()
    if not subject or len(subject) > 300 or subject == LOCAL_SUBJECT:
        raise InvalidInput("A sign-in needs the provider's subject (1 to 300 characters).",
                           hint="Check the OpenID Connect provider's configuration.")
    listed = _listed_admin(subject, email)
    with as_system(), session() as s:
        user = s.exec(select(User).where(User.subject == subject)).scalars().first()
        if user is None:
            first = s.exec(select(User.id).where(User.subject != LOCAL_SUBJECT).limit(1)).first() is None
            user = User(subject=subject, name=name[:300], email=email[:300], is_admin=first or listed)
            s.add(user)
            s.flush()
            if first:
                _adopt_local_items(s, user.id)
        else:
            user.name, user.email = (name or user.name)[:300], (email or user.email)[:300]
            user.is_admin = user.is_admin or listed
            user.last_seen = utcnow()
            s.add(user)
        return user


def _listed_admin(subject: str, email: str) -> bool:
    listed = {a.strip().lower() for a in get_settings().admins.split(",") if a.strip()}
    return subject.lower() in listed or (bool(email) and email.lower() in listed)


def _adopt_local_items(s: OrmSession, user_id: uuid.UUID) -> None:
    for model in OWNED:
        s.execute(model.__table__.update().where(model.__table__.c.owner_id == LOCAL_USER_ID)
                  .values(owner_id=user_id))


def get(user_id: uuid.UUID | str) -> User:
    """A user by id; raises NotFound."""
    key = as_uuid(user_id)
    with as_system(), session() as s:
        user = s.get(User, key) if key else None
    if user is None:
        raise NotFound(f"No user {user_id!r}.", hint="Pick a user who has signed in at least once.")
    return user


def list_users() -> list[User]:
    """Everyone who has signed in (not the local user), by name."""
    with as_system(), session() as s:
        return list(s.exec(select(User).where(User.subject != LOCAL_SUBJECT).order_by(User.name, User.email))
                    .scalars().all())


def is_admin() -> bool:
    """True for the local user off sign-in, the system, and administrators."""
    if not get_settings().sign_in:
        return True
    acting = current_id()
    if acting is None:
        return True
    with as_system(), session() as s:
        user = s.get(User, acting)
    return bool(user and user.is_admin)


# ---------------------------------------------------------------------------------------------- sharing
def share(project_id: uuid.UUID | str, user_id: uuid.UUID | str, *, can_edit: bool = False) -> ProjectShare:
    """Open a project (and every item linked to it) to one user, or to "everyone"; only its owner may."""
    project = _owned_project(project_id)
    target = None if user_id == EVERYONE else get(user_id).id
    if target == project.owner_id:
        raise InvalidInput("A project is always open to its owner.", hint="Share it with someone else, or everyone.")
    with session() as s:
        row = s.exec(select(ProjectShare).where(ProjectShare.project_id == project.id,
                                                ProjectShare.user_id.is_(None) if target is None
                                                else ProjectShare.user_id == target)).scalars().first()
        row = row or ProjectShare(project_id=project.id, user_id=target)
        row.can_edit = bool(can_edit)
        s.add(row)
    audit("share", "project", project.id, project.name,
          {"with": EVERYONE if target is None else str(target), "can_edit": bool(can_edit)})
    return row


def unshare(project_id: uuid.UUID | str, user_id: uuid.UUID | str) -> None:
    """Close a project to a user (or to "everyone") again."""
    project = _owned_project(project_id)
    target = None if user_id == EVERYONE else as_uuid(user_id)
    with session() as s:
        cond = ProjectShare.user_id.is_(None) if target is None else ProjectShare.user_id == target
        for row in s.exec(select(ProjectShare).where(ProjectShare.project_id == project.id, cond)).scalars():
            s.delete(row)
    audit("unshare", "project", project.id, project.name, {"with": str(user_id)})


def shares_of(project_id: uuid.UUID | str) -> list[ProjectShare]:
    """Who a project is shared with (its owner's view)."""
    project = _owned_project(project_id)
    with session() as s:
        return list(s.exec(select(ProjectShare).where(ProjectShare.project_id == project.id)).scalars().all())


@dataclass(frozen=True)
class Access:
    """How the acting user reaches a project: as its owner, or through a share (read-only or editable)."""

    owner: User | None
    own: bool
    can_edit: bool


def access(project_id: uuid.UUID | str) -> Access:
    """The acting user's access to a project they can see; raises NotFound for one they cannot.

    Off sign-in, and for the system, everything is one's own.
    """
    acting = filtering_for()
    project = _visible_project(project_id)
    with as_system(), session() as s:
        owner = s.get(User, project.owner_id)
        if acting is None or project.owner_id == acting:
            return Access(owner=owner, own=True, can_edit=True)
        mine = s.exec(select(ProjectShare.can_edit).where(
            ProjectShare.project_id == project.id,
            or_(ProjectShare.user_id == acting, ProjectShare.user_id.is_(None)))).scalars().all()
    return Access(owner=owner, own=False, can_edit=any(mine))


def _visible_project(project_id: uuid.UUID | str) -> Project:
    """The project, if the acting user can see it; NotFound otherwise (as for an id that does not exist)."""
    key = as_uuid(project_id)
    with session() as s:
        project = s.get(Project, key) if key else None
    if project is None:
        raise NotFound(f"No project {project_id!r}.", hint="Pick one from the Projects page.")
    return project


def _owned_project(project_id: uuid.UUID | str) -> Project:
    acting = current_id()
    project = _visible_project(project_id)
    if get_settings().sign_in and acting is not None and project.owner_id != acting:
        raise ReadOnly(f"Only the owner of {project.name!r} can change whom it is shared with.")
    return project


def check_link(project: Project, item_type: str, item_id: uuid.UUID) -> None:
    """May the acting user link this item to `project`? Only an item they see (else NotFound), and one not
    their own only into a project of its owner's: linking it elsewhere would share it on, and only the owner
    shares (ReadOnly)."""
    user = filtering_for()
    model = {name: m for m, name in ITEM_TYPES.items()}.get(item_type)
    if user is None or model is None:
        return
    with session() as s:
        row = s.get(model, item_id)
    if row is None:
        raise NotFound(f"No {item_type.replace('_', ' ')} {str(item_id)!r}.", hint="Pick one from its page.")
    owner = _owner_of(row)
    if owner != user and owner != project.owner_id:
        raise ReadOnly(f"{_label(row)} is shared with you: only its owner can add it to another project.",
                       hint="Make a copy of your own, or ask its owner to add it.")


def _owner_of(row: Any) -> uuid.UUID | None:
    if type(row) in CHILDREN:
        parent, fk = CHILDREN[type(row)]
        with as_system(), session() as s:
            return s.execute(select(parent.__table__.c.owner_id).where(parent.__table__.c.id == getattr(row, fk))
                             ).scalar()
    return getattr(row, "owner_id", None)


# ---------------------------------------------------------------------------------------------- audit
def audit(action: str, item_type: str = "", item_id: object = "", label: str = "",
          detail: dict[str, Any] | None = None) -> None:
    """Record who did what (sign-ins, shares, deletions)."""
    with session() as s:
        s.add(_event(action, item_type, item_id, label, detail))


def _event(action: str, item_type: str, item_id: object, label: str, detail: dict[str, Any] | None) -> AuditEvent:
    return AuditEvent(user_id=current_id(), action=action[:50], item_type=item_type[:50], item_id=str(item_id)[:100],
                      label=str(label)[:2000], detail=detail or {})


def record_sign_in(user: User, *, issued_at: object = None) -> bool:
    """Audit a sign-in once per identity token (its `iat`), not once per page load; True when recorded.

    Each browser tab or reload is a new Streamlit session with the same identity cookie: that is no sign-in.
    """
    stamp = str(issued_at) if issued_at not in (None, "") else ""
    if stamp:
        with as_system(), session() as s:
            seen = s.exec(select(AuditEvent.detail).where(AuditEvent.user_id == user.id,
                                                          AuditEvent.action == "sign_in")).scalars().all()
        if any(detail.get("iat") == stamp for detail in seen):
            return False
    audit("sign_in", "user", user.id, user.email or user.name or user.subject, {"iat": stamp} if stamp else {})
    return True


def audit_log(*, limit: int = 200) -> list[AuditEvent]:
    """The newest audit events; administrators only (raises NotFound for others, like any hidden item)."""
    if not is_admin():
        raise NotFound("There is no audit log here.", hint="Ask an administrator.")
    with as_system(), session() as s:
        return list(s.exec(select(AuditEvent).order_by(AuditEvent.created.desc()).limit(limit)).scalars().all())


# ---------------------------------------------------------------------------------------------- the hooks
def _shared_projects(user: uuid.UUID, *, editable: bool = False) -> Any:
    t = ProjectShare.__table__.c
    cond = or_(t.user_id == user, t.user_id.is_(None))
    return select(t.project_id).where(and_(cond, t.can_edit == true()) if editable else cond)


def _shared_items(user: uuid.UUID, *, editable: bool = False) -> Any:
    t = ProjectItem.__table__.c
    return select(t.item_id).where(t.project_id.in_(_shared_projects(user, editable=editable)))


def _visible(model: type, user: uuid.UUID, *, editable: bool = False) -> Any:
    """A Core condition on `model`'s table: the rows `user` may see (or, with editable, change)."""
    c = model.__table__.c
    if model in CHILDREN:
        parent, fk = CHILDREN[model]
        return c[fk].in_(select(parent.__table__.c.id).where(_visible(parent, user, editable=editable)))
    own = c.owner_id == user
    if model is Project:
        return or_(own, c.id.in_(_shared_projects(user, editable=editable)))
    if model is ProjectArchive:
        return or_(own, c.project_id.in_(_shared_projects(user, editable=editable)))
    if model is ProjectTemplate:
        archives = ProjectArchive.__table__.c
        return or_(own, c.archive_id.in_(select(archives.id).where(
            archives.project_id.in_(_shared_projects(user, editable=editable)))))
    if model is Dataset:  # a dataset is shared when it, or one of its versions, is linked to a shared project
        versions = DatasetVersion.__table__.c
        items = _shared_items(user, editable=editable)
        return or_(own, c.id.in_(items), c.id.in_(select(versions.dataset_id).where(versions.id.in_(items))))
    if model in LINKABLE:
        return or_(own, c.id.in_(_shared_items(user, editable=editable)))
    return own


@event.listens_for(OrmSession, "do_orm_execute")
def _only_visible_rows(state: ORMExecuteState) -> None:
    """Cut every ORM SELECT, UPDATE and DELETE to what the acting user may see."""
    user = filtering_for()
    if user is None or not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return
    if user != NOBODY and (state.is_update or state.is_delete):
        _refuse_bulk_change(state, user)
    state.statement = state.statement.options(*(
        with_loader_criteria(model, false() if user == NOBODY else _visible(model, user), include_aliases=False)
        for model in (*OWNED, *CHILDREN)))


def _refuse_bulk_change(state: ORMExecuteState, user: uuid.UUID) -> None:
    """An UPDATE or DELETE statement that would touch a row the user sees but may not change is refused whole.

    (Rows the user cannot see are left out by the criteria, as for a read: they are not found.)
    """
    entity = state.statement.entity_description.get("entity")
    if entity is ProjectShare:
        _refuse_share_change(state, user)
        return
    if entity not in OWNED and entity not in CHILDREN:
        return
    table = entity.__table__
    if state.is_delete and entity in OWNED:
        allowed = table.c.owner_id == user
    else:
        allowed = _visible(entity, user, editable=True)
    where = state.statement.whereclause
    query = select(table.c.id).where(_visible(entity, user), ~allowed).limit(1)
    if where is not None:
        query = query.where(where)
    if state.session.execute(query).first() is not None:
        verb = "delete" if state.is_delete else "change"
        raise ReadOnly(f"You can see this {table.name.replace('_', ' ')} but not {verb} it: it is shared with you"
                       f"{' and only its owner can delete it' if state.is_delete else ' read-only'}.",
                       hint="Ask its owner, or make a copy of your own.")


def _refuse_share_change(state: ORMExecuteState, user: uuid.UUID) -> None:
    """Share rows change only through their project's owner (`share`, `unshare`): a statement touching
    another's is refused whole."""
    t, projects = ProjectShare.__table__, Project.__table__.c
    query = select(t.c.id).where(~t.c.project_id.in_(select(projects.id).where(projects.owner_id == user))).limit(1)
    if state.statement.whereclause is not None:
        query = query.where(state.statement.whereclause)
    if state.session.execute(query).first() is not None:
        raise ReadOnly("Only a project's owner can change whom it is shared with.")


def _check_share_row(s: OrmSession, row: ProjectShare, user: uuid.UUID) -> None:
    c = Project.__table__.c
    owner = s.execute(select(c.owner_id).where(c.id == row.project_id)).first()
    if owner is not None and owner[0] == user:
        return
    if owner is None or s.execute(select(c.id).where(c.id == row.project_id, _visible(Project, user))).first() is None:
        raise NotFound(f"No project {str(row.project_id)!r}.", hint="Pick one from the Projects page.")
    raise ReadOnly("Only a project's owner can change whom it is shared with.")


@event.listens_for(OrmSession, "before_flush")
def _stamp_and_check(s: OrmSession, _context: Any, _instances: Any) -> None:
    """Stamp new items with the acting user; refuse changes to items the acting user may not change."""
    user = filtering_for()
    if user is None:
        return
    if user == NOBODY:
        if s.new or s.dirty or s.deleted:
            raise ReadOnly("Sign in first: nothing can be saved without a signed-in user.")
        return
    for obj in (*s.new, *s.dirty, *s.deleted):
        if type(obj) is ProjectShare:
            _check_share_row(s, obj, user)
    for obj in list(s.new):
        if type(obj) in OWNED:
            obj.owner_id = user
        elif type(obj) in CHILDREN:
            _check_parent(s, obj, user)
    for obj in list(s.dirty):
        if type(obj) in OWNED and s.is_modified(obj) and not _may_change(s, obj, user):
            raise ReadOnly(f"{_label(obj)} is shared with you read-only.",
                           hint="Ask its owner for edit rights, or make a copy of your own.")
        if type(obj) in CHILDREN and s.is_modified(obj):
            _check_parent(s, obj, user)
    for obj in list(s.deleted):
        if type(obj) in OWNED:
            if obj.owner_id != user:
                raise ReadOnly(f"Only its owner can delete {_label(obj)}.")
            s.add(AuditEvent(user_id=user, action="delete", item_type=obj.__tablename__, item_id=str(obj.id),
                             label=_label(obj)))
        elif type(obj) in CHILDREN:
            _check_parent(s, obj, user)


def _check_parent(s: OrmSession, obj: object, user: uuid.UUID) -> None:
    parent, fk = CHILDREN[type(obj)]
    parent_id = getattr(obj, fk)
    c = parent.__table__.c
    allowed = s.execute(select(c.id).where(c.id == parent_id, _visible(parent, user, editable=True))).first()
    if allowed is None:
        owner = s.execute(select(c.owner_id).where(c.id == parent_id)).first()
        if owner is not None and owner[0] == user:
            return
        if parent is Project:
            name = s.execute(select(c.name).where(c.id == parent_id)).scalar()
            raise ReadOnly(f"The project {str(name)[:80]!r} is shared with you read-only, so nothing new can join it.",
                           hint="Pick one of your own projects (or none) as the current project, or ask its owner "
                                "for edit rights.")
        raise ReadOnly("That item is shared with you read-only.",
                       hint="Ask its owner for edit rights, or make a copy of your own.")


def _may_change(s: OrmSession, obj: Any, user: uuid.UUID) -> bool:
    if obj.owner_id == user:
        return True
    c = type(obj).__table__.c
    return s.execute(select(c.id).where(c.id == obj.id, _visible(type(obj), user, editable=True))).first() is not None


def _label(obj: object) -> str:
    name = getattr(obj, "name", None) or getattr(obj, "title", None) or getattr(obj, "sql", None) or ""
    kind = getattr(obj, "__tablename__", "item").replace("_", " ")
    return f"the {kind} {str(name)[:80]!r}" if name else f"this {kind}"
