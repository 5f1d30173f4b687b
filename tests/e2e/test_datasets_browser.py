"""Browser: upload with a delimiter override and export download; URL import, clean, new version, rollback;
the dataset picker following an upload, a new version and a rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import import_file, running_app, upload_dataset, wait_for_app, wait_for_cell
from tests.integration.test_datasets_url import DataServer

pytestmark = pytest.mark.e2e


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def test_upload_with_delimiter_override_then_export(app, page, tmp_path: Path) -> None:
    # Given a semicolon file with decimal commas
    data = tmp_path / "towns.csv"
    data.write_text("town;area\nLyon;47,9\nNantes;65,2\n=HYPERLINK(1);1,5\n")
    page.goto(app.page_url("Datasets"))
    wait_for_app(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]:not([accept="application/streamlit,.zip"])').set_input_files(str(data))
    wait_for_app(page)
    # Then the detected options are shown
    page.get_by_text("Detected: delimiter").wait_for()
    assert "semicolon" in page.get_by_text("Detected: delimiter").inner_text()
    # When the analyst overrides the delimiter with a tab and imports
    choose(page, "Delimiter", "tab")
    wait_for_cell(page, "Lyon;47,9")  # the preview, read again with a tab: one column
    wait_for_app(page)
    page.get_by_role("button", name="Import", exact=True).click()
    # Then the dataset is stored and open, and the rows stay whole in a single column, as asked
    page.get_by_role("tab", name="Export").wait_for(timeout=60_000)
    wait_for_cell(page, "Lyon;47,9")
    # When the data is exported as CSV
    page.get_by_role("tab", name="Export").click()
    page.get_by_role("button", name="Prepare download").click()
    button = page.get_by_role("button", name="Download towns-v1.csv (3 rows)")
    with page.expect_download() as info:
        button.click()
    text = Path(info.value.path()).read_text()
    # Then the file has the rows, and the formula cell is neutralised
    assert "Nantes;65,2" in text and "'=HYPERLINK(1);1,5" in text


@pytest.fixture
def lan_app(tmp_path: Path):
    """The app of a deployment that allows URL imports from this machine (the test's data server)."""
    with running_app(tmp_path, {"URL_ALLOWED_HOSTS": "127.0.0.1"}) as running:
        yield running


def test_a_url_inside_the_network_is_refused_with_what_to_do(app, page) -> None:
    # Given the default app and a server on this machine's loopback address
    with DataServer() as server:
        page.goto(app.page_url("Datasets"))
        wait_for_app(page)
        page.get_by_role("tab", name="URL").click()
        # When an analyst asks to import from it (written as a decimal IP, as an attacker would)
        page.get_by_label("URL (http or https)").fill(server.url("/data.csv").replace("127.0.0.1", "2130706433"))
        page.get_by_label("URL (http or https)").press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Import URL").click()
        # Then the page says why and what to do, and the server was never reached
        page.get_by_text("points inside the network", exact=False).first.wait_for()
        page.get_by_text("URL_ALLOWED_HOSTS", exact=False).first.wait_for()
        assert server.requests == 0


def test_url_import_clean_new_version_and_rollback(lan_app, page) -> None:
    app = lan_app
    with DataServer() as server:
        page.goto(app.page_url("Datasets"))
        wait_for_app(page)
        page.get_by_role("tab", name="URL").click()
        page.get_by_label("URL (http or https)").fill(server.url("/data.csv"))
        page.get_by_label("URL (http or https)").press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Import URL").click()
        wait_for_cell(page, "Nantes")
    # When a derived column is added
    page.get_by_role("tab", name="Clean & versions").click()
    choose(page, "Step", "New column from an expression")
    page.get_by_label("New column", exact=True).fill("thousands")
    page.get_by_label("Expression (DuckDB)").fill("population / 1000")
    page.get_by_label("Expression (DuckDB)").press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Apply step (new version)").click()
    # Then version 2 is current and the history names the step
    page.get_by_text("version 2", exact=False).first.wait_for()
    wait_for_cell(page, "Added column thousands = population / 1000")
    wait_for_app(page)
    # When rolled back to version 1
    page.get_by_role("button", name="Roll back").click()
    page.get_by_text("Version 1 is current again.").wait_for()
    wait_for_app(page)
    assert page.get_by_text("· version 1 ·", exact=False).count() >= 1


def picker_text(page) -> str:
    """What the dataset picker displays."""
    return page.get_by_label("Dataset", exact=True).input_value()


def test_picker_follows_an_upload_a_new_version_and_a_rollback(app, page, tmp_path: Path) -> None:
    # Given one imported dataset
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("a,b\n1,2\n3,4\n")
    second.write_text("x,y,z\n1,2,3\n4,5,6\n7,8,9\n")
    upload_dataset(page, app, first, shows="3")
    assert "first" in picker_text(page)
    # When a second file is imported
    page.get_by_text("Import data", exact=True).click()
    import_file(page, second)
    wait_for_cell(page, "7")
    wait_for_app(page)
    # Then the picker shows it at once
    assert "second" in picker_text(page) and "(3 × 3)" in picker_text(page)
    # When a column is derived, then rolled back
    page.get_by_role("tab", name="Clean & versions").click()
    choose(page, "Step", "New column from an expression")
    page.get_by_label("New column", exact=True).fill("w")
    page.get_by_label("Expression (DuckDB)").fill("x + y")
    page.get_by_label("Expression (DuckDB)").press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Apply step (new version)").click()
    page.get_by_text("· version 2 ·", exact=False).first.wait_for()
    wait_for_app(page)
    # Then the picker's label has the new shape beside the caption
    assert "(3 × 4)" in picker_text(page)
    page.get_by_role("button", name="Roll back").click()
    page.get_by_text("3 rows × 3 columns · version 1", exact=False).first.wait_for()
    wait_for_app(page)
    assert "(3 × 3)" in picker_text(page)


def test_a_50_by_10000_csv_imports_renders_its_tabs_and_deletes(app, page, tmp_path: Path) -> None:
    # Given a 50-row x 10,000-column CSV (issue 19: the page never rendered past the preview)
    wide = tmp_path / "wide.csv"
    rows = [",".join(f"c{i}" for i in range(10_000))]
    rows += [",".join(str(r * 10_000 + i) for i in range(10_000)) for r in range(50)]
    wide.write_text("\n".join(rows) + "\n")
    # When it is uploaded
    upload_dataset(page, app, wide, shows="10001")
    wait_for_app(page)
    # Then the columns are listed a page at a time, and Delete is there
    page.get_by_role("tab", name="Columns").click()
    page.get_by_label("Find columns (part of the name)").wait_for()
    page.locator('p:has-text("Columns 1–50 of 10,000"):visible').first.wait_for()
    page.get_by_text("Delete this dataset").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_text("No datasets yet").wait_for()
