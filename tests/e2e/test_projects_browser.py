"""Browser: a project from creation to a template re-run, and its notebook and report downloaded.

The import goes through the Datasets page while the project is current in the sidebar (so it joins
the project by the page's picker); the cleaning step, chart and test are made through `core` against
the app's own database (their pages have their own browser tests); the finding, archive, template,
re-run on a second dataset and the downloads go through the Projects and Archive pages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import wait_for_app, wait_for_cell
from tests.projects_data import sales_csv

pytestmark = pytest.mark.e2e


def _use_app_database(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import reload_settings
    from core.db import reset_engines

    monkeypatch.setenv("DATA_DIR", str(app.data_dir))
    reload_settings()
    reset_engines()


def _analyse(project_name: str) -> None:
    from core import charts, cleaning, datasets, projects, stats

    p = projects.get_project(project_name)
    ds = datasets.get_dataset("s")
    assert projects.item_ids(p.id, "dataset") == {ds.id}  # the browser import joined the current project
    with projects.use(p.id):
        ds = cleaning.apply_step(ds.id, {"op": "fill", "column": "units", "method": "median"})
        charts.save_chart(charts.make_chart("bar", ds.id, x="region", y="units"))
        stats.save_result(stats.run_test("ttest_ind", datasets.load_frame(ds.id), value="units", group="region"),
                          dataset_id=ds.id)


def _go(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True).click()
    wait_for_app(page)


def _upload(page, path: Path, *, first: bool = True) -> None:
    _go(page, "Datasets")
    if not first:  # with datasets stored, the import form is folded away
        page.get_by_text("Import data", exact=True).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]:not([accept="application/streamlit,.zip"])').set_input_files(str(path))
    page.get_by_role("button", name="Import", exact=True).click()
    wait_for_app(page)
    page.get_by_text(re.compile(f"upload: {path.name}")).wait_for()


def test_project_archive_template_and_downloads(app, page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a project created on the Projects page: it becomes the current project
    page.goto(app.page_url("Projects"))
    wait_for_app(page)
    page.get_by_role("textbox", name="Name", exact=True).wait_for(timeout=90_000)  # the first run imports a lot
    page.get_by_role("textbox", name="Name", exact=True).fill("Churn <b>study</b>")
    page.get_by_role("button", name="Create project").click()
    wait_for_app(page)
    page.get_by_text("Churn <b>study</b>").first.wait_for()  # shown as text
    # When data is imported on the Datasets page (opened from the navigation: the same session), then cleaned,
    # charted and tested
    _upload(page, sales_csv(tmp_path / "s.csv"))
    _use_app_database(app, monkeypatch)
    _analyse("Churn <b>study</b>")
    # And a finding is added, then the project archived
    _go(page, "Projects")
    page.get_by_role("tab", name="Notes").click()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Kind").click()
    page.get_by_role("option", name="finding").click()
    page.get_by_label("Note (Markdown)").fill("North sells more <script>x</script>")
    page.get_by_role("button", name="Add note").click()
    wait_for_app(page)
    page.get_by_text("North sells more <script>x</script>", exact=True).wait_for()  # as text, not HTML
    page.get_by_role("tab", name="Export & archive").click()
    with page.expect_download(timeout=90_000) as nb_download:
        page.get_by_role("button", name="Notebook (.ipynb)").click()
    with page.expect_download(timeout=90_000) as html_download:
        page.get_by_role("button", name="HTML report").click()
    page.get_by_role("button", name="Archive this project").click()
    page.get_by_text(re.compile("Archived Churn")).wait_for()
    # Then the downloads are a notebook with a parameters cell and a report with the finding as text
    nb = json.loads(Path(nb_download.value.path()).read_text())
    assert any("parameters" in c["metadata"].get("tags", []) for c in nb["cells"])
    report = Path(html_download.value.path()).read_text()
    assert "North sells more &lt;script&gt;" in report and "Welch Two Sample t-test" in report
    # When a template is made on the Archive page and applied to a second dataset as a job
    _upload(page, sales_csv(tmp_path / "n.csv", units="Units"), first=False)
    _go(page, "Archive")
    page.get_by_role("button", name="Make a template").click()
    page.get_by_text(re.compile("Template .* made with 3 step")).wait_for()
    page.get_by_role("tab", name="Templates").click()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Apply to dataset").click()
    page.get_by_role("option", name="n").click()
    wait_for_app(page)
    wait_for_cell(page, "Units", timeout=60_000)
    page.get_by_role("button", name="Apply as a background job").click()
    page.get_by_text("Done: the new project holds the results").wait_for(timeout=120_000)
    # Then the new project shows each result beside the template's
    from core import projects

    new = next(p for p in projects.list_projects() if p.meta.get("results"))
    assert [r["status"] for r in new.meta["results"]] == ["ok", "ok", "ok"]
