"""The Archive page's body: search archived projects, restore or delete them, make and apply templates."""

from __future__ import annotations

from datetime import datetime, time

import pandas as pd
import streamlit as st

import jobs
from core import datasets, projects
from core.projects import archives
from core.projects.templates import semantic_type
from ui.errors import guard
from ui.jobs import job_panel
from ui.layout import link
from ui.safe import escape_markdown, sanitize_reply
from ui.state import ProjectKeys


def render_archive() -> None:
    archived_tab, templates_tab = st.tabs(["Archived projects", "Templates"])
    with archived_tab, guard():
        _archived()
    with templates_tab, guard():
        _templates()


def _archived() -> None:
    c1, c2, c3, c4 = st.columns(4)
    text = c1.text_input("Search", key="archive-text")
    tag = c2.text_input("Tag", key="archive-tag")
    dataset = c3.text_input("Dataset", key="archive-dataset")
    since = c4.date_input("Archived since", value=None, key="archive-since")
    rows = projects.list_archives(text=text, tag=tag, dataset=dataset,
                                  since=datetime.combine(since, time.min) if since else None)
    if not rows:
        st.info("No archived projects match. Archive a finished project from the Projects page.")
        link("pages/0_Projects.py", "Go to Projects", "🗂️")
        return
    st.dataframe(pd.DataFrame([{"name": r.name, "tags": ", ".join(r.tags), "datasets": ", ".join(r.dataset_names),
                                "steps": len(r.snapshot.get("steps", [])), "archived": r.created} for r in rows]),
                 hide_index=True, key="archive-table")
    by_id = {str(r.id): r for r in rows}
    chosen = by_id[st.selectbox("Archived project", list(by_id), key="archive-pick",
                                format_func=lambda i: by_id[i].name)]
    _details(chosen)


def _details(row: projects.Archive) -> None:
    st.subheader(escape_markdown(row.name))
    steps = archives.archived_steps(row)
    st.dataframe(pd.DataFrame([{"#": i + 1, "step": s.kind, "dataset": s.dataset_name, "result": s.result}
                               for i, s in enumerate(steps)]), hide_index=True, key="archive-steps")
    for note in row.snapshot.get("notes", []):
        st.markdown(f"**{escape_markdown(note['kind'])}**: " + sanitize_reply(note["text"]))
    c1, c2 = st.columns(2)
    if c1.button("Restore", key="archive-restore"):
        p = projects.restore(row.id)
        st.success(f"Restored {escape_markdown(p.name)}: it is editable again on the Projects page.")
    if c2.button("Delete archive", key="archive-delete", type="secondary"):
        projects.delete_archive(row.id)
        st.rerun()
    with st.form("archive-template-form"):
        name = st.text_input("Template name", value=f"{row.name} template", key="archive-template-name")
        description = st.text_area("Description", key="archive-template-description")
        if st.form_submit_button("Make a template", key="archive-template-submit"):
            with guard():
                t = projects.make_template(row.id, name=name, description=description)
                st.success(f"Template {escape_markdown(t.name)} made with {len(t.steps)} step(s); "
                           "apply it on the Templates tab.")


def _templates() -> None:
    rows = projects.list_templates()
    if not rows:
        st.info("No templates yet. Make one from an archived project.")
        return
    by_id = {str(t.id): t for t in rows}
    t = by_id[st.selectbox("Template", list(by_id), key="template-pick", format_func=lambda i: by_id[i].name)]
    if t.description:
        st.caption(escape_markdown(t.description))
    for role in t.roles:
        need = ", ".join(f"{c['name']} ({c['type']})" for c in role["required"]) or "none"
        st.markdown(f"Role **{escape_markdown(role['role'])}** needs: {escape_markdown(need)}")
    all_ds = datasets.list_datasets()
    if not all_ds:
        st.info("Import a dataset to apply the template to.")
        return
    ds_by_id = {str(d.id): d for d in all_ds}
    chosen = st.selectbox("Apply to dataset", list(ds_by_id), key="template-dataset",
                          format_func=lambda i: ds_by_id[i].name)
    mapping = _mapping_editor(t, ds_by_id[chosen])
    with guard():
        plan = projects.plan_template(t.id, chosen, mapping or None)
        st.markdown("**Plan**")
        st.dataframe(pd.DataFrame([{"#": s.index + 1, "step": s.kind, "columns": ", ".join(s.columns),
                                    "what": s.description} for s in plan.steps]), hide_index=True, key="template-plan")
        if st.button("Apply as a background job", key="template-apply", type="primary"):
            job = jobs.submit("projects.apply_template", title=f"Apply {t.name[:200]}", template_id=str(t.id),
                              dataset_id=chosen, mapping=mapping or None)
            st.session_state[ProjectKeys.APPLY_JOB] = str(job.id)
    job_id = st.session_state.get(ProjectKeys.APPLY_JOB)
    if job_id:
        job = job_panel(job_id, key="template-apply")
        if job.status == "succeeded":
            st.success("Done: the new project holds the results beside the template's.")
            st.session_state[ProjectKeys.OPEN] = job.result.get("project_id") if job.result else None
            link("pages/0_Projects.py", "Open the new project", "🗂️")


def _mapping_editor(t: projects.Template, ds: datasets.Dataset) -> dict[str, str]:
    """A selectbox per required column, preset to the automatic match; returns the manual overrides."""
    role = t.roles[0] if t.roles else None
    if role is None or not role["required"]:
        return {}
    columns = [c["name"] for c in ds.schema_]
    types = {c["name"]: semantic_type(c["dtype"]) for c in ds.schema_}
    out: dict[str, str] = {}
    with st.expander("Column mapping", expanded=False):
        for need in role["required"]:
            options = ["(automatic)", *columns]
            pick = st.selectbox(f"{need['name']} ({need['type']})", options, key=f"template-map-{t.id}-{need['name']}",
                                format_func=lambda c: c if c == "(automatic)" else f"{c} ({types[c]})")
            if pick != "(automatic)":
                out[need["name"]] = pick
    return out
