"""`make_chart`: check the spec, open the dataset in DuckDB, run the kind's builder, title and label the figure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go

from core import datasets, duck
from core.charts.category import bar, pie
from core.charts.custom import custom
from core.charts.distribution import box, histogram, kde, violin
from core.charts.relation import heatmap, pair, scatter
from core.charts.source import Source
from core.charts.spec import TITLES, ChartSpec, parse_spec
from core.charts.trend import area, line
from core.errors import InvalidInput

BUILDERS: dict[str, Callable[[Source, ChartSpec], go.Figure]] = {
    "histogram": histogram, "kde": kde, "scatter": scatter, "bar": bar, "line": line, "area": area,
    "heatmap": heatmap, "box": box, "violin": violin, "pie": pie, "pair": pair, "custom": custom,
}


def _title(kind: str, spec: ChartSpec, src: Source) -> str:
    given = spec.title or spec.args.get("title")
    if given:
        return str(given)
    if kind == "custom":
        return f"{spec.function} of {src.name}"
    if kind in ("scatter", "line", "area") and spec.x and spec.y:
        return f"{spec.y} vs {spec.x}"
    if kind == "heatmap" and not (spec.x or spec.y):
        return "Correlation matrix"
    subject = " by ".join(p for p in (spec.y or spec.z, spec.x) if p) or ", ".join(spec.columns or []) or src.name
    return f"{TITLES.get(kind, kind.capitalize())} of {subject}"


def make_chart(kind: str, dataset_id: uuid.UUID | str, **spec: Any) -> go.Figure:
    """Build a Plotly figure of a dataset; large data is aggregated or sampled in DuckDB first.

    `kind`: one of KINDS. `spec`: x, y, z, color, facet, facet_row, columns, agg, log_x, log_y,
    title, nbins, trendline, max_points; for kind 'custom': function (a plotly.express name)
    and args. Raises InvalidInput (unknown kind, option or column, non-numeric axis), NotFound.
    """
    parsed = parse_spec(kind, dict(spec))
    ds = datasets.get_dataset(dataset_id)
    with duck.connect() as con:
        con.read_parquet(str(datasets.dataset_path(ds.id))).create_view("base")
        con.execute("CREATE TEMP VIEW data AS SELECT * FROM base")
        src = Source(con=con, dataset_id=str(ds.id), name=ds.name, version=ds.version, rows=ds.rows,
                     dtypes={c["name"]: c["dtype"] for c in ds.schema_})
        fig = BUILDERS[kind](src, parsed)
    _finish(fig, kind, parsed, src)
    return fig


def _finish(fig: go.Figure, kind: str, spec: ChartSpec, src: Source) -> None:
    note = "; ".join(src.notes)
    subtitle = f"{src.name} · {note}" if note else src.name
    fig.update_layout(
        title={"text": _title(kind, spec, src), "subtitle": {"text": subtitle}},
        margin={"t": 90},
        meta={"workbench": {"kind": kind, "dataset_id": src.dataset_id, "dataset_name": src.name,
                            "dataset_version": src.version, "sampled": bool(src.notes), "notes": src.notes,
                            "spec": spec.model_dump(exclude_defaults=True)}},
    )


def chart_info(fig: go.Figure) -> dict[str, Any]:
    """What `make_chart` recorded about a figure: kind, dataset, version, spec, sampling notes."""
    meta = fig.layout.meta
    info = meta.get("workbench") if isinstance(meta, dict) else None
    if not info:
        raise InvalidInput("This figure was not made by make_chart, so it cannot be saved to the gallery.")
    return dict(info)
