"""A project's methodology: the ordered steps that produced its results, read from what is stored.

Nothing is logged twice: imports and cleaning steps come from the dataset versions, charts from
their specs, tests, SQL queries and training runs from their own rows. A linked item that was
deleted since becomes a `missing` step naming it, so export and replay can say what is gone.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import select

from core.db import session
from core.models.analysis import HypothesisTest
from core.models.conversation import Conversation
from core.models.dataset import Dataset, DatasetVersion
from core.models.documents import Document
from core.models.explore import QueryHistory, Visualization
from core.models.ml import TrainingRun
from core.numfmt import format_number, format_p
from core.projects import store

REPLAYABLE = ("import", "clean", "chart", "test", "sql", "train")


class Step(BaseModel):
    """One step: what ran (`kind`, `parameters`), on which item, and its result in one line."""

    kind: str  # import | clean | chart | test | sql | train | document | conversation | missing
    parameters: dict[str, Any] = {}
    item_type: str
    item_id: str
    dataset_id: str | None = None
    dataset_name: str = ""
    result: str = ""
    metrics: dict[str, Any] = {}
    created: datetime | None = None


def methodology(ref: uuid.UUID | str) -> list[Step]:
    """The project's steps, oldest first, each with its parameters and a one-line result."""
    links = store.items(ref)
    by_type: dict[str, list[uuid.UUID]] = {}
    for link in links:
        by_type.setdefault(link.item_type, []).append(link.item_id)
    steps: list[Step] = []
    found: set[tuple[str, uuid.UUID]] = set()
    with session() as s:
        for kind, reader in _READERS.items():
            ids = by_type.get(kind, [])
            if ids:
                for step in reader(s, ids):
                    steps.append(step)
                    found.add((step.item_type, uuid.UUID(step.item_id)))
    steps += [_missing(link) for link in links if link.item_type in _READERS
              and (link.item_type, link.item_id) not in found]
    steps.sort(key=lambda st: (st.created is None, st.created or datetime.min, _ORDER.get(st.kind, 9)))
    return steps


_ORDER = {"import": 0, "clean": 1}


def _rows(s: Any, model: type, ids: list[uuid.UUID]) -> list[Any]:
    return list(s.exec(select(model).where(model.id.in_(ids))).all())


def _datasets(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    steps: list[Step] = []
    for ds in _rows(s, Dataset, ids):
        chain = _chain(s, ds)
        first = chain[0] if chain else None
        steps.append(Step(kind="import", item_type="dataset", item_id=str(ds.id), dataset_id=str(ds.id),
                          dataset_name=ds.name, created=ds.created,
                          parameters={"name": ds.name, "source": ds.source, "format": ds.format,
                                      "source_detail": ds.source_detail[:300],
                                      "file": first.path if first else ds.path,
                                      "columns": first.schema_ if first else ds.schema_},
                          result=f"{(first or ds).rows:,} rows × {(first or ds).columns} columns",
                          metrics={"rows": (first or ds).rows, "columns": (first or ds).columns}))
        steps += [_clean(ds, v) for v in chain[1:]]
    return steps


def _chain(s: Any, ds: Dataset) -> list[DatasetVersion]:
    """The versions that lead to the current one (following `parent`), oldest first."""
    rows = {v.version: v for v in s.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == ds.id)).all()}
    chain, number = [], ds.version
    while number in rows and len(chain) <= len(rows):
        chain.append(rows[number])
        number = rows[number].parent
    return list(reversed(chain))


def _clean(ds: Dataset, v: DatasetVersion) -> Step:
    return Step(kind="clean", item_type="dataset_version", item_id=str(v.id), dataset_id=str(ds.id),
                dataset_name=ds.name, created=v.created, parameters=dict(v.step),
                result=f"{v.summary} → version {v.version}: {v.rows:,} rows × {v.columns} columns",
                metrics={"rows": v.rows, "columns": v.columns, "version": v.version})


def _charts(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    return [Step(kind="chart", item_type="chart", item_id=str(c.id), dataset_id=str(c.dataset_id),
                 dataset_name=c.dataset_name, created=c.created, parameters={"kind": c.kind, "spec": c.spec},
                 result=f"{c.kind} chart {c.name!r} of version {c.dataset_version}", metrics={})
            for c in _rows(s, Visualization, ids)]


def _tests(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    steps = []
    for t in _rows(s, HypothesisTest, ids):
        effect = f", effect size {format_number(t.effect_size, 3)}" if t.effect_size is not None else ""
        params = {"test": t.test, "params": t.params, "alternative": t.result.get("alternative", "two-sided")}
        steps.append(Step(kind="test", item_type="test", item_id=str(t.id),
                          dataset_id=str(t.dataset_id) if t.dataset_id else None, dataset_name=t.dataset_name,
                          created=t.created, parameters=params,
                          result=f"{t.method or t.test}: p = {format_p(t.p_value)}{effect}"
                                 f" ({'significant' if t.significant else 'not significant'})",
                          metrics={"p_value": t.p_value, "statistic": t.statistic, "effect_size": t.effect_size,
                                   "significant": t.significant}))
    return steps


def _queries(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    return [Step(kind="sql", item_type="sql", item_id=str(q.id), created=q.created,
                 parameters={"sql": q.sql, "target": q.target},
                 result=f"{q.rows:,} row(s)" if q.error is None else f"refused: {q.error[:200]}",
                 metrics={"rows": q.rows})
            for q in _rows(s, QueryHistory, ids) if q.error is None and q.target == "datasets"]


def _runs(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    steps = []
    for r in _rows(s, TrainingRun, ids):
        best = next((row for row in r.leaderboard if row.get("best")), {})
        score = best.get(f"{r.primary_metric}_mean")
        params = {"target": r.target, "task": r.task, "models": r.params.get("models"), "cv": r.cv, "seed": r.seed,
                  "test_size": r.params.get("test_size", 0.2), "imbalance": r.params.get("imbalance", False)}
        shown = format_number(score, 4) if score is not None else "n/a"
        steps.append(Step(kind="train", item_type="run", item_id=str(r.id), dataset_id=str(r.dataset_id),
                          dataset_name=r.dataset_name, created=r.created, parameters=params,
                          result=f"best {best.get('label', '?')}: {r.primary_metric} {shown}",
                          metrics={"metric": r.primary_metric, "score": score, "model": best.get("label"),
                                   "best_model_id": str(r.best_model_id) if r.best_model_id else None}))
    return steps


def _documents(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    return [Step(kind="document", item_type="document", item_id=str(d.id), created=d.created,
                 parameters={"name": d.name}, result=f"{d.type} document, {d.pages} page(s)")
            for d in _rows(s, Document, ids)]


def _conversations(s: Any, ids: list[uuid.UUID]) -> list[Step]:
    return [Step(kind="conversation", item_type="conversation", item_id=str(c.id), created=c.created,
                 parameters={"title": c.title}, result=f"conversation {c.title!r}")
            for c in _rows(s, Conversation, ids)]


def _missing(link: Any) -> Step:
    label = f" {link.label!r}" if link.label else ""
    return Step(kind="missing", item_type=link.item_type, item_id=str(link.item_id), created=link.created,
                parameters={"label": link.label},
                result=f"The {link.item_type}{label} ({link.item_id}) was deleted since it was linked.")


_READERS = {"dataset": _datasets, "chart": _charts, "test": _tests, "sql": _queries, "run": _runs,
            "document": _documents, "conversation": _conversations}


def missing_items(steps: list[Step]) -> list[str]:
    """One line per deleted item, for the messages of export and replay."""
    return [st.result for st in steps if st.kind == "missing"]
