"""AppTests: the Visualize page draws a chart from the widgets, saves it, reopens and deletes it."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import charts, datasets

ROOT = Path(__file__).resolve().parents[2]


def page() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages/2_Visualize.py"), default_timeout=60)


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def test_without_datasets_the_page_guides_to_import() -> None:
    at = page().run()
    assert not at.exception
    assert any("No datasets yet" in i.value for i in at.info)


def test_build_a_bar_chart_and_save_it_to_the_gallery(csv_file: Path) -> None:
    ds = datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    assert not at.exception
    at.selectbox(key="viz-kind").select("bar").run()
    at.selectbox(key="viz-x").select("region").run()
    at.selectbox(key="viz-y").select("units").run()
    assert not at.exception and not at.error
    fig = figures(at)[0]
    assert fig["data"][0]["type"] == "bar"
    assert "units" in fig["layout"]["title"]["text"]
    at.text_input(key="viz-save-name").input("Units per region").run()
    at.button(key="viz-save").click().run()
    assert not at.exception
    saved = charts.list_charts()
    assert [c.name for c in saved] == ["Units per region"] and saved[0].dataset_id == ds.id


def test_a_bad_custom_spec_is_shown_as_an_error(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    at.selectbox(key="viz-kind").select("custom").run()
    at.text_area(key="viz-args").input('{"x": "regoin"}').run()
    assert not at.exception
    assert any("Did you mean 'region'?" in e.value for e in at.error)


def test_every_kind_renders_with_default_controls(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    for kind in charts.KINDS:
        at.selectbox(key="viz-kind").select(kind).run()
        assert not at.exception, kind
        assert not at.error, (kind, [e.value for e in at.error])
        assert figures(at), kind


def test_gallery_reopens_and_deletes(csv_file: Path) -> None:
    ds = datasets.ingest_file(csv_file, name="sales")
    row = charts.save_chart(charts.make_chart("pie", ds.id, x="region", y="units"), name="Share")
    at = page().run()
    at.button(key=f"viz-open-{row.id}").click().run()
    assert not at.exception
    assert any(el.key == f"viz-gallery-chart-{row.id}" for el in at.get("plotly_chart"))
    assert at.get("download_button")  # HTML, PNG and SVG, produced on click
    at.button(key=f"viz-delete-{row.id}").click().run()
    assert not at.exception
    assert charts.list_charts() == []


def test_the_gallery_name_follows_the_chart_that_is_shown(csv_file: Path) -> None:
    # Given a histogram on screen, its default name in the gallery field
    ds = datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    at.selectbox(key="viz-kind").select("histogram").run()
    histogram_title = figures(at)[0]["layout"]["title"]["text"]
    assert at.text_input(key="viz-save-name").value == histogram_title
    # When the user switches to a scatter
    at.selectbox(key="viz-kind").select("scatter").run()
    assert not at.exception and not at.error
    scatter_title = figures(at)[0]["layout"]["title"]["text"]
    assert scatter_title != histogram_title
    # Then the field names the scatter, and saving labels it so
    assert at.text_input(key="viz-save-name").value == scatter_title
    at.button(key="viz-save").click().run()
    assert [c.name for c in charts.list_charts(dataset_id=ds.id)] == [scatter_title]


def test_a_typed_gallery_name_stays_while_the_same_chart_is_shown(csv_file: Path) -> None:
    datasets.ingest_file(csv_file, name="sales")
    at = page().run()
    at.selectbox(key="viz-kind").select("scatter").run()
    at.text_input(key="viz-save-name").input("My scatter").run()
    at.text_input(key="viz-title").run()  # an unrelated rerun of the same chart
    assert at.text_input(key="viz-save-name").value == "My scatter"
    at.selectbox(key="viz-kind").select("bar").run()
    assert at.text_input(key="viz-save-name").value != "My scatter"
