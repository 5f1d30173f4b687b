"""Ask questions of documents: PDF, Word, PowerPoint, text and Markdown, with page-level citations.

    from core import rag
    doc = rag.add_document("report.pdf")
    hits = rag.search("Q3 revenue", k=5)
    answer = rag.ask("What was Q3 revenue?")   # answer.text cites [1], [2] -> answer.citations

Offline by default (local embedding model, extractive answers); with OPENAI_API_KEY the
answers come from the configured LLM, grounded in the retrieved passages only.
"""

from core.rag.answer import NOT_FOUND, Answer, Citation, ask
from core.rag.documents import (
    count_documents,
    delete_document,
    discard_upload,
    find_duplicate,
    get_document,
    get_page,
    list_documents,
    needs_background,
    stage_upload,
)
from core.rag.indexing import add_document, stalled
from core.rag.parsers import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    NeedsOcr,
    UnsupportedDocument,
)
from core.rag.retrieve import Hit, search

__all__ = [
    "NOT_FOUND",
    "Answer",
    "Citation",
    "CorruptDocument",
    "EmptyDocument",
    "EncryptedDocument",
    "Hit",
    "NeedsOcr",
    "UnsupportedDocument",
    "add_document",
    "ask",
    "count_documents",
    "delete_document",
    "discard_upload",
    "find_duplicate",
    "get_document",
    "get_page",
    "list_documents",
    "needs_background",
    "search",
    "stage_upload",
    "stalled",
]
