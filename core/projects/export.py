"""Reproducible export: a notebook (nbformat) or py:percent script that redoes every step through the
public `core` API from the raw files, and a self-contained HTML report.

The notebook's first code cell is tagged `parameters` (papermill's convention) and names the input
files, so `papermill -p DATA_FILES ...` or an edit of that cell re-runs the project on other files.
Every value written into code is a Python literal made by `repr` of JSON data: no stored text is
ever pasted into the code as code. `RESULTS` maps each original item id to what the re-run got.
"""

from __future__ import annotations

import html
import uuid
from pathlib import Path
from typing import Any

import nbformat
import plotly.io as pio

from core import storage
from core.db import session
from core.errors import InvalidInput, NotFound
from core.models.explore import Visualization
from core.models.project import Project
from core.projects import archives, store
from core.projects.methodology import Step, methodology, missing_items
from core.projects.summary import summary

FORMATS = ("ipynb", "py", "html")


def export(ref: uuid.UUID | str, format: str = "ipynb") -> bytes:
    """The project as a notebook (`ipynb`), a py:percent script (`py`) or an HTML report (`html`).

    Raises InvalidInput for an unknown format, NotFound naming each item that was deleted (unless the
    project is archived: then the archived copies are used).
    """
    if format not in FORMATS:
        raise InvalidInput(f"Unknown export format {format!r}.", hint=f"Formats: {', '.join(FORMATS)}.")
    project = store.get_project(ref)
    steps, files, figures = _sources(project)
    if format == "html":
        return report_html(project, steps, figures).encode()
    cells = notebook_cells(project, steps, files)
    if format == "py":
        return percent_script(cells).encode()
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nbformat.writes(nb).encode()


def _sources(project: Project) -> tuple[list[Step], dict[str, str], dict[str, str]]:
    """Steps, input files (by import item id) and chart figures: from the archive if archived, else live."""
    row = _latest_archive(project) if project.status == "archived" else None
    steps = archives.archived_steps(row) if row else methodology(project.id)
    files, figures = {}, {}
    for step in steps:
        kept = archives.archive_file(row, step.item_id) if row else None
        if step.kind == "import":
            files[step.item_id] = str(kept or storage.absolute(step.parameters["file"]))
        elif step.kind == "chart":
            figures[step.item_id] = kept.read_text() if kept else _live_figure(step.item_id)
    gone = missing_items(steps)
    if gone:
        raise NotFound("The project cannot be exported: " + " ".join(gone),
                       hint="Unlink the deleted item(s), or export the archived snapshot of the project.")
    return steps, files, figures


def _latest_archive(project: Project) -> Any:
    from sqlmodel import select

    from core.models.project import ProjectArchive

    with session() as s:
        return s.exec(select(ProjectArchive).where(ProjectArchive.project_id == project.id)
                      .order_by(ProjectArchive.created.desc())).first()


def _live_figure(chart_id: str) -> str:
    with session() as s:
        row = s.get(Visualization, uuid.UUID(chart_id))
    return row.figure if row else "{}"


# -- notebook -------------------------------------------------------------------------------
def notebook_cells(project: Project, steps: list[Step], files: dict[str, str]) -> list[Any]:
    names = {s.item_id: s.dataset_name for s in steps if s.kind == "import"}
    var = {s.dataset_id: f"ds_{n}" for n, s in enumerate(st for st in steps if st.kind == "import")}
    cells = [nbformat.v4.new_markdown_cell(f"# {_md(project.name)}\n\n{_md(project.description)}\n\n"
                                           "Re-runs the project's steps from the raw files through `core`.")]
    params = {names[k]: v for k, v in files.items()}
    cells.append(nbformat.v4.new_code_cell(
        f"DATA_FILES = {params!r}  # dataset name -> raw file\nDATA_DIR = ''  # empty: the configured data folder\n"
        f"PROJECT_NAME = {project.name + ' (re-run)'!r}", metadata={"tags": ["parameters"]}))
    cells.append(nbformat.v4.new_code_cell(
        "import json, os\nif DATA_DIR:\n    os.environ['DATA_DIR'] = DATA_DIR\n"
        f"from core import {', '.join(_modules(steps))}\n"
        "project = projects.create(PROJECT_NAME)\nRESULTS = {}"))
    for n, step in enumerate(st for st in steps if st.kind in _CODE):
        cells.append(nbformat.v4.new_markdown_cell(f"## Step {n + 1}: {step.kind}\n\nStored result: {_md(step.result)}"))
        body = _CODE[step.kind](step, var.get(step.dataset_id or "", "ds_0"))
        cells.append(nbformat.v4.new_code_cell("with projects.use(project.id):\n" + _indent(body)))
    cells.append(nbformat.v4.new_code_cell("print(json.dumps(RESULTS, default=str))"))
    return cells


def _modules(steps: list[Step]) -> list[str]:
    """Only the `core` modules the steps use (importing `ml` when nothing trains costs seconds)."""
    needed = {"datasets", "projects"} | {_MODULE[s.kind] for s in steps if s.kind in _MODULE}
    return sorted(needed)


_MODULE = {"clean": "cleaning", "chart": "charts", "test": "stats", "sql": "sql", "train": "ml"}


def _md(text: str) -> str:
    """User text in a Markdown cell, shown as text (HTML escaped, Markdown marks backslashed)."""
    escaped = html.escape(str(text), quote=False)
    return "".join("\\" + ch if ch in "\\`*_[]#|!" else ch for ch in escaped)


def _indent(body: str) -> str:
    return "\n".join("    " + line for line in body.splitlines())


def _import(step: Step, v: str) -> str:
    return (f"{v} = datasets.ingest_file(DATA_FILES[{step.dataset_name!r}], name={step.dataset_name!r})\n"
            f"RESULTS[{step.item_id!r}] = {{'rows': {v}.rows, 'columns': {v}.columns}}")


def _clean(step: Step, v: str) -> str:
    return (f"{v} = cleaning.apply_step({v}.id, {step.parameters!r})\n"
            f"RESULTS[{step.item_id!r}] = {{'rows': {v}.rows, 'columns': {v}.columns}}")


def _chart(step: Step, v: str) -> str:
    return (f"fig = charts.make_chart({step.parameters['kind']!r}, {v}.id, **{step.parameters.get('spec', {})!r})\n"
            f"charts.save_chart(fig)\nRESULTS[{step.item_id!r}] = {{'kind': {step.parameters['kind']!r}}}")


def _test(step: Step, v: str) -> str:
    p = step.parameters
    return (f"res = stats.run_test({p['test']!r}, datasets.load_frame({v}.id), alternative={p.get('alternative')!r}, "
            f"**{p.get('params', {})!r})\nstats.save_result(res, dataset_id={v}.id)\n"
            f"RESULTS[{step.item_id!r}] = {{'p_value': res.p_value, 'statistic': res.statistic, "
            "'effect_size': res.effect_size}")


def _sql(step: Step, _v: str) -> str:
    return f"out = sql.query({step.parameters['sql']!r})\nRESULTS[{step.item_id!r}] = {{'rows': len(out)}}"


def _train(step: Step, v: str) -> str:
    p = step.parameters
    return (f"run = ml.train({v}.id, target={p['target']!r}, task={p.get('task')!r}, models={p.get('models')!r}, "
            f"cv={int(p.get('cv', 5))}, seed={int(p.get('seed', 42))}, test_size={float(p.get('test_size', 0.2))}, "
            f"imbalance={bool(p.get('imbalance', False))})\n"
            "best = next(r for r in run.leaderboard if r.get('best'))\n"
            f"RESULTS[{step.item_id!r}] = {{'score': best[run.primary_metric + '_mean'], 'model': best['label']}}")


_CODE = {"import": _import, "clean": _clean, "chart": _chart, "test": _test, "sql": _sql, "train": _train}


def expected_results(ref: uuid.UUID | str) -> dict[str, dict[str, Any]]:
    """What the stored items say, keyed like the notebook's RESULTS (to compare a re-run with)."""
    return {s.item_id: s.metrics for s in methodology(ref) if s.kind in _CODE}


def percent_script(cells: list[Any]) -> str:
    """The cells as a py:percent script (Jupytext, VS Code and Spyder read it as a notebook)."""
    parts = ["# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n# ---\n"]
    for cell in cells:
        if cell.cell_type == "markdown":
            parts.append("# %% [markdown]\n" + "\n".join("# " + line for line in cell.source.splitlines()))
        elif "parameters" in cell.metadata.get("tags", []):
            parts.append('# %% tags=["parameters"]\n' + cell.source)
        else:
            parts.append("# %%\n" + cell.source)
    return "\n\n".join(parts) + "\n"


# -- HTML report ----------------------------------------------------------------------------
def report_html(project: Project, steps: list[Step], figures: dict[str, str]) -> str:
    """A self-contained report (plotly.js inlined once): summary, findings, steps, charts, tests, models."""
    e = html.escape
    summ = summary(project.id, llm=False, save=False)
    parts = [f"<h1>{e(project.name)}</h1>", f"<p>{e(project.description)}</p>", "<h2>Summary</h2>",
             "<ul>" + "".join(f"<li>{e(f.text)}</li>" for f in summ.facts) + "</ul>", "<h2>Notes</h2>",
             "<ul>" + "".join(f"<li><b>{e(n.kind)}</b>: <pre>{e(n.text)}</pre></li>" for n in _notes(project)) + "</ul>",
             "<h2>Methodology</h2>", _table(["#", "step", "dataset", "result"],
                                            [[str(i + 1), s.kind, s.dataset_name, s.result] for i, s in enumerate(steps)])]
    results = project.meta.get("results")
    if results:
        parts += ["<h2>Template run: results beside the template's</h2>",
                  _table(["#", "step", "status", "this run", "template"],
                         [[str(r["index"] + 1), r["kind"], r["status"], r.get("result") or r.get("error", ""),
                           r["original"].get("result", "")] for r in results])]
    parts += ["<h2>Tests</h2>", _table(["test", "dataset", "result"],
                                       [[s.parameters.get("test", ""), s.dataset_name, s.result] for s in steps
                                        if s.kind == "test"]),
              "<h2>Models</h2>", _table(["target", "dataset", "result"],
                                        [[s.parameters.get("target", ""), s.dataset_name, s.result] for s in steps
                                         if s.kind == "train"]), "<h2>Charts</h2>"]
    first = True
    for step in steps:
        if step.kind == "chart" and figures.get(step.item_id, "{}") != "{}":
            fig = pio.from_json(figures[step.item_id])
            parts.append(pio.to_html(fig, include_plotlyjs=True if first else False, full_html=False))
            first = False
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{e(project.name)}</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px}pre{white-space:pre-wrap;margin:0}</style></head>"
            f"<body>{body}</body></html>")


def _notes(project: Project) -> list[Any]:
    if project.status != "archived":
        return store.notes(project.id)
    row = _latest_archive(project)
    from types import SimpleNamespace

    return [SimpleNamespace(**n) for n in row.snapshot.get("notes", [])] if row else []


def _table(head: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    if not rows:
        return "<p>None.</p>"
    return ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>" for r in rows) + "</table>")


def write(ref: uuid.UUID | str, path: Path, format: str = "ipynb") -> Path:
    """Export to a file (atomically)."""
    data = export(ref, format)
    with storage.atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


__all__ = ["FORMATS", "expected_results", "export", "notebook_cells", "percent_script", "report_html", "write"]
