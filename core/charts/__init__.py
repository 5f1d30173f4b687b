"""Charts: Plotly figures built from a declarative spec, aggregated or sampled in DuckDB first.

`make_chart(kind, dataset_id, **spec)` validates the spec against the dataset's schema
(unknown columns get a "did you mean"), pushes the heavy work (binning, group-by,
correlation, sampling) into DuckDB over the Parquet file and hands Plotly only the small
result. A sampled chart says so in its subtitle. Charts are saved to the gallery
(`save_chart`), reopened (`open_chart`) and exported (`to_html`, `to_image`).

The modules, each importing only those above it:
    spec          the kinds, the limits, ChartSpec and parse_spec
    source        a dataset opened in DuckDB (Source) and the column checks
    reduce        sampling, GROUP BY, top categories, buckets in DuckDB
    category, distribution, relation, trend    the builders, one module per chart family
    custom        allow-listed plotly.express functions with checked arguments
    make          make_chart and chart_info
    gallery       saved charts
    export        HTML, PNG and SVG
"""

from core.charts.custom import CHOICES, COLUMN_ARGS, COLUMN_LIST_ARGS, PX_FUNCTIONS, TYPED_ARGS
from core.charts.export import ExportFailed, export_layout, to_html, to_image
from core.charts.gallery import delete_chart, get_chart, list_charts, open_chart, rebuild_chart, save_chart
from core.charts.make import BUILDERS, chart_info, make_chart
from core.charts.source import Source, column, is_numeric, q
from core.charts.spec import (
    AGGREGATIONS,
    KINDS,
    LINE_BUCKETS,
    MAX_CATEGORIES,
    MAX_FACETS,
    PAIR_POINTS,
    SEED,
    TITLES,
    ChartSpec,
    parse_spec,
)

__all__ = [
    "AGGREGATIONS", "BUILDERS", "CHOICES", "COLUMN_ARGS", "COLUMN_LIST_ARGS", "KINDS", "LINE_BUCKETS",
    "MAX_CATEGORIES", "MAX_FACETS", "PAIR_POINTS", "PX_FUNCTIONS", "SEED", "TITLES", "TYPED_ARGS", "ChartSpec",
    "ExportFailed", "Source", "chart_info", "column", "delete_chart", "export_layout", "get_chart", "is_numeric", "list_charts",
    "make_chart", "open_chart", "parse_spec", "q", "rebuild_chart", "save_chart", "to_html", "to_image",
]
