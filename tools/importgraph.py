"""The project's import graph, read from the source with `ast`: who imports whom, and the circles.

Used by the architecture test (no module may be in an import circle) and by `make docs`, which
writes the layer and module pictures in `docs/architecture.md` from the same graph.
Every import counts, at module level or inside a function: a lazy import is still a dependency.
Imports under `if TYPE_CHECKING:` do not count (they never run). A submodule's implicit import
of its parent package is not an edge, as in grimp and pydeps.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "jobs", "agents", "ui")
LAYERS = ("pages", "ui", "agents", "jobs", "core")


def module_files(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Map every module name under `packages` to its file (`pkg/__init__.py` is `pkg`)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = _base(module, path.name == "__init__.py", node)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in known:  # `import a.b.c` of a non-module attribute: its module
            name = name.rpartition(".")[0]
        if name:
            found.add(name)
    return found


def build(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """The import graph: module -> the project modules it imports."""
    files = module_files(root, packages)
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        edges: set[str] = set()
        for node in _import_nodes(tree):
            edges |= _targets(module, path, node, known)
        graph[module] = edges - {module}
    return graph


def within(package: str, root: Path = ROOT) -> dict[str, set[str]]:
    """The graph of one (sub)package, such as 'core.stats': its modules and the edges among them."""
    graph = build(root, [package.split(".")[0]])
    inside = {m for m in graph if m == package or m.startswith(package + ".")}
    return {m: graph[m] & inside for m in inside}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def layer_edges(root: Path = ROOT) -> set[tuple[str, str]]:
    """Which top-level layer imports which (pages are scripts, read as one layer)."""
    graph = build(root, LAYERS[1:])
    edges = {(a.split(".")[0], b.split(".")[0]) for a, targets in graph.items() for b in targets}
    known = set(module_files(root, LAYERS[1:]))
    for path in sorted([root / "Home.py", *(root / "pages").glob("*.py")]):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in _import_nodes(tree):
            edges |= {("pages", t.split(".")[0]) for t in _targets("pages.script", path, node, known)}
    return {(a, b) for a, b in edges if a != b}


def _node_id(name: str) -> str:
    return name.replace(".", "_")


def mermaid_layers(root: Path = ROOT) -> str:
    """A Mermaid flowchart of the layers and the imports between them."""
    lines = ["flowchart TD"]
    lines += [f"    {layer}[{layer}]" for layer in LAYERS]
    lines += [f"    {a} --> {b}" for a, b in sorted(layer_edges(root))]
    return "\n".join(lines)


def mermaid_package(package: str, root: Path = ROOT) -> str:
    """A Mermaid flowchart of the modules of one package and the imports among them."""
    graph = build(root, [package])
    groups: dict[str, set[str]] = {}
    for module in graph:
        parts = module.split(".")
        groups.setdefault(".".join(parts[:2]) if len(parts) > 2 else module, set()).add(module)
    collapse = {m: group for group, members in groups.items() for m in members}
    edges = {(collapse[a], collapse[b]) for a, targets in graph.items() for b in targets}
    lines = ["flowchart LR"]
    lines += [f"    {_node_id(g)}[{g}]" for g in sorted(groups)]
    lines += [f"    {_node_id(a)} --> {_node_id(b)}" for a, b in sorted(edges) if a != b]
    return "\n".join(lines)
