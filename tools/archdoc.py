"""`make docs`: rewrite the generated pictures in docs/architecture.md from the import graph.

The prose around them is written by hand; each picture sits between
`<!-- generated:NAME -->` and `<!-- /generated:NAME -->` and is replaced whole.
"""

from __future__ import annotations

import re
import sys

from tools import importgraph

DOC = importgraph.ROOT / "docs" / "architecture.md"
PICTURES = {"layers": importgraph.mermaid_layers,
            **{p: (lambda p=p: importgraph.mermaid_package(p)) for p in importgraph.PACKAGES}}


def block(name: str) -> str:
    """The generated block for one picture, markers included."""
    return f"<!-- generated:{name} -->\n```mermaid\n{PICTURES[name]()}\n```\n<!-- /generated:{name} -->"


def render(doc: str) -> str:
    """The document with every generated block replaced by a fresh one."""
    for name in PICTURES:
        pattern = re.compile(rf"<!-- generated:{name} -->.*?<!-- /generated:{name} -->", re.S)
        doc = pattern.sub(lambda _m, name=name: block(name), doc)
    return doc


def main() -> int:
    DOC.write_text(render(DOC.read_text()))
    sys.stdout.write(f"wrote {DOC.relative_to(importgraph.ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
