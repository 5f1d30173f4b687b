"""Tools over the uploaded documents: answer a question with citations, find matching passages."""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field

from agents.tools.registry import Args, QueryArgs, ToolResult


class QuestionArgs(Args):
    question: str = Field(description="The question to answer from the documents.")


def query_documents(args: QuestionArgs) -> ToolResult:
    from core import rag

    ans = rag.ask(args.question)
    rows = [{"citation": c.number, **_hit_row(c.hit)} for c in ans.citations]
    return ToolResult(ans.text, table=pd.DataFrame(rows) if rows else None)


def _hit_row(hit: Any) -> dict[str, Any]:
    document = getattr(hit, "document", "")
    return {"document": str(getattr(document, "name", document) or ""), "page": getattr(hit, "page", None),
            "score": round(float(getattr(hit, "score", 0.0) or 0.0), 3), "text": str(hit.text)[:500]}


def search_documents(args: QueryArgs) -> ToolResult:
    from core import rag

    hits = rag.search(args.query, k=5)
    if not hits:
        return ToolResult("No passage in the documents matches that.")
    table = pd.DataFrame([_hit_row(h) for h in hits])
    text = "\n".join(f"- {r.document} p.{r.page}: {r.text[:200]}" for r in table.itertuples())
    return ToolResult(f"{len(hits)} passage(s) found:\n{text}", table=table)

