"""Charts: every kind draws, bad specs are refused clearly, large data is sampled, the gallery keeps charts."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pyarrow as pa
import pytest

from core import charts, datasets
from core.errors import InvalidInput, NotFound

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(tmp_path: Path) -> datasets.Dataset:
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame({
        "price": rng.gamma(2, 10, n).round(2), "units": rng.integers(1, 50, n),
        "region": rng.choice(["north", "south", "east", "west"], n), "promo": rng.choice(["yes", "no"], n),
        "day": pd.date_range("2024-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
    })
    path = tmp_path / "shop.csv"
    frame.to_csv(path, index=False)
    return datasets.ingest_file(path, name="shop")


SPECS = {
    "histogram": {"x": "price", "color": "region", "nbins": 20},
    "kde": {"x": "price", "color": "promo"},
    "scatter": {"x": "price", "y": "units", "color": "region", "trendline": "ols"},
    "bar": {"x": "region", "y": "price", "agg": "mean", "color": "promo"},
    "line": {"x": "day", "y": "units", "agg": "sum"},
    "area": {"x": "day", "y": "units", "color": "region"},
    "heatmap": {"columns": ["price", "units"]},
    "box": {"x": "region", "y": "price", "facet": "promo"},
    "violin": {"x": "promo", "y": "units"},
    "pie": {"x": "region", "y": "units"},
    "pair": {"columns": ["price", "units"], "color": "region"},
    "custom": {"function": "density_heatmap", "args": {"x": "price", "y": "units", "nbinsx": 10}},
}


def test_every_kind_is_covered() -> None:
    assert set(SPECS) == set(charts.KINDS)


@pytest.mark.parametrize("kind", charts.KINDS)
def test_every_kind_draws_a_figure_with_data(shop, kind: str) -> None:
    fig = charts.make_chart(kind, shop.id, **SPECS[kind])
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1
    info = charts.chart_info(fig)
    assert info["kind"] == kind and info["dataset_id"] == str(shop.id) and info["dataset_version"] == shop.version
    assert fig.layout.title.text


def test_options_log_axes_title_and_facets(shop) -> None:
    fig = charts.make_chart("scatter", "shop", x="price", y="units", log_x=True, log_y=True, title="Mine",
                            facet="region")
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.layout.title.text == "Mine"
    assert len({t.xaxis for t in fig.data}) == 4  # one panel per region


def test_bar_aggregates_in_duckdb(shop) -> None:
    fig = charts.make_chart("bar", shop.id, x="region", y="units", agg="sum")
    frame = datasets.load_frame(shop.id)
    expected = frame.groupby("region")["units"].sum().to_dict()
    got = dict(zip(fig.data[0].x, fig.data[0].y, strict=True))
    assert got == expected


def test_pivot_heatmap_from_x_y_z(shop) -> None:
    fig = charts.make_chart("heatmap", shop.id, x="region", y="promo", z="price", agg="max")
    frame = datasets.load_frame(shop.id)
    assert np.nanmax(np.array(fig.data[0].z, dtype=float)) == pytest.approx(frame["price"].max())


def test_correlation_heatmap_matches_pandas(shop) -> None:
    fig = charts.make_chart("heatmap", shop.id, columns=["price", "units"])
    frame = datasets.load_frame(shop.id)
    assert np.array(fig.data[0].z)[0][1] == pytest.approx(frame["price"].corr(frame["units"]))


BAD = [
    ("scater", {"x": "price"}, "Unknown chart kind", "Did you mean 'scatter'?"),
    ("scatter", {"x": "prise", "y": "units"}, "Unknown column 'prise'", "Did you mean 'price'?"),
    ("scatter", {"x": "price", "y": "region"}, "is not numeric", "Numeric columns: price, units"),
    ("histogram", {}, "Choose a column for x", ""),
    ("kde", {"x": "region"}, "is not numeric", ""),
    ("bar", {"x": "region", "colour": "promo"}, "options are not valid", "Options:"),
    ("bar", {"x": "region", "agg": "average"}, "options are not valid", ""),
    ("pie", {"x": "region", "y": "units", "agg": "mean"}, "parts of a whole", ""),
    ("pair", {"columns": ["price"]}, "2 to 8 numeric columns", ""),
    ("box", {"y": "price", "facet": "day"}, "at most 24", ""),
    ("scatter", {"x": "price", "y": "units", "color": "day"}, "at most 50 can be told apart", "facet"),
    ("custom", {"function": "exec"}, "Unknown or disallowed plotly.express function", "Allowed:"),
    ("custom", {"function": "scater"}, "Unknown or disallowed", "Did you mean 'scatter'?"),
    ("custom", {"function": "scatter", "args": {"x": "price", "data_frame": "x"}}, "does not take", ""),
    ("custom", {"function": "scatter", "args": {"x": "price", "color_discrete_map": {}}}, "does not take", ""),
    ("custom", {"function": "scatter", "args": {"x": "prize"}}, "Unknown column 'prize'", "Did you mean"),
    ("custom", {"function": "histogram", "args": {"x": "price", "nbins": "ten"}}, "wrong type", ""),
    ("custom", {"function": "histogram", "args": {"x": "price", "marginal": "pie"}}, "is not allowed", ""),
    ("custom", {"function": "scatter", "args": {"title": "t"}}, "needs at least one column", ""),
]


@pytest.mark.parametrize(("kind", "spec", "message", "hint"), BAD, ids=[f"{k}-{m[:20]}" for k, _, m, _ in BAD])
def test_bad_specs_are_refused_with_a_clear_message(shop, kind: str, spec: dict, message: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        charts.make_chart(kind, shop.id, **spec)
    assert message in caught.value.message
    assert hint in caught.value.hint


def test_an_unknown_dataset_is_not_found() -> None:
    with pytest.raises(NotFound):
        charts.make_chart("histogram", "nope", x="a")


def test_a_large_scatter_is_sampled_fast_and_says_so() -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    ds = datasets.store_table(pa.table({"a": rng.normal(size=n), "b": rng.normal(size=n),
                                        "g": rng.choice(["x", "y"], n)}), name="big", source="test")
    started = time.perf_counter()
    fig = charts.make_chart("scatter", ds.id, x="a", y="b", color="g")
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"scatter of 1M rows took {elapsed:.2f} s"
    assert sum(len(t.x) for t in fig.data) == 20_000
    assert "sample of 20,000 of 1,000,000 rows" in fig.layout.title.subtitle.text
    assert charts.chart_info(fig)["sampled"] is True
    small = charts.make_chart("histogram", ds.id, x="a")
    assert charts.chart_info(small)["sampled"] is False  # binned in DuckDB, every row counted
    assert sum(small.data[0].y) == n


def test_many_categories_keep_the_top_ones(tmp_path: Path) -> None:
    ds = datasets.store_table(pa.table({"k": [f"k{i}" for i in range(120)], "v": list(range(120))}),
                              name="wide", source="test")
    fig = charts.make_chart("bar", ds.id, x="k", y="v")
    assert len(fig.data[0].x) == charts.MAX_CATEGORIES and fig.data[0].x[0] == "k119"
    assert "top 50 of 120" in fig.layout.title.subtitle.text


def test_gallery_saves_reopens_lists_and_deletes(backend: str, shop) -> None:
    fig = charts.make_chart("bar", shop.id, x="region", y="units")
    row = charts.save_chart(fig, name="Units by region")
    assert row.dataset_version == shop.version and row.spec == {"x": "region", "y": "units"}
    assert [c.id for c in charts.list_charts()] == [row.id]
    assert [c.id for c in charts.list_charts(dataset_id=shop.id)] == [row.id]
    reopened = charts.open_chart(row.id)
    assert json.loads(reopened.to_json()) == json.loads(fig.to_json())
    rebuilt = charts.rebuild_chart(row.id)
    assert list(rebuilt.data[0].y) == list(fig.data[0].y)
    charts.delete_chart(row.id)
    assert charts.list_charts() == []
    with pytest.raises(NotFound):
        charts.open_chart(row.id)


def test_a_figure_not_made_here_cannot_be_saved() -> None:
    with pytest.raises(InvalidInput):
        charts.save_chart(go.Figure())


def test_export_html_is_self_contained(shop) -> None:
    row = charts.save_chart(charts.make_chart("pie", shop.id, x="region"))
    html = charts.to_html(row.id)
    assert "<html>" in html[:100] and 'src="https://cdn.plot.ly' not in html
    assert len(html) > 1_000_000  # plotly.js is inlined, so the file opens offline


def test_export_png_and_svg_with_kaleido(shop) -> None:
    fig = charts.make_chart("bar", shop.id, x="region")
    png = charts.to_image(fig, fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    svg = charts.to_image(fig, fmt="svg")
    assert b"<svg" in svg[:500]


def test_a_long_series_is_aggregated_into_buckets_in_duckdb() -> None:
    n = 5_000
    ds = datasets.store_table(pa.table({"t": list(range(n)), "y": [1] * n}), name="series", source="test")
    fig = charts.make_chart("line", ds.id, x="t", y="y", agg="sum")
    assert len(fig.data[0].x) == charts.LINE_BUCKETS
    assert sum(fig.data[0].y) == n  # every row counted once
    assert "buckets" in fig.layout.title.subtitle.text


def test_a_heatmap_with_long_row_labels_exports_them_whole() -> None:
    # Given a pivot heatmap whose rows are long category names
    labels = [f"group {i} " + "with a rather long descriptive label " * 3 for i in range(6)]
    ds = datasets.store_table(pa.table({
        "who": [label for label in labels for _ in "abcd"], "col": list("abcd") * 6,
        "v": [float(i * j) for i in range(6) for j in range(4)],
    }), name="long_labels", source="test")
    fig = charts.make_chart("heatmap", ds.id, x="col", y="who", z="v")
    # When it is exported as PNG
    png = charts.to_image(fig, fmt="png")
    # Then no label is cut at the left edge: the first pixel columns are background
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    assert pixels[:, :4].min() == 255
    assert pixels.shape[1] > 2 * 700  # widened for the labels (kaleido's default is 700 px at scale 2)
    # And the figure itself is unchanged (the export lays out a copy)
    assert fig.layout.width is None


def test_the_export_layout_grows_margins_for_labels(shop) -> None:
    fig = charts.make_chart("bar", shop.id, x="region")
    laid_out = charts.export_layout(fig)
    assert laid_out.layout.yaxis.automargin is True and laid_out.layout.xaxis.automargin is True
    assert laid_out.layout.width is None  # short labels: kaleido's default size


def test_without_chromium_the_export_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    # Given no browser where kaleido looks (a fresh process, BROWSER_PATH pointing at nothing)
    script = ("import plotly.graph_objects as go\nfrom core import charts\n"
              "try:\n    charts.to_image(go.Figure())\nexcept charts.ExportFailed as e:\n    print('refused:', e)\n")
    env = {**os.environ, "BROWSER_PATH": str(tmp_path / "no-chromium"), "DATA_DIR": str(tmp_path)}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=90)
    # Then a clear refusal, quickly (it used to wait forever on kaleido's dead server thread)
    assert "refused: No Chromium was found" in out.stdout, out.stderr[-2000:]
    assert time.perf_counter() - started < 60


def test_chart_modules_import_in_one_direction() -> None:
    # spec <- source <- reduce <- builders <- make <- gallery <- export: no module imports one above it
    from tools.importgraph import circles, within

    edges = within("core.charts")
    assert circles(edges) == []
    assert {m for m, deps in edges.items() if "core.charts" in deps} == set()  # nothing imports the package back
    assert {m for m in edges if "core.charts.make" in edges[m]} == {"core.charts", "core.charts.gallery"}


def test_the_package_keeps_the_public_names() -> None:
    for name in ("make_chart", "chart_info", "save_chart", "list_charts", "get_chart", "open_chart", "rebuild_chart",
                 "delete_chart", "to_html", "to_image", "parse_spec", "is_numeric", "KINDS", "AGGREGATIONS",
                 "PX_FUNCTIONS", "MAX_CATEGORIES", "LINE_BUCKETS", "ExportFailed", "ChartSpec"):
        assert name in charts.__all__ and hasattr(charts, name), name
