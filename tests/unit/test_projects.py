"""Projects: the current project links new items, notes, methodology, summary, archive, templates, export."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

import jobs
from core import cleaning, datasets, projects, storage
from core.errors import Conflict, InvalidInput, NotFound
from core.projects import archives
from tests.fakes.openai_server import FakeOpenAI
from tests.projects_data import build_project, build_two_dataset_project, sales_csv, targets_csv

HOSTILE = ['<script>alert("x")</script>', '<img src=x onerror=alert(1)>', "![t](http://evil.example/x.png)"]


def test_items_made_inside_use_join_the_project_and_others_do_not(tmp_path: Path, backend: str) -> None:
    # Given a project and items made inside and outside `use`
    p, made = build_project(sales_csv(tmp_path / "s.csv"))
    outside = datasets.ingest_file(sales_csv(tmp_path / "o.csv"), name="outside")
    # Then exactly the inside ones are linked, each once
    linked = {(i.item_type, i.item_id) for i in projects.items(p.id)}
    assert ("dataset", made["dataset"].id) in linked and ("chart", made["chart"].id) in linked
    assert ("test", made["test"].id) in linked and ("dataset", outside.id) not in linked
    steps = {s.kind: s for s in projects.methodology(p.id)}
    assert list(steps) == ["import", "clean", "chart", "test", "sql"]
    # The methodology reads each step's parameters and result from the stored rows
    assert steps["import"].metrics == {"rows": 40, "columns": 3}
    assert steps["clean"].parameters["op"] == "fill" and "median" in steps["clean"].result
    assert steps["chart"].parameters == {"kind": "bar", "spec": {"x": "region", "y": "units"}}
    assert steps["test"].metrics["p_value"] == pytest.approx(made["test"].p_value)
    assert steps["sql"].metrics == {"rows": 2}
    # When the outside dataset is linked and the chart unlinked
    projects.link(p.id, outside)
    projects.link(p.id, outside)
    projects.unlink(p.id, made["chart"])
    assert projects.item_ids(p.id, "dataset") == {made["dataset"].id, outside.id}
    assert projects.item_ids(p.id, "chart") == set()


def test_hostile_names_are_kept_as_text_and_escaped_in_exports(tmp_path: Path) -> None:
    # Given a project and notes whose names are HTML, script and a Markdown image
    p, made = build_project(sales_csv(tmp_path / "s.csv"), name=" ".join(HOSTILE))
    for text in HOSTILE:
        projects.add_note(p.id, text, kind="finding", item=made["test"])
    # Then they are stored as given, and every export shows them as text
    assert projects.get_project(p.id).name == " ".join(HOSTILE)
    report = projects.export(p.id, format="html").decode()
    assert "<script>alert" not in report and "<img src=x" not in report and "&lt;script&gt;" in report
    nb = nbformat.reads(projects.export(p.id, format="ipynb").decode(), as_version=4)
    assert "<script>" not in nb.cells[0].source and "<img" not in nb.cells[0].source
    assert "![t]" not in nb.cells[0].source
    assert any("PROJECT_NAME = " + repr(" ".join(HOSTILE) + " (re-run)") in c.source for c in nb.cells)


def test_notes_kinds_items_pins_and_bad_notes(tmp_path: Path) -> None:
    p, made = build_project(sales_csv(tmp_path / "s.csv"))
    finding = projects.add_note(p.id, "North sells **more**", kind="finding", item=made["test"])
    projects.add_note(p.id, "check prices", kind="todo", pinned=True)
    assert (finding.item_type, finding.item_id) == ("test", made["test"].id)
    assert [n.kind for n in projects.notes(p.id)] == ["todo", "finding"]  # pinned first
    assert projects.update_note(finding.id, done=True).done
    with pytest.raises(InvalidInput, match="Unknown note kind"):
        projects.add_note(p.id, "x", kind="gossip")
    with pytest.raises(InvalidInput, match="empty"):
        projects.add_note(p.id, "   ")
    with pytest.raises(InvalidInput, match="not an item a project can hold"):
        projects.link(p.id, object())


def test_two_editors_last_write_wins_per_field_and_no_note_is_lost(tmp_path: Path, backend: str) -> None:
    # Given one project opened by two analysts
    p = projects.create("Shared")
    # When they change different fields and add notes at the same time
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def edit(field: str, value: object, notes: int) -> None:
        try:
            barrier.wait()
            projects.update_project(p.id, **{field: value})
            for n in range(notes):
                projects.add_note(p.id, f"{field} note {n}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=("name", "Renamed", 5)),
               threading.Thread(target=edit, args=("description", "Described", 5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then both fields are kept and all ten notes exist
    assert not errors
    row = projects.get_project(p.id)
    assert (row.name, row.description) == ("Renamed", "Described")
    assert len(projects.notes(p.id)) == 10
    projects.update_project(p.id, name="Second rename")
    assert projects.get_project(p.id).description == "Described"


def test_offline_summary_is_built_from_facts_with_citations(tmp_path: Path) -> None:
    p, made = build_project(sales_csv(tmp_path / "s.csv"))
    projects.add_note(p.id, "North sells more", kind="finding", item=made["test"])
    s = projects.summary(p.id)
    assert s.mode == "offline"
    assert "40 rows × 3 columns" in s.text and "Significant ttest_ind" in s.text and "Finding: North" in s.text
    assert {f.item_type for f in s.cited} == {"dataset", "dataset_version", "test", "note"}


def test_llm_summary_is_grounded_saved_as_a_note_and_unknown_citations_dropped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import reload_settings

    p, _ = build_project(sales_csv(tmp_path / "s.csv"))
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        reload_settings()
        fake.script("The data has 40 rows [1]. North and south differ [3]. Prices rose [99].")
        s = projects.summary(p.id)
        fake.script("A summary that cites nothing.")
        fallback = projects.summary(p.id)
        prompt = fake.chat_requests[0]["messages"][1]["content"]
    assert s.mode == "llm" and "[99]" not in s.text and [f.number for f in s.cited] == [1, 3]
    assert "untrusted-data" in prompt and "Significant ttest_ind" in prompt
    note = projects.notes(p.id)[0]
    assert str(note.id) == s.note_id and "40 rows [1]" in note.text
    assert fallback.mode == "offline"  # an ungrounded reply is not kept


def test_archive_keeps_exact_versions_after_the_live_dataset_is_deleted(tmp_path: Path) -> None:
    p, made = build_project(sales_csv(tmp_path / "s.csv"))
    projects.add_note(p.id, "kept", kind="decision")
    live = storage.absolute(datasets.versions.get_version(made["dataset"].id, 2).path).read_bytes()
    a = projects.archive(p.id)
    # The project is read-only now
    with pytest.raises(Conflict, match="archived"):
        projects.add_note(p.id, "more")
    # When the live dataset is deleted
    datasets.delete_dataset(made["dataset"].id)
    clean_step = next(s for s in archives.archived_steps(a) if s.kind == "clean")
    assert archives.archive_file(a, clean_step.item_id).read_bytes() == live
    assert projects.list_archives(text="kept") and projects.list_archives(dataset="sales")
    assert not projects.list_archives(tag="nope")
    # The archived project still exports (from its copies)
    assert b"DATA_FILES" in projects.export(p.id, format="py")
    restored = projects.restore(a.id)
    assert restored.status == "active" and projects.add_note(p.id, "again")
    # A deleted live dataset is named when the active project is exported
    with pytest.raises(NotFound, match=r"'sales'.*was deleted"):
        projects.export(p.id, format="ipynb")
    # A project deleted after its archive comes back with its notes; deleting the archive removes its files
    again = projects.archive(p.id)
    projects.delete_project(p.id)
    back = projects.restore(again.id)
    assert back.name == "Sales study" and {n.text for n in projects.notes(back.id)} == {"kept", "again"}
    projects.delete_archive(again.id)
    assert not storage.absolute(again.folder).exists()


def test_archive_of_an_empty_project_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    p = projects.create("Empty")
    with pytest.raises(InvalidInput, match="empty, so there is nothing to archive"):
        projects.archive(p.id)
    assert projects.list_archives() == []
    assert not any(storage.area("archive").iterdir())


def _template(tmp_path: Path) -> projects.Template:
    p, _ = build_project(sales_csv(tmp_path / "s.csv"))
    return projects.make_template(projects.archive(p.id).id, name="Sales template")


def test_plan_names_missing_columns_with_the_closest_names(tmp_path: Path) -> None:
    t = _template(tmp_path)
    # The template's role names the input columns its steps use, with their semantic types
    assert t.roles[0]["required"] == [{"name": "region", "type": "text"}, {"name": "units", "type": "numeric"}]
    assert [s["kind"] for s in t.steps] == ["clean", "chart", "test", "sql"]
    assert {p["key"] for p in t.parameters} >= {"0.method", "2.alternative"}
    other = tmp_path / "o.csv"
    other.write_text("area,unit_count,price\nn,1,2\ns,2,3\n")
    ds = datasets.ingest_file(other, name="other")
    with pytest.raises(InvalidInput) as err:
        projects.plan_template(t.id, ds.id)
    assert "'region' (text)" in err.value.message and "'units' (numeric), closest: unit_count" in err.value.message
    # A manual mapping fixes it; a wrongly typed one is named
    plan = projects.plan_template(t.id, ds.id, {"region": "area", "units": "unit_count"})
    assert plan.steps[2].parameters["params"] == {"value": "unit_count", "group": "area"}
    assert 'from "other"' in plan.steps[3].parameters["sql"]
    with pytest.raises(InvalidInput, match="'area' is text but 'units' must be numeric"):
        projects.plan_template(t.id, ds.id, {"region": "area", "units": "area"})
    with pytest.raises(InvalidInput, match="Unknown template parameter"):
        projects.plan_template(t.id, ds.id, {"region": "area", "units": "unit_count"}, parameters={"9.x": 1})


def test_a_two_role_template_maps_each_role_and_its_join_reads_both_new_tables(tmp_path: Path) -> None:
    # Given a template from a project that used two datasets, the second joined to the first by a SQL query
    t = projects.make_template(projects.archive(build_two_dataset_project(tmp_path).id).id)
    assert [(r["role"], r["dataset_name"]) for r in t.roles] == [("data", "sales"), ("data_2", "goals")]
    assert t.roles[1]["required"] == [{"name": "region", "type": "text"}, {"name": "goal", "type": "numeric"}]
    sales = datasets.ingest_file(sales_csv(tmp_path / "n.csv", units="Units"), name="new_sales")
    goals = datasets.ingest_file(targets_csv(tmp_path / "g.csv", goal="target_units"), name="new_goals")
    chosen = {"data": str(sales.id), "data_2": str(goals.id)}
    # The automatic match per role: 'Units' by case; nothing close enough for 'goal', which the plan names
    assert projects.match_columns(t.id, "data", sales.id) == {"region": "region", "units": "Units"}
    assert projects.match_columns(t.id, "data_2", goals.id) == {"region": "region", "goal": None}
    with pytest.raises(InvalidInput, match=r"role 'data_2': missing column\(s\): 'goal' \(numeric\)"):
        projects.plan_template(t.id, chosen)
    with pytest.raises(InvalidInput, match=r"needs a dataset for role\(s\) data_2"):
        projects.plan_template(t.id, sales.id)
    # When the second role's column is mapped by hand
    mapping = {"data_2": {"goal": "target_units"}}
    plan = projects.plan_template(t.id, chosen, mapping)
    # Then the chart runs on the new goals, and the join reads both new tables with each role's columns
    assert plan.steps[1].dataset_id == str(goals.id) and plan.steps[1].parameters["spec"]["y"] == "target_units"
    assert plan.steps[3].roles == ["data", "data_2"]
    assert 'from "new_sales" s join "new_goals" g' in plan.steps[3].parameters["sql"]
    assert 'avg(s."Units")' in plan.steps[3].parameters["sql"] and 'max(g."target_units")' in plan.steps[3].parameters["sql"]
    # And applied with a changed parameter after the template's own datasets are gone, every step runs
    datasets.delete_dataset(datasets.get_dataset("goals").id)
    new = projects.apply_template(t.id, chosen, mapping, parameters={"2.alternative": "greater"})
    assert [r["status"] for r in new.meta["results"]] == ["ok"] * 4, new.meta["results"]
    assert next(s for s in projects.methodology(new.id) if s.kind == "test").parameters["alternative"] == "greater"


def test_apply_replays_into_a_new_project_side_by_side_and_marks_a_failing_step(tmp_path: Path) -> None:
    t = _template(tmp_path)
    # The new data has renamed columns (mapped by name) and no missing units, so nothing else differs
    ds = datasets.ingest_file(sales_csv(tmp_path / "n.csv", units="Units"), name="new_sales")
    # A parameter makes the fill step fail (mean of ... is fine; an impossible method is refused by the step)
    new = projects.apply_template(t.id, ds.id, parameters={"0.method": "nonsense"})
    results = new.meta["results"]
    assert [r["status"] for r in results] == ["failed", "ok", "ok", "ok"]
    assert "not valid" in results[0]["error"]
    assert results[2]["original"]["metrics"]["p_value"] > 0 and results[2]["metrics"]["p_value"] > 0
    assert datasets.get_dataset(ds.id).version == 1  # the failed step wrote nothing
    assert {s.kind for s in projects.methodology(new.id)} == {"import", "chart", "test", "sql"}


@pytest.mark.parametrize(("test", "params"), [
    ("ttest_ind", {"value": "units", "group": "region", "alternative": "two-sided", "mu": 0.0}),
    ("proportions", {"value": "region", "group": "region", "success": "north", "alternative": "greater"}),
])
def test_a_test_saved_with_every_parameter_replays_on_renamed_columns(tmp_path: Path, test: str,
                                                                      params: dict) -> None:
    # Given a test saved as the Analyze page saves it: the alternative, a success level and mu beside the columns
    from core import stats

    p = projects.create("Page-made test")
    with projects.use(p.id):
        ds = datasets.ingest_file(sales_csv(tmp_path / "s.csv"), name="sales")
        stats.save_result(stats.run_test(test, datasets.load_frame(ds.id), **params), dataset_id=ds.id)
    t = projects.make_template(projects.archive(p.id).id, name="Page template")
    # When it is applied to a dataset whose columns are named differently, with the alternative changed
    other = datasets.ingest_file(sales_csv(tmp_path / "n.csv", units="Units"), name="renamed")
    new = projects.apply_template(t.id, other.id, parameters={"0.alternative": "less"})
    # Then the test runs on the renamed columns (a level or an alternative is not read as a column)
    assert [(r["status"], r.get("error")) for r in new.meta["results"]] == [("ok", None)]
    saved = stats.list_results(dataset_id=other.id)
    assert len(saved) == 1 and saved[0].result["alternative"] == "less"


def test_apply_template_job_runs_in_the_background_and_items_join_the_new_project(tmp_path: Path) -> None:
    t = _template(tmp_path)
    ds = datasets.ingest_file(sales_csv(tmp_path / "n.csv"), name="new_sales")
    job = jobs.submit("projects.apply_template", template_id=str(t.id), dataset_id=str(ds.id))
    jobs.wait_idle(60)
    done = jobs.get_job(job.id)
    assert done.status == "succeeded", done.error
    new = projects.get_project(done.result["project_id"])
    assert [r["status"] for r in new.meta["results"]] == ["ok"] * 4 and done.result["failed"] == []
    assert len(projects.item_ids(new.id, "test")) == 1
    # And what any job makes joins the project that was current when it was submitted (the worker restores it)
    with projects.use(new.id):
        train = jobs.submit("ml.train", dataset_id=str(ds.id), target="price", models=["linear_regression"], cv=2)
    jobs.wait_idle(60)
    trained = jobs.get_job(train.id)
    assert trained.status == "succeeded", trained.error
    assert projects.item_ids(new.id, "run") == {uuid.UUID(trained.result["run_id"])}
    assert projects.item_ids(new.id, "model") == {uuid.UUID(trained.result["best_model_id"])}


def test_jobs_carry_the_current_project_in_their_params() -> None:
    p = projects.create("Profiles")
    with projects.use(p.id):
        inside = jobs.with_project({"dataset_id": "x"})
    assert inside == {"dataset_id": "x", jobs.PROJECT_PARAM: str(p.id)}
    assert jobs.with_project({"dataset_id": "x"}) == {"dataset_id": "x"}


def test_export_formats_and_a_bad_format(tmp_path: Path) -> None:
    p, _ = build_project(sales_csv(tmp_path / "s.csv"))
    nb = nbformat.reads(projects.export(p.id).decode(), as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "DATA_FILES" in params[0].source
    script = projects.export(p.id, format="py").decode()
    assert '# %% tags=["parameters"]' in script and "cleaning.apply_step" in script
    report = projects.export(p.id, format="html").decode()
    assert report.count("plotly.js v") <= 2 and "Welch" in report  # plotly inlined once, offline
    with pytest.raises(InvalidInput, match="Unknown export format"):
        projects.export(p.id, format="pdf")
    assert json.loads(json.dumps(projects.expected_results(p.id)))


def test_archived_project_rejects_use_and_cleaning_outside_does_not_link(tmp_path: Path) -> None:
    p, made = build_project(sales_csv(tmp_path / "s.csv"))
    projects.archive(p.id)
    with pytest.raises(Conflict), projects.use(p.id):
        pass
    cleaning.apply_step(made["dataset"].id, {"op": "drop", "columns": ["price"]})
    assert len(projects.item_ids(p.id, "dataset_version")) == 2


def test_a_schedule_replays_a_template_on_the_latest_version_and_refuses_a_dataset_it_cannot_fit(
        tmp_path: Path) -> None:
    from jobs import schedules

    t = _template(tmp_path)
    ds = datasets.ingest_file(sales_csv(tmp_path / "n.csv"), name="new_sales")
    # A dataset without the template's columns is refused when the schedule is saved, and nothing is saved
    other = tmp_path / "o.csv"
    other.write_text("area,unit_count\nn,1\ns,2\n")
    bad = datasets.ingest_file(other, name="other")
    with pytest.raises(InvalidInput, match="closest: unit_count"):
        schedules.create("template.apply", t.id, every_minutes=60, params={"dataset_id": str(bad.id)})
    with pytest.raises(InvalidInput, match="needs the dataset"):
        schedules.create("template.apply", t.id, every_minutes=60)
    assert schedules.list_schedules() == []
    # A schedule that fits runs the template into a new project, recorded on its run
    s = schedules.create("template.apply", t.id, every_minutes=60, params={"dataset_id": str(ds.id)})
    assert s.target_label == "Sales template on new_sales"
    job = schedules.run_now(s.id)
    jobs.wait_idle(60)
    assert jobs.get_job(job.id).status == "succeeded", jobs.get_job(job.id).error
    (run,) = schedules.history(s.id)
    assert run.status == "succeeded" and run.result["steps"] == 4 and run.result["failed_steps"] == 0
    new = projects.get_project(run.result["project_id"])
    assert [r["status"] for r in new.meta["results"]] == ["ok"] * 4
