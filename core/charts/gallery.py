"""The gallery: charts saved with their spec, figure and dataset version; listed, reopened, rebuilt, deleted."""

from __future__ import annotations

import uuid

import plotly.graph_objects as go
import plotly.io as pio
from sqlmodel import select

from core.charts.make import chart_info, make_chart
from core.db import session
from core.errors import NotFound
from core.models.explore import Visualization


def save_chart(fig: go.Figure, *, name: str | None = None) -> Visualization:
    """Save a figure made by `make_chart` to the gallery (its spec, its JSON, the dataset version)."""
    info = chart_info(fig)
    row = Visualization(
        name=(name or fig.layout.title.text or info["kind"])[:300], kind=info["kind"],
        dataset_id=uuid.UUID(info["dataset_id"]), dataset_name=info["dataset_name"],
        dataset_version=info["dataset_version"], spec=info["spec"], figure=fig.to_json(),
    )
    with session() as s:
        s.add(row)
    return row


def list_charts(*, dataset_id: uuid.UUID | str | None = None, limit: int = 100) -> list[Visualization]:
    """Gallery charts, newest first (optionally of one dataset)."""
    stmt = select(Visualization).order_by(Visualization.created.desc()).limit(limit)
    if dataset_id is not None:
        stmt = stmt.where(Visualization.dataset_id == uuid.UUID(str(dataset_id)))
    with session() as s:
        return list(s.exec(stmt).all())


def get_chart(chart_id: uuid.UUID | str) -> Visualization:
    """A gallery chart by id; raises NotFound."""
    try:
        key = uuid.UUID(str(chart_id))
    except ValueError as exc:
        raise NotFound(f"No chart {chart_id!r}.") from exc
    with session() as s:
        row = s.get(Visualization, key)
    if row is None:
        raise NotFound(f"No chart {chart_id!r}.", hint="It may have been deleted; the gallery lists the others.")
    return row


def open_chart(chart_id: uuid.UUID | str) -> go.Figure:
    """The saved figure of a gallery chart, exactly as it was saved."""
    return pio.from_json(get_chart(chart_id).figure)


def rebuild_chart(chart_id: uuid.UUID | str) -> go.Figure:
    """Build a gallery chart again from its spec over the dataset's current version."""
    row = get_chart(chart_id)
    return make_chart(row.kind, row.dataset_id, **row.spec)


def delete_chart(chart_id: uuid.UUID | str) -> None:
    row = get_chart(chart_id)
    with session() as s:
        s.delete(s.get(Visualization, row.id))
