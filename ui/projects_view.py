"""The Projects page's body: create and open a project, its items, notes, methodology, summary, export."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from core import charts, datasets, projects, stats, users
from core.config import get_settings
from core.projects.methodology import missing_items
from core.projects.summary import _configured as llm_configured
from ui.errors import guard
from ui.project_picker import set_current
from ui.safe import escape_markdown, sanitize_reply
from ui.share_view import access_of, share_section, shared_with_you
from ui.state import ProjectKeys

MIMES = {"ipynb": "application/x-ipynb+json", "py": "text/x-python", "html": "text/html"}


def render_projects() -> None:
    with guard():
        _create_form()
        rows = projects.list_projects()
        if not rows:
            st.info("No projects yet. Create one above: whatever you make while it is current joins it.")
            return
        project = _open(rows)
        access = access_of(project)
        if not access.own:
            shared_with_you(access)
        _header(project, access)
        names = ["Items", "Notes", "Methodology", "Summary", "Export & archive"]
        tabs = st.tabs(names + (["Share"] if access.own and get_settings().sign_in else []))
        editable = access.can_edit and project.status != "archived"
        with tabs[0], guard():
            _items(project, editable=editable)
        with tabs[1], guard():
            _notes(project, editable=editable)
        with tabs[2], guard():
            _methodology(project)
        with tabs[3], guard():
            _summary(project, editable=editable)
        with tabs[4], guard():
            _export(project, editable=editable)
        if len(tabs) > len(names):
            with tabs[-1], guard():
                share_section(project)


def _create_form() -> None:
    with st.expander("New project", expanded=not projects.list_projects()), st.form("project-new", clear_on_submit=True):
        name = st.text_input("Name", key="project-new-name")
        description = st.text_area("Description", key="project-new-description")
        tags = st.text_input("Tags (comma separated)", key="project-new-tags")
        if st.form_submit_button("Create project", key="project-new-submit"):
            with guard():
                p = projects.create(name, description=description, tags=_split(tags))
                set_current(str(p.id))
                st.session_state[ProjectKeys.OPEN] = str(p.id)
                st.rerun()  # the sidebar picker, drawn before this form, then shows it as current


def _split(tags: str) -> list[str]:
    return [t.strip() for t in tags.split(",") if t.strip()]


def _open(rows: list[projects.Project]) -> projects.Project:
    by_id = {str(p.id): p for p in rows}
    wanted = st.session_state.get(ProjectKeys.OPEN) or st.session_state.get(ProjectKeys.CURRENT)
    st.session_state["project-open"] = wanted if wanted in by_id else str(rows[0].id)
    chosen = st.selectbox("Open project", list(by_id), key="project-open", format_func=lambda i: by_id[i].name)
    st.session_state[ProjectKeys.OPEN] = chosen
    return by_id[chosen]


def _header(p: projects.Project, access: users.Access) -> None:
    st.subheader(escape_markdown(p.name))
    if p.tags:
        st.caption("Tags: " + ", ".join(escape_markdown(t) for t in p.tags))
    if p.description:
        st.markdown(sanitize_reply(p.description))
    if access.can_edit:  # a read-only share: nothing to change here, and new work must not join it
        _edit_controls(p, own=access.own)
    _template_results(p)


def _edit_controls(p: projects.Project, *, own: bool) -> None:
    c1, c2 = st.columns(2)
    if c1.button("Make current", key="project-make-current"):
        set_current(str(p.id))
        st.rerun()
    with c2.popover("Edit or delete" if own else "Edit"), guard():
        name = st.text_input("Name", value=p.name, key=f"project-edit-name-{p.id}")
        description = st.text_area("Description", value=p.description, key=f"project-edit-description-{p.id}")
        tags = st.text_input("Tags", value=", ".join(p.tags), key=f"project-edit-tags-{p.id}")
        if st.button("Save", key="project-edit-save"):
            changed = {k: v for k, v in (("name", name), ("description", description)) if v != getattr(p, k)}
            if _split(tags) != p.tags:
                changed["tags"] = _split(tags)
            projects.update_project(p.id, **changed)  # only what changed: the other fields keep others' edits
            st.rerun()
        if own and st.button("Delete project", key="project-delete", type="primary"):
            projects.delete_project(p.id)
            st.session_state.pop(ProjectKeys.OPEN, None)
            st.rerun()


def _template_results(p: projects.Project) -> None:
    if p.meta.get("results"):
        st.markdown("**Template run: each step beside the template's original**")
        st.dataframe(pd.DataFrame([{"step": r["index"] + 1, "kind": r["kind"], "status": r["status"],
                                    "this run": r.get("result") or r.get("error", ""),
                                    "template": r["original"].get("result", "")} for r in p.meta["results"]]),
                     hide_index=True, key="project-template-results")


def _items(p: projects.Project, *, editable: bool) -> None:
    rows = projects.items(p.id)
    shown = [r for r in rows if r.item_type != "dataset_version"]
    if shown:
        st.dataframe(pd.DataFrame([{"type": r.item_type, "name": r.label, "linked": r.created} for r in shown]),
                     hide_index=True, key="project-items")
    else:
        st.info("Nothing linked yet. Make the project current and import, chart or test: it joins here.")
    if not editable:
        return
    choices = _linkable(p)
    pick = st.selectbox("Link or unlink an item", list(choices), key="project-link-item",
                        format_func=lambda k: choices[k][0])
    c1, c2 = st.columns(2)
    if pick and c1.button("Link", key="project-link"):
        projects.link(p.id, choices[pick][1])
        st.rerun()
    if pick and c2.button("Unlink", key="project-unlink"):
        projects.unlink(p.id, choices[pick][1])
        st.rerun()


def _linkable(p: projects.Project) -> dict[str, tuple[str, object]]:
    out: dict[str, tuple[str, object]] = {}
    for ds in datasets.list_datasets():
        out[f"dataset:{ds.id}"] = (f"dataset · {ds.name}", ds)
    for c in charts.list_charts(limit=50):
        out[f"chart:{c.id}"] = (f"chart · {c.name}", c)
    for t in stats.list_results(limit=50):
        out[f"test:{t.id}"] = (f"test · {t.title}", t)
    return out


def _notes(p: projects.Project, *, editable: bool) -> None:
    if editable:
        with st.form("project-note-form", clear_on_submit=True):
            kind = st.selectbox("Kind", projects.NOTE_KINDS, key="project-note-kind")
            text = st.text_area("Note (Markdown)", key="project-note-text")
            about = {"": "(nothing)"} | {f"{r.item_type}:{r.item_id}": f"{r.item_type} · {r.label}"
                                         for r in projects.items(p.id) if r.item_type != "dataset_version"}
            item = st.selectbox("About", list(about), key="project-note-item", format_func=lambda k: about[k])
            pinned = st.checkbox("Pinned", key="project-note-pinned")
            if st.form_submit_button("Add note", key="project-note-submit"):
                with guard():
                    ref = tuple(item.split(":", 1)) if item else None
                    projects.add_note(p.id, text, kind=kind, item=ref, pinned=pinned)
                    st.rerun()
    for note in projects.notes(p.id):
        with st.container(border=True):
            flags = " · ".join(f for f, on in (("📌 pinned", note.pinned), ("✅ done", note.done)) if on)
            st.caption(f"{note.kind} · {note.created:%Y-%m-%d %H:%M} {flags}")
            st.markdown(sanitize_reply(note.text))
            if editable:
                c1, c2, c3 = st.columns(3)
                if c1.button("Unpin" if note.pinned else "Pin", key=f"note-pin-{note.id}"):
                    projects.update_note(note.id, pinned=not note.pinned)
                    st.rerun()
                if c2.button("Undo" if note.done else "Done", key=f"note-done-{note.id}"):
                    projects.update_note(note.id, done=not note.done)
                    st.rerun()
                if c3.button("Delete", key=f"note-delete-{note.id}"):
                    projects.delete_note(note.id)
                    st.rerun()


def _methodology(p: projects.Project) -> None:
    steps = projects.methodology(p.id)
    if not steps:
        st.info("No steps yet.")
        return
    st.dataframe(pd.DataFrame([{"#": i + 1, "step": s.kind, "dataset": s.dataset_name, "result": s.result,
                                "parameters": str(s.parameters)[:300]} for i, s in enumerate(steps)]),
                 hide_index=True, key="project-methodology")


def _summary(p: projects.Project, *, editable: bool) -> None:
    offline = projects.summary(p.id, llm=False)
    st.markdown(sanitize_reply(offline.text))
    if llm_configured() and editable and st.button("Write a summary with the language model",
                                                                  key="project-llm-summary"):
        written = projects.summary(p.id, llm=True)
        st.markdown(sanitize_reply(written.text))
        st.caption("Saved as a note.")


def _export(p: projects.Project, *, editable: bool) -> None:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in p.name)[:60] or "project"
    gone = missing_items(projects.methodology(p.id)) if p.status != "archived" else []
    if gone:
        st.warning("Export needs every item: " + " ".join(escape_markdown(g) for g in gone)
                   + " Unlink it on the Items tab, or archive the project first.")
        return
    cols = st.columns(3)
    for col, fmt, label in zip(cols, ("ipynb", "py", "html"), ("Notebook (.ipynb)", "Script (py:percent)",
                                                                "HTML report"), strict=True):
        col.download_button(label, partial(projects.export, p.id, fmt), file_name=f"{safe}.{fmt}", mime=MIMES[fmt],
                            key=f"project-export-{fmt}", on_click="ignore")
    if p.status == "archived":
        st.info("This project is archived (read-only). Restore it from the Archive page to change it.")
    elif editable and st.button("Archive this project", key="project-archive", type="primary"):
        a = projects.archive(p.id)
        st.success(f"Archived {escape_markdown(a.name)}. Find it on the Archive page.")


def recent_projects(limit: int = 5) -> None:
    """Home's list of the most recently changed projects, each with a link to the Projects page."""
    rows = projects.list_projects(limit=limit)
    if not rows:
        st.caption("No projects yet. A project keeps a piece of work together: data, charts, tests, notes.")
        return
    for p in rows:
        st.markdown(f"🗂️ **{escape_markdown(p.name)}** · {len(projects.items(p.id))} item(s) · "
                    f"{p.updated:%Y-%m-%d %H:%M}")
