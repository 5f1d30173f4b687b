"""Browser: a project from creation to a template re-run, and its notebook and report downloaded.

Every step goes through the pages, as an analyst makes it, while the project is current in the sidebar:
import and a cleaning step on the Datasets page, a chart saved on Visualize, a Welch t-test saved on Analyze,
a decision tree trained on Models, a finding, the archive, the template, its re-run on a second dataset and
the downloads on the Projects and Archive pages. `core` is read only to check what was stored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import import_file, wait_for_app, wait_for_cell
from tests.projects_data import sales_csv

pytestmark = pytest.mark.e2e


def _use_app_database(app, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import reload_settings
    from core.db import reset_engines

    monkeypatch.setenv("DATA_DIR", str(app.data_dir))
    reload_settings()
    reset_engines()


def _choose(page, label: str, option: str | re.Pattern) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    wait_for_app(page)


def _analyse_in_the_pages(page) -> None:
    """A derived column on Datasets, a chart saved on Visualize, a t-test saved on Analyze, a model on Models."""
    _go(page, "Datasets")
    page.get_by_role("tab", name="Clean & versions").click()
    _choose(page, "Step", "New column from an expression")
    page.get_by_label("New column", exact=True).fill("double_units")
    page.get_by_label("Expression (DuckDB)").fill("units * 2")
    page.get_by_label("Expression (DuckDB)").press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Apply step (new version)").click()
    page.get_by_text("version 2", exact=False).first.wait_for()
    _go(page, "Visualize")
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_role("button", name="Save to gallery").click()
    wait_for_app(page)
    _go(page, "Analyze")
    _choose(page, "Test", re.compile(r"\(ttest_ind\)"))
    page.get_by_role("button", name="Run test").click()
    page.get_by_text("Welch Two Sample t-test").first.wait_for()
    page.get_by_role("button", name="Save result").click()
    wait_for_app(page)
    _go(page, "Models")
    _choose(page, "Target (what to predict)", re.compile("^price$"))
    models = page.get_by_role("combobox", name=re.compile("Models"))  # the list is virtual: type to find one
    models.click()
    models.fill("Decision")
    page.get_by_role("option", name="Decision tree", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_label("CV folds").fill("2")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Open the best model").wait_for(timeout=120_000)


def _go(page, name: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True).click()
    wait_for_app(page)


def _upload(page, path: Path, *, first: bool = True) -> None:
    _go(page, "Datasets")
    if not first:  # with datasets stored, the import form is folded away
        page.get_by_text("Import data", exact=True).click()
        wait_for_app(page)  # the unfolded form's uploader exists only once that rerun is over
    import_file(page, path)


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
    _analyse_in_the_pages(page)
    _use_app_database(app, monkeypatch)
    from core import datasets, projects

    p = projects.get_project("Churn <b>study</b>")
    assert {kind: len(projects.item_ids(p.id, kind)) for kind in ("dataset", "chart", "test", "run", "model")} == {
        "dataset": 1, "chart": 1, "test": 1, "run": 1, "model": 1}, "every item made in the pages joined the project"
    assert datasets.get_dataset("s").version == 2
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
    page.get_by_text(re.compile("Template .* made with 4 step")).wait_for()
    page.get_by_role("tab", name="Templates").click()
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Apply to dataset").click()
    page.get_by_role("option", name="n").click()
    wait_for_app(page)
    wait_for_cell(page, "Units", timeout=60_000)
    page.get_by_role("button", name="Apply as a background job").click()
    page.get_by_text("Done: the new project holds the results").wait_for(timeout=120_000)
    # Then the new project shows each result beside the template's
    new = next(p for p in projects.list_projects() if p.meta.get("results"))
    assert [r["status"] for r in new.meta["results"]] == ["ok", "ok", "ok", "ok"], [(r["kind"], r.get("error") or r.get("message")) for r in new.meta["results"]]
