"""AppTests: the Projects page creates a project and notes safely; the Archive page restores and applies templates
(one role or several, with manual mappings and changed parameters), names shown as text."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import jobs
import jobs.tasks.projects  # registers the apply kind: a first submit need not import every task module (torch...)
from core import charts, datasets, projects
from tests.projects_data import build_project, build_two_dataset_project, sales_csv, targets_csv
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


def _apply_and_wait(at: AppTest) -> projects.Project:
    """Click Apply, let the embedded worker run the job, rerun the page: the new project it opens."""
    at.button(key="template-apply").click().run()
    assert not at.exception
    jobs.wait_idle(60)
    at.run()
    assert not at.exception and any("Done" in s.value for s in at.success), [e.value for e in at.error]
    return projects.get_project(at.session_state[ProjectKeys.OPEN])


def test_a_two_role_template_is_applied_with_a_manual_mapping_and_a_changed_parameter(tmp_path: Path) -> None:
    # Given a template from a project that used two datasets (a SQL query joins them), and new data for each role
    t = projects.make_template(projects.archive(build_two_dataset_project(tmp_path).id).id, name="Goals template")
    sales = datasets.ingest_file(sales_csv(tmp_path / "n.csv", units="Units"), name="new_sales")
    goals = datasets.ingest_file(targets_csv(tmp_path / "g.csv", goal="target_units"), name="new_goals")
    at = page("7_Archive.py").run()
    assert not at.exception
    # Then there is a dataset picker per role, labelled with the role and the columns it needs
    assert "data\\_2" not in at.selectbox(key="template-dataset-data_2").label  # a mid-word _ is kept as is
    assert "**data_2** · needs region (text), goal (numeric)" in at.selectbox(key="template-dataset-data_2").label
    # When the new datasets are picked, the goal column (which nothing matches) is named before anything runs
    at.selectbox(key="template-dataset").select(str(sales.id))
    at.selectbox(key="template-dataset-data_2").select(str(goals.id)).run()
    assert not at.exception
    assert any("role 'data_2': missing column(s): 'goal' (numeric)" in e.value for e in at.error)
    assert "template-apply" not in [b.key for b in at.button]
    # And units was matched automatically (by case) while goal waits for a choice
    assert at.selectbox(key=f"template-map-{t.id}-data-{sales.id}-units").value == "Units"
    goal = at.selectbox(key=f"template-map-{t.id}-data_2-{goals.id}-goal")
    assert goal.value is None
    # When goal is mapped by hand to a text column, the wrong type is named; then to the right column
    goal.select("region").run()
    assert any("'region' is text but 'goal' must be numeric" in e.value for e in at.error)
    at.selectbox(key=f"template-map-{t.id}-data_2-{goals.id}-goal").select("target_units")
    # And the test's alternative is changed
    at.text_input(key=f"template-param-{t.id}-2.alternative").input("greater").run()
    assert not at.exception and not at.error
    # Then the plan shows which step runs on which dataset and columns: the join reads both new tables
    plan = at.dataframe[-1].value
    assert plan["dataset"].tolist() == ["new_sales", "new_goals", "new_sales", "new_sales, new_goals"]
    assert plan["columns"].tolist()[1] == "region, target_units" and "target_units" in plan["columns"][3]
    # When it is applied as a background job; Then the new project holds every step's result
    new = _apply_and_wait(at)
    job = jobs.get_job(at.session_state[ProjectKeys.APPLY_JOB])
    assert job.params["dataset_id"] == {"data": str(sales.id), "data_2": str(goals.id)}
    assert job.params["mapping"] == {"data_2": {"goal": "target_units"}}
    assert job.params["parameters"] == {"2.alternative": "greater"}
    assert [r["status"] for r in new.meta["results"]] == ["ok"] * 4
    assert new.meta["mapping"]["data_2"] == {"region": "region", "goal": "target_units"}
    test_step = next(s for s in projects.methodology(new.id) if s.kind == "test")
    assert test_step.parameters["alternative"] == "greater" and test_step.dataset_id == str(sales.id)


def test_a_single_role_template_is_applied_as_before(tmp_path: Path) -> None:
    # Given a one-role template and new data whose columns match by name
    p, _ = build_project(sales_csv(tmp_path / "s.csv"))
    t = projects.make_template(projects.archive(p.id).id, name="Sales template")
    ds = datasets.ingest_file(sales_csv(tmp_path / "n.csv", units="Units"), name="new_sales")
    at = page("7_Archive.py").run()
    at.selectbox(key="template-dataset").select(str(ds.id)).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="template-dataset").label.startswith("Apply to dataset · needs region (text)")
    # When the fill method is changed and the template applied
    at.text_input(key=f"template-param-{t.id}-0.method").input("mean").run()
    new = _apply_and_wait(at)
    # Then the job got one dataset and no mapping (the automatic match), as before, and every step ran
    job = jobs.get_job(at.session_state[ProjectKeys.APPLY_JOB])
    assert job.params["dataset_id"] == str(ds.id) and job.params["mapping"] is None
    assert job.params["parameters"] == {"0.method": "mean"}
    assert [r["status"] for r in new.meta["results"]] == ["ok"] * 4
    assert next(s for s in projects.methodology(new.id) if s.kind == "clean").parameters["method"] == "mean"


def test_template_role_column_and_template_names_with_markup_are_shown_as_text(tmp_path: Path) -> None:
    # Given a template named with HTML, from a dataset whose columns are named with HTML and Markdown
    csv = tmp_path / "h.csv"
    csv.write_text("<b>region</b>,**units**\nnorth,1\nsouth,2\n")
    p = projects.create("Hostile")
    with projects.use(p.id):
        ds = datasets.ingest_file(csv, name="__sales__")  # bold in Markdown
        charts.save_chart(charts.make_chart("bar", ds.id, x="<b>region</b>", y="**units**"))
    projects.make_template(projects.archive(p.id).id, name=HOSTILE)
    other = tmp_path / "o.csv"
    other.write_text("area,count\nn,1\n")
    other_id = str(datasets.ingest_file(other, name="other").id)
    at = page("7_Archive.py").run()
    assert not at.exception
    # Then the picker's label and help show the names escaped, and the template's name is plain option text
    picker = at.selectbox(key="template-dataset")
    assert r"needs \<b\>region\</b\> (text), \*\*units\*\* (numeric)" in picker.label
    assert r"\_\_sales\_\_" in picker.help
    assert at.selectbox(key="template-pick").options == [HOSTILE]
    assert any(r"\*\*units\*\* (numeric)" in s.label for s in at.selectbox)  # the mapping editor's label
    # When a dataset without those columns is picked, the error names them as typed
    at.selectbox(key="template-dataset").select(other_id).run()
    assert not at.exception
    (error,) = at.error
    assert r"'\<b\>region\</b\>' (text)" in error.value and r"'\*\*units\*\*' (numeric)" in error.value
    shown = [m.value for m in (*at.markdown, *at.caption, *at.error)] + [w.label for w in at.selectbox]
    assert not [text for text in shown if "<b>" in text or "<script>" in text]


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
