"""AppTests: the Projects page creates a project and notes safely; the Archive page restores and applies a template."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import datasets, projects
from tests.projects_data import build_project, sales_csv
from ui.state import ProjectKeys

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = "<script>alert(1)</script> **Churn**"


def page(name: str) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / name), default_timeout=90)


def test_create_a_project_add_a_finding_and_see_it_as_text(tmp_path: Path) -> None:
    # Given the Projects page with no project yet
    at = page("0_Projects.py").run()
    assert not at.exception and any("No projects yet" in i.value for i in at.info)
    # When a project with a hostile name is created, it becomes current in the sidebar picker
    at.text_input(key="project-new-name").input(HOSTILE)
    at.button(key="project-new-submit").click().run()
    assert not at.exception
    p = projects.list_projects()[0]
    assert p.name == HOSTILE and at.session_state[ProjectKeys.CURRENT] == str(p.id)
    assert at.selectbox(key=ProjectKeys.PICKER).value == str(p.id)
    assert at.subheader[0].value.startswith(r"\<script\>")  # escaped: shown as text
    # And a finding is added through the notes form
    at.text_area(key="project-note-text").input("Tenure <b>drives</b> churn")
    at.selectbox(key="project-note-kind").select("finding")
    at.button(key="project-note-submit").click().run()
    assert not at.exception
    assert [(n.kind, n.text) for n in projects.notes(p.id)] == [("finding", "Tenure <b>drives</b> churn")]
    assert not any("<b>drives</b>" in m.value for m in at.markdown)


def test_every_page_has_the_current_project_picker() -> None:
    p = projects.create("Current")
    at = page("2_Visualize.py")
    at.session_state[ProjectKeys.CURRENT] = str(p.id)
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key=ProjectKeys.PICKER).value == str(p.id)
    projects.delete_project(p.id)
    at.run()  # a deleted current project falls back to none, without an error
    assert not at.exception and at.session_state[ProjectKeys.CURRENT] == ""


def test_archive_page_restores_and_plans_a_template(tmp_path: Path) -> None:
    p, _ = build_project(sales_csv(tmp_path / "s.csv"))
    a = projects.archive(p.id)
    projects.make_template(a.id, name="Sales template")
    datasets.ingest_file(sales_csv(tmp_path / "n.csv", units="Units"), name="new_sales")
    at = page("7_Archive.py").run()
    assert not at.exception
    assert at.dataframe[0].value["name"].tolist() == ["Sales study"]
    at.selectbox(key="template-dataset").select(str(datasets.get_dataset("new_sales").id)).run()
    assert not at.exception and not at.error
    plan = at.dataframe[-1].value  # archive table, its steps, then the plan
    assert plan["step"].tolist() == ["clean", "chart", "test", "sql"] and "Units" in plan["columns"][0]
    at.button(key="archive-restore").click().run()
    assert projects.get_project(p.id).status == "active"
    # A dataset without the required columns is refused before anything runs, naming the closest ones
    other = tmp_path / "o.csv"
    other.write_text("area,unit_count\nn,1\ns,2\n")
    other_id = str(datasets.ingest_file(other, name="other").id)
    at.run()
    at.selectbox(key="template-dataset").select(other_id).run()
    assert not at.exception
    assert any("missing column" in e.value and "unit_count" in e.value for e in at.error)


def test_lists_show_only_the_current_projects_items_until_the_filter_is_turned_off(tmp_path: Path) -> None:
    # Given a project with one dataset and a saved chart, and another dataset outside it
    p = projects.create("Scoped")
    with projects.use(p.id):
        inside = datasets.ingest_file(sales_csv(tmp_path / "in.csv"), name="inside")
        from core import charts

        charts.save_chart(charts.make_chart("bar", inside.id, x="region", y="units"), name="units by region")
    datasets.ingest_file(sales_csv(tmp_path / "out.csv"), name="outside")
    # When the Visualize page runs with the project current
    at = page("2_Visualize.py")
    at.session_state[ProjectKeys.CURRENT] = str(p.id)
    at.run()
    assert not at.exception
    # Then the dataset picker offers only the project's dataset, and a caption says what is hidden
    options = at.selectbox(key="viz-dataset").options
    assert [o for o in options if "inside" in o] and not [o for o in options if "outside" in o]
    assert any("1 more outside it" in c.value for c in at.caption)
    # When the analyst turns the filter off; Then everything is listed again
    at.sidebar.toggle(key=ProjectKeys.SCOPE).set_value(False).run()
    assert not at.exception
    options = at.selectbox(key="viz-dataset").options
    assert [o for o in options if "outside" in o] and [o for o in options if "inside" in o]
