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
