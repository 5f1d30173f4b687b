"""Document indexing as a job on the analysis queue (large PDFs, many slides)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core import rag
from core.progress import Progress
from jobs.registry import task


@task("rag.index", queue="analysis_tasks", title="Index document")
def index_document(params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """params: path (a staged upload or any readable file), name (optional), staged (delete the file after)."""
    path = Path(params["path"])
    try:
        doc = rag.add_document(path, name=params.get("name"), progress=progress)
    finally:
        if params.get("staged"):
            rag.discard_upload(path)
    return {"document_id": str(doc.id), "name": doc.name, "pages": doc.pages, "chunks": doc.chunks,
            "status": str(doc.status)}
