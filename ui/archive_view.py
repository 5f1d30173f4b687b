"""The Archive page's body: search archived projects, restore or delete them, make and apply templates."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

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
    all_ds = {str(d.id): d for d in datasets.list_datasets()}
    if not all_ds:
        st.info("Import a dataset to apply the template to.")
        return
    chosen: dict[str, str] = {}
    for role in t.roles:
        chosen[role["role"]] = _dataset_picker(t, role, all_ds, taken=set(chosen.values()))
    mapping = {r["role"]: _mapping_editor(t, r, all_ds[chosen[r["role"]]]) for r in t.roles}
    _plan_and_apply(t, chosen, mapping, _parameter_inputs(t))
    _apply_job()


def _dataset_picker(t: projects.Template, role: dict[str, Any], all_ds: dict[str, datasets.Dataset], *,
                    taken: set[str]) -> str:
    """The dataset for one role, labelled with the role and the columns it needs; preset to a dataset holding
    those column names that no earlier role took."""
    need = ", ".join(f"{c['name']} ({c['type']})" for c in role["required"]) or "no particular columns"
    title = "Apply to dataset" if len(t.roles) == 1 else f"Dataset for role **{escape_markdown(role['role'])}**"
    names = {c["name"] for c in role["required"]}
    fits = [i for i, d in all_ds.items() if names <= {c["name"] for c in d.schema_}]
    preset = next((i for i in fits if i not in taken), fits[0] if fits else next(iter(all_ds)))
    key = "template-dataset" if role is t.roles[0] else f"template-dataset-{role['role']}"
    return st.selectbox(f"{title} · needs {escape_markdown(need)}", list(all_ds), index=list(all_ds).index(preset),
                        key=key, format_func=lambda i: all_ds[i].name,
                        help=escape_markdown(f"In the template this role was the dataset {role['dataset_name']}."))


def _mapping_editor(t: projects.Template, role: dict[str, Any], ds: datasets.Dataset) -> dict[str, str]:
    """A selectbox per required column of a role, preset to the automatic match; returns the manual overrides."""
    if not role["required"]:
        return {}
    auto = projects.match_columns(t.id, role["role"], ds.id)
    columns = [c["name"] for c in ds.schema_]
    types = {c["name"]: semantic_type(c["dtype"]) for c in ds.schema_}
    title = "Column mapping" if len(t.roles) == 1 else f"Column mapping of role {escape_markdown(role['role'])}"
    out: dict[str, str] = {}
    with st.expander(title, expanded=None in auto.values()):
        for need in role["required"]:
            found = auto.get(need["name"])
            pick = st.selectbox(escape_markdown(f"{need['name']} ({need['type']})"), columns,
                                index=columns.index(found) if found else None, placeholder="No match: choose a column",
                                key=f"template-map-{t.id}-{role['role']}-{ds.id}-{need['name']}",
                                format_func=lambda c: f"{c} ({types[c]})")
            if pick is not None and pick != found:
                out[need["name"]] = pick
    return out


def _parameter_inputs(t: projects.Template) -> dict[str, Any]:
    """An input per parameter a user may change, preset to the template's value; returns the changed ones."""
    if not t.parameters:
        return {}
    kinds = {s["index"]: s["kind"] for s in t.steps}
    changed: dict[str, Any] = {}
    with st.expander("Parameters", expanded=False):
        for p in t.parameters:
            label = escape_markdown(f"Step {p['step'] + 1} ({kinds.get(p['step'], 'step')}): {p['name']}")
            value = _parameter_input(p["value"], label, key=f"template-param-{t.id}-{p['key']}")
            if value != p["value"]:
                changed[p["key"]] = value
    return changed


def _parameter_input(value: Any, label: str, *, key: str) -> Any:
    if isinstance(value, bool):
        return st.checkbox(label, value=value, key=key)
    if isinstance(value, int):
        return int(st.number_input(label, value=value, step=1, key=key))
    if isinstance(value, float):
        return float(st.number_input(label, value=value, key=key))
    if isinstance(value, str):
        return st.text_input(label, value=value, key=key)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = st.text_input(f"{label} (comma-separated)", value=", ".join(value), key=key)
        return [v.strip() for v in text.split(",") if v.strip()]
    st.caption(f"{label}: {escape_markdown(value)} (kept as in the template)")
    return value


def _plan_and_apply(t: projects.Template, chosen: dict[str, str], mapping: dict[str, dict[str, str]],
                    parameters: dict[str, Any]) -> None:
    """The plan of the choices (or the reason it cannot run, names shown as typed) and the Apply button.
    A single-role template passes one dataset and a flat mapping, as the core's simplest call takes them."""
    single = len(chosen) == 1
    dataset_arg: str | dict[str, str] = next(iter(chosen.values())) if single else chosen
    mapping_arg = (next(iter(mapping.values())) if single else {r: m for r, m in mapping.items() if m}) or None
    with guard(as_text=True):
        plan = projects.plan_template(t.id, dataset_arg, mapping_arg, parameters=parameters or None)
        st.markdown("**Plan**")
        st.dataframe(pd.DataFrame([{"#": s.index + 1, "step": s.kind, "role": ", ".join(s.roles or [s.role]),
                                    "dataset": ", ".join(plan.dataset_names[r] for r in s.roles or [s.role]),
                                    "columns": ", ".join(s.columns), "what": s.description} for s in plan.steps]),
                     hide_index=True, key="template-plan")
        if st.button("Apply as a background job", key="template-apply", type="primary"):
            job = jobs.submit("projects.apply_template", title=f"Apply {t.name[:200]}", template_id=str(t.id),
                              dataset_id=dataset_arg, mapping=mapping_arg, parameters=parameters or None)
            st.session_state[ProjectKeys.APPLY_JOB] = str(job.id)


def _apply_job() -> None:
    job_id = st.session_state.get(ProjectKeys.APPLY_JOB)
    if not job_id:
        return
    job = job_panel(job_id, key="template-apply")
    if job.status == "succeeded":
        st.success("Done: the new project holds the results beside the template's.")
        st.session_state[ProjectKeys.OPEN] = job.result.get("project_id") if job.result else None
        link("pages/0_Projects.py", "Open the new project", "🗂️")
