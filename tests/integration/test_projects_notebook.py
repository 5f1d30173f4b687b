"""The exported notebook re-does the project on a clean data folder (nbclient) and gets the stored results."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from core import datasets, ml, projects
from tests.projects_data import build_project, sales_csv

ROOT = Path(__file__).resolve().parents[2]


def test_exported_notebook_reproduces_counts_statistics_and_scores(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a project with an import, a cleaning step, a chart, a test, a SQL query and a training run
    p, made = build_project(sales_csv(tmp_path / "s.csv"))
    with projects.use(p.id):
        ml.train(made["dataset"].id, target="price", models=["linear_regression"], cv=2)
    expected = projects.expected_results(p.id)
    nb = nbformat.reads(projects.export(p.id, format="ipynb").decode(), as_version=4)
    # When it runs in a fresh kernel on a clean data folder, set as papermill would (a cell after `parameters`)
    clean = tmp_path / "clean-data"
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(f"DATA_DIR = {str(clean)!r}",
                                                      metadata={"tags": ["injected-parameters"]}))
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    # Then its results equal the stored ones, and it wrote only to the clean folder
    printed = nb.cells[-1].outputs[0]["text"]
    got = json.loads(printed)
    assert set(got) == set(expected)
    for item_id, want in expected.items():
        for key in ("rows", "columns"):
            if key in want:
                assert got[item_id][key] == want[key]
        for key in ("p_value", "statistic", "effect_size", "score"):
            if want.get(key) is not None:
                assert got[item_id][key] == pytest.approx(want[key], rel=1e-6, abs=1e-9)
    assert (clean / "workbench.db").is_file()
    assert [d.name for d in datasets.list_datasets()] == ["sales"]  # the original data folder is untouched
