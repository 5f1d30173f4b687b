"""Templates: an archived project's methodology, re-run on new data.

A template keeps the replayable steps (cleaning, charts, tests, SQL, training) of an archived
project, the dataset roles they need (each role's required columns with semantic types: the input
columns the steps name) and the scalar parameters a user may change. `plan_template` maps a new
dataset's columns onto a role (by name, then by a close name of the same type; `mapping` overrides)
and refuses before anything runs when a column is missing or of the wrong type, naming it and the
closest names. `apply_template` then replays the steps into a new project: a failing step is marked
and the others still run; each step is one atomic `core` call, so none is left half-written.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
import uuid
from typing import Any

from pydantic import BaseModel

from core import project_context
from core.db import as_uuid, session
from core.errors import InvalidInput, JobCancelled, NotFound, WorkbenchError
from core.models.project import Project, ProjectTemplate
from core.progress import Progress, no_progress
from core.projects import archives, store
from core.projects.methodology import Step

log = logging.getLogger(__name__)

REPLAY = ("clean", "chart", "test", "sql", "train")
TUNABLE = {"clean": ("value", "bins", "method", "how", "max_categories", "to", "on_error"),
           "chart": ("nbins", "agg", "log_x", "log_y", "max_points", "trendline"),
           "test": ("alternative",), "train": ("cv", "seed", "test_size", "models", "imbalance")}


def semantic_type(dtype: str) -> str:
    """numeric, boolean, datetime or text, from an Arrow type name."""
    d = dtype.lower()
    if d.startswith(("int", "uint", "float", "double", "decimal", "halffloat")):
        return "numeric"
    if d.startswith("bool"):
        return "boolean"
    if d.startswith(("timestamp", "date", "time", "duration")):
        return "datetime"
    return "text"


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set(value) | {s for v in value.values() for s in _strings(v)}
    if isinstance(value, list):
        return {s for v in value for s in _strings(v)}
    return set()


def _expression_names(params: dict[str, Any], columns: set[str]) -> set[str]:
    text = " ".join(str(params.get(k, "")) for k in ("expression", "sql"))
    return {c for c in columns if re.search(rf'(?<![\w"]){re.escape(c)}(?![\w"])|"{re.escape(c)}"', text)}


# -- making a template ----------------------------------------------------------------------
def make_template(archive_id: uuid.UUID | str, *, name: str | None = None, description: str = "") -> ProjectTemplate:
    """A template from an archived project: roles, required columns, steps and tunable parameters."""
    row = archives.get_archive(archive_id)
    steps = archives.archived_steps(row)
    imports = [s for s in steps if s.kind == "import"]
    roles, role_of = _roles(imports, steps)
    replay = [_template_step(s, _role_for(s, role_of, imports)) for s in steps
              if s.kind in REPLAY and _role_for(s, role_of, imports)]
    if not replay:
        raise InvalidInput(f"The archived project {row.name!r} has no steps to replay.",
                           hint="A template needs cleaning steps, charts, tests, SQL queries or training runs.")
    for index, step in enumerate(replay):
        step["index"] = index
    template = ProjectTemplate(archive_id=row.id, name=store._name(name or f"{row.name} template"),
                               description=description or row.description, roles=roles, steps=replay,
                               parameters=[p for s in replay for p in _parameters(s)])
    with session() as s:
        s.add(template)
    return template


def _roles(imports: list[Step], steps: list[Step]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    roles, role_of = [], {}
    for n, imp in enumerate(imports):
        role = "data" if n == 0 else f"data_{n + 1}"
        role_of[imp.dataset_id] = role
        types = {c["name"]: c["dtype"] for c in imp.parameters.get("columns", [])}
        used: set[str] = set()
        for s in steps:
            if s.kind in REPLAY and (s.dataset_id == imp.dataset_id or _names_dataset(s, imp.dataset_name)):
                used |= (_strings(s.parameters) & set(types)) | _expression_names(s.parameters, set(types))
        required = [{"name": c, "type": semantic_type(types[c])} for c in types if c in used]
        roles.append({"role": role, "dataset_name": imp.dataset_name, "required": required,
                      "columns": [{"name": c, "type": semantic_type(t)} for c, t in types.items()]})
    return roles, role_of


def _names_dataset(step: Step, dataset_name: str) -> bool:
    return step.kind == "sql" and bool(_expression_names({"sql": step.parameters.get("sql", "")}, {dataset_name}))


def _role_for(step: Step, role_of: dict[str, str], imports: list[Step]) -> str | None:
    if step.dataset_id in role_of:
        return role_of[step.dataset_id]
    return next((role_of[i.dataset_id] for i in imports if _names_dataset(step, i.dataset_name)), None)


def _template_step(step: Step, role: str | None) -> dict[str, Any]:
    return {"kind": step.kind, "role": role or "data", "parameters": step.parameters,
            "dataset_name": step.dataset_name, "original": {"result": step.result, "metrics": step.metrics,
                                                            "item_type": step.item_type, "item_id": step.item_id}}


def _parameters(step: dict[str, Any]) -> list[dict[str, Any]]:
    params = step["parameters"].get("spec", step["parameters"]) if step["kind"] == "chart" else step["parameters"]
    return [{"key": f"{step['index']}.{k}", "step": step["index"], "name": k, "value": params[k]}
            for k in TUNABLE.get(step["kind"], ()) if k in params and params[k] is not None]


def get_template(ref: uuid.UUID | str) -> ProjectTemplate:
    key = as_uuid(ref)
    with session() as s:
        row = s.get(ProjectTemplate, key) if key else None
    if row is None:
        raise NotFound(f"No template {str(ref)!r}.", hint="Make one from an archived project on the Archive page.")
    return row


def list_templates() -> list[ProjectTemplate]:
    from sqlmodel import select

    with session() as s:
        return list(s.exec(select(ProjectTemplate).order_by(ProjectTemplate.created.desc())).all())


def delete_template(ref: uuid.UUID | str) -> None:
    row = get_template(ref)
    with session() as s:
        s.delete(s.get(ProjectTemplate, row.id))


# -- planning ---------------------------------------------------------------------------------
class PlanStep(BaseModel):
    index: int
    kind: str
    role: str
    dataset_id: str
    parameters: dict[str, Any]
    columns: list[str]
    description: str
    original: dict[str, Any] = {}
    roles: list[str] = []  # every role the step reads: its own first, then those a SQL query joins


class Plan(BaseModel):
    """Which steps run, on which dataset and columns, with the column mapping per role."""

    template_id: str
    template_name: str
    datasets: dict[str, str]  # role -> dataset id
    dataset_names: dict[str, str]
    mapping: dict[str, dict[str, str]]  # role -> {template column: dataset column}
    steps: list[PlanStep]


def plan_template(template_id: uuid.UUID | str, dataset_id: uuid.UUID | str | dict[str, str],
                  mapping: dict[str, Any] | None = None, *, parameters: dict[str, Any] | None = None) -> Plan:
    """The plan of applying a template to a dataset (or {role: dataset}); raises InvalidInput before anything
    runs when a required column is missing or has the wrong type, naming it and the closest column names."""
    template = get_template(template_id)
    chosen = _datasets_for(template, dataset_id)
    per_role = _per_role_mapping(template, mapping)
    maps = {role["role"]: _map_role(role, chosen[role["role"]], per_role.get(role["role"], {}))
            for role in template.roles}
    overrides = _check_parameters(template, parameters or {})
    names = {r["role"]: r["dataset_name"] for r in template.roles}
    steps = [_plan_step(s, chosen, maps, overrides.get(s["index"], {}), names) for s in template.steps]
    return Plan(template_id=str(template.id), template_name=template.name,
                datasets={r: str(d.id) for r, d in chosen.items()}, dataset_names={r: d.name for r, d in chosen.items()},
                mapping=maps, steps=steps)


def _datasets_for(template: ProjectTemplate, dataset_id: Any) -> dict[str, Any]:
    from core import datasets

    roles = [r["role"] for r in template.roles]
    given = dataset_id if isinstance(dataset_id, dict) else {roles[0]: dataset_id} if roles else {}
    missing = [r for r in roles if r not in given]
    if missing:
        raise InvalidInput(f"The template needs a dataset for role(s) {', '.join(missing)}.",
                           hint="Pass {role: dataset} for each role.")
    return {role: datasets.get_dataset(given[role]) for role in roles}


def _per_role_mapping(template: ProjectTemplate, mapping: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    if not mapping:
        return {}
    if all(isinstance(v, dict) for v in mapping.values()):
        return mapping
    return {template.roles[0]["role"]: {str(k): str(v) for k, v in mapping.items()}} if template.roles else {}


def match_columns(template_id: uuid.UUID | str, role: str, dataset_id: uuid.UUID | str) -> dict[str, str | None]:
    """The automatic match of a role's required columns on a dataset: {template column: dataset column, or None
    where none fits} (what `plan_template` uses where `mapping` is silent). Raises NotFound for an unknown role."""
    from core import datasets

    spec = next((r for r in get_template(template_id).roles if r["role"] == role), None)
    if spec is None:
        raise NotFound(f"The template has no role {role!r}.")
    types = _types(datasets.get_dataset(dataset_id))
    out: dict[str, str | None] = {}
    for need in spec["required"]:
        out[need["name"]] = _auto(need, types, {c for c in out.values() if c})
    return out


def _types(ds: Any) -> dict[str, str]:
    return {c["name"]: semantic_type(c["dtype"]) for c in ds.schema_}


def _map_role(role: dict[str, Any], ds: Any, manual: dict[str, str]) -> dict[str, str]:
    types = _types(ds)
    out: dict[str, str] = {}
    missing, wrong = [], []
    for need in role["required"]:
        col = manual.get(need["name"]) or _auto(need, types, set(out.values()))
        if not col or col not in types:
            close = difflib.get_close_matches(need["name"], list(types), n=3, cutoff=0.4)
            missing.append(f"{need['name']!r} ({need['type']})" + (f", closest: {', '.join(close)}" if close else ""))
        elif not _fits(need["type"], types[col]):
            wrong.append(f"{col!r} is {types[col]} but {need['name']!r} must be {need['type']}")
        else:
            out[need["name"]] = col
    if missing or wrong:
        parts = ([f"missing column(s): {'; '.join(missing)}"] if missing else []) + (["; ".join(wrong)] if wrong else [])
        raise InvalidInput(f"The dataset {ds.name!r} does not fit the template's role {role['role']!r}: "
                           + "; ".join(parts) + ".", hint="Map each required column to a column of the dataset.")
    return out


def _auto(need: dict[str, Any], types: dict[str, str], taken: set[str]) -> str | None:
    """The same name; else one whose name differs only in case or punctuation; else the closest of its type."""
    name = need["name"]
    if name in types:
        return name
    norm = _norm(name)
    same = [c for c in types if _norm(c) == norm and c not in taken]
    if same:
        return same[0]
    typed = [c for c in types if c not in taken and _fits(need["type"], types[c])]
    close = difflib.get_close_matches(name, typed, n=1, cutoff=0.75)
    return close[0] if close else None


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _fits(required: str, actual: str) -> bool:
    return required == actual or required == "text"


def _check_parameters(template: ProjectTemplate, given: dict[str, Any]) -> dict[int, dict[str, Any]]:
    known = {p["key"]: p for p in template.parameters}
    unknown = [k for k in given if k not in known]
    if unknown:
        raise InvalidInput(f"Unknown template parameter(s): {', '.join(unknown)}.",
                           hint=f"Parameters: {', '.join(known) or 'none'}.")
    out: dict[int, dict[str, Any]] = {}
    for key, value in given.items():
        out.setdefault(known[key]["step"], {})[known[key]["name"]] = value
    return out


def _plan_step(step: dict[str, Any], chosen: dict[str, Any], maps: dict[str, dict[str, str]],
               override: dict[str, Any], names: dict[str, str]) -> PlanStep:
    role = step["role"]
    reads = _roles_read(step, names)
    ds = chosen[role]
    mapping = {k: v for r in reversed(reads) for k, v in maps.get(r, {}).items()}  # the step's own role wins
    params = _rename(step["parameters"], mapping)
    if step["kind"] == "chart":
        params = {**params, "spec": {**params.get("spec", {}), **override}}
    else:
        params = {**params, **override}
    if step["kind"] == "sql":
        params["sql"] = _rename_identifiers(params["sql"], {names[r]: chosen[r].name for r in reads
                                                            if names.get(r) and names[r] != chosen[r].name})
    columns = sorted({mapping[c] for c in mapping if c in _strings(step["parameters"])
                      or c in _expression_names(step["parameters"], {c})})
    return PlanStep(index=step["index"], kind=step["kind"], role=role, dataset_id=str(ds.id), parameters=params,
                    columns=columns, description=_describe(step["kind"], params, ds.name), original=step["original"],
                    roles=reads)


def _roles_read(step: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The step's role, then (for SQL) every other role whose original dataset the query names as a table.
    Where two joined roles map the same column name differently, the step's own role's mapping is used."""
    if step["kind"] != "sql":
        return [step["role"]]
    named = _expression_names({"sql": step["parameters"].get("sql", "")}, {n for n in names.values() if n})
    return [step["role"], *(r for r, n in names.items() if r != step["role"] and n in named)]


def _rename(value: Any, mapping: dict[str, str]) -> Any:
    """Column names replaced by their mapped names (strings equal to one, dict keys, identifiers in expressions)."""
    changed = {k: v for k, v in mapping.items() if k != v}
    if not changed:
        return value
    if isinstance(value, dict):
        out = {changed.get(k, k): _rename(v, changed) for k, v in value.items()}
        for key in ("expression", "sql"):
            if isinstance(out.get(key), str):
                out[key] = _rename_identifiers(value[key], changed)
        return out
    if isinstance(value, list):
        return [_rename(v, changed) for v in value]
    if isinstance(value, str):
        return changed.get(value, value)
    return value


def _rename_identifiers(text: str, changed: dict[str, str]) -> str:
    """Each old name (bare or double-quoted) replaced by its new name, quoted; in one pass, so swaps hold."""
    if not changed:
        return text
    names = "|".join(re.escape(old) for old in sorted(changed, key=len, reverse=True))
    pattern = rf'"({names})"|(?<![\w"])({names})(?![\w"])'
    return re.sub(pattern, lambda m: '"' + changed[m.group(1) or m.group(2)].replace('"', '""') + '"', text)


def _describe(kind: str, params: dict[str, Any], dataset: str) -> str:
    if kind == "clean":
        shown = {k: v for k, v in params.items() if k != "op"}
        return f"clean {dataset}: {params.get('op')} {shown}"
    if kind == "chart":
        return f"{params.get('kind')} chart of {dataset}: {params.get('spec')}"
    if kind == "test":
        return f"{params.get('test')} on {dataset}: {params.get('params')}"
    if kind == "train":
        return f"train on {dataset}: target {params.get('target')!r}, models {params.get('models')}"
    return f"SQL: {params.get('sql', '')[:200]}"


# -- applying ---------------------------------------------------------------------------------
def apply_template(template_id: uuid.UUID | str, dataset_id: uuid.UUID | str | dict[str, str],
                   mapping: dict[str, Any] | None = None, progress: Progress | None = None, *,
                   parameters: dict[str, Any] | None = None, name: str | None = None) -> Project:
    """Replay a template on new data into a new project whose `meta["results"]` puts each step's result beside
    the template's original. Raises InvalidInput (from the plan) before anything runs."""
    progress = progress or no_progress
    plan = plan_template(template_id, dataset_id, mapping, parameters=parameters)
    title = name or f"{plan.template_name} on {', '.join(plan.dataset_names.values())}"
    project = store.create(title[:200], description=f"Template {plan.template_name!r} applied.",
                           tags=["template-run"])
    try:
        for ds_id in plan.datasets.values():
            store.link(project.id, ("dataset", ds_id))
        results = _replay(project, plan, progress)
    except BaseException:
        _discard(project.id)
        raise
    store.set_meta(project.id, {"template_id": plan.template_id, "template_name": plan.template_name,
                                "mapping": plan.mapping, "datasets": plan.datasets, "results": results})
    progress(1.0, f"{sum(r['status'] == 'ok' for r in results)} of {len(results)} step(s) ran", None)
    return store.get_project(project.id)


def _discard(project_id: uuid.UUID) -> None:
    """Remove the new project of a run that could not finish (cancelled, or the database failed)."""
    try:
        store.delete_project(project_id)
    except NotFound:
        log.info("template run project %s was already gone", project_id)


def _replay(project: Project, plan: Plan, progress: Progress) -> list[dict[str, Any]]:
    results = []
    with project_context.using(project.id):
        for n, step in enumerate(plan.steps):
            progress(n / max(len(plan.steps), 1), f"Step {n + 1} of {len(plan.steps)}: {step.description[:120]}", None)
            results.append(_run_one(step))
    return results


def _run_one(step: PlanStep) -> dict[str, Any]:
    base = {"index": step.index, "kind": step.kind, "description": step.description, "original": step.original}
    started = time.perf_counter()
    try:
        out = RUNNERS[step.kind](step)
        base["duration_s"] = round(time.perf_counter() - started, 3)
    except JobCancelled:
        raise
    except WorkbenchError as exc:
        return {**base, "status": "failed", "error": str(exc)}
    except Exception as exc:  # a bug in a step must not stop the others; logged with its traceback
        log.exception("template step %s (%s) failed", step.index, step.kind)
        return {**base, "status": "failed", "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    return {**base, "status": "ok", **out}


def _clean(step: PlanStep) -> dict[str, Any]:
    from core import cleaning

    ds = cleaning.apply_step(step.dataset_id, step.parameters)
    return {"result": f"version {ds.version}: {ds.rows:,} rows × {ds.columns} columns",
            "metrics": {"rows": ds.rows, "columns": ds.columns, "version": ds.version}, "item_type": "dataset",
            "item_id": str(ds.id)}


def _chart(step: PlanStep) -> dict[str, Any]:
    from core import charts

    fig = charts.make_chart(step.parameters["kind"], step.dataset_id, **step.parameters.get("spec", {}))
    row = charts.save_chart(fig)
    return {"result": f"{row.kind} chart {row.name!r}", "metrics": {}, "item_type": "chart", "item_id": str(row.id)}


def _test(step: PlanStep) -> dict[str, Any]:
    from core import datasets, stats
    from core.projects.methodology import _tests

    # The Analyze page stores every parameter (alternative, success level, mu...) beside the columns: read
    # only the strings that name a column, and let the template's own alternative (a parameter the user may
    # change) win over the stored one
    params = {**step.parameters.get("params", {})}
    params["alternative"] = step.parameters.get("alternative", params.get("alternative", "two-sided"))
    names = {c["name"] for c in datasets.get_dataset(step.dataset_id).schema_}
    cols = [v for v in params.values() if isinstance(v, str) and v in names]
    frame = datasets.load_frame(step.dataset_id, columns=list(dict.fromkeys(cols)) or None)
    res = stats.run_test(step.parameters["test"], frame, **params)
    row = stats.save_result(res, dataset_id=step.dataset_id)
    with session() as s:
        shown = _tests(s, [row.id])[0]
    return {"result": shown.result, "metrics": shown.metrics, "item_type": "test", "item_id": str(row.id)}


def _sql(step: PlanStep) -> dict[str, Any]:
    from core import sql

    frame = sql.query(step.parameters["sql"])
    return {"result": f"{len(frame):,} row(s)", "metrics": {"rows": len(frame)}, "item_type": "sql", "item_id": ""}


def _train(step: PlanStep) -> dict[str, Any]:
    from core import ml
    from core.projects.methodology import _runs

    p = step.parameters
    run = ml.train(step.dataset_id, target=p["target"], task=p.get("task"), models=p.get("models"),
                   cv=int(p.get("cv", 5)), seed=int(p.get("seed", 42)), test_size=float(p.get("test_size", 0.2)),
                   imbalance=bool(p.get("imbalance", False)))
    with session() as s:
        shown = _runs(s, [run.id])[0]
    return {"result": shown.result, "metrics": shown.metrics, "item_type": "run", "item_id": str(run.id)}


RUNNERS = {"clean": _clean, "chart": _chart, "test": _test, "sql": _sql, "train": _train}
