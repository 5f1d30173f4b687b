"""The dependency rule: pages -> ui -> (agents, jobs, core); agents -> (jobs, core); jobs -> core."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "core": {"streamlit", "ui", "pages", "agents", "jobs"},
    "jobs": {"streamlit", "ui", "pages", "agents"},
    "agents": {"streamlit", "ui", "pages"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upwards(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package]) for f in files
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}, f"{package} breaks the dependency rule: {offenders}"


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom streamlit import session_state\nimport ui.chat\n")
    assert imported_roots(bad) & FORBIDDEN["core"] == {"streamlit", "ui"}


def test_no_exec_or_eval_anywhere() -> None:
    offenders = []
    for package in ("core", "jobs", "agents", "ui", "pages"):
        for f in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval"):
                    offenders.append(f"{f.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_no_import_circles() -> None:
    from tools import importgraph

    found = importgraph.circles(importgraph.build())
    assert found == [], "modules that import each other (directly or round a loop): " + "; ".join(
        " <-> ".join(c) for c in found)


def test_the_circle_finder_sees_lazy_imports_and_ignores_type_checking(tmp_path: Path) -> None:
    from tools import importgraph

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    (pkg / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    (pkg / "e.py").write_text("from pkg.a import thing\n")
    graph = importgraph.build(tmp_path, ["pkg"])
    assert importgraph.circles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert graph["pkg.d"] == set() and graph["pkg.e"] == {"pkg.a"}


def test_architecture_doc_shows_the_layers_as_the_code_has_them() -> None:
    from tools import archdoc

    doc = (ROOT / "docs" / "architecture.md").read_text()
    assert archdoc.block("layers") in doc, "docs/architecture.md is out of date: run `make docs`"


def test_layers_only_point_down() -> None:
    from tools import importgraph

    order = {layer: rank for rank, layer in enumerate(importgraph.LAYERS)}
    upward = sorted((a, b) for a, b in importgraph.layer_edges() if order[b] <= order[a])
    assert upward == []
