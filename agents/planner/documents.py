"""Intent: the documents. Questions to the uploaded documents and searches for passages."""

from __future__ import annotations

import re

from agents.planner.parse import Ctx
from agents.reply import ToolCall

DOC_WORDS = (r"\b(documents?|docs|pdfs?|the (report|paper|manual|contract|policy|handbook)|uploaded files?|"
             r"according to|knowledge base)\b")


def rule_documents(ctx: Ctx) -> list[ToolCall] | None:
    if not ctx.has(DOC_WORDS):
        return None
    if ctx.has(r"^(search|find|look up|locate|show)\b|\b(passages?|excerpts?|snippets?)\b|\bmention(s|ed)?\b"):
        query = re.search(r"(?i)^(?>.*?\b(?:for|about|on|mentioning|regarding|that mention)\s+)(.+)", ctx.text.rstrip("\n").rsplit("\n", 1)[-1])
        return ctx.call("search_documents", query=(query.group(1) if query else ctx.text).strip(" ?.!"))
    question = re.sub(r"(?i)^(ask|check|query)\s+(the\s+)?(documents?|docs)\s*[:,\-]?\s*", "", ctx.text)
    return ctx.call("query_documents", question=question.strip() or ctx.text)


DATA_WORDS = (r"\b(sql|select|plot|chart|graph|histogram|scatter|train|model|predict|job|dataset|datasets|rows|"
              r"columns?|test|anova|correlat\w*|average|mean of|sum of|missing|outliers?)\b")


def rule_documents_page(ctx: Ctx) -> list[ToolCall] | None:
    """On the Documents page a question goes to the documents first, unless it is plainly about the data."""
    if (ctx.page or "").strip().lower() != "documents" or ctx.ds_span or (ctx.mentions and ctx.has(DATA_WORDS)):
        return None
    return ctx.call("query_documents", question=ctx.text)


DEFINITION = (r"^\s*(what|whats|what's)\s+(does|do|is|are)\s+(the\s+)?(?P<term>.+?)\s+"
              r"(mean|means|stand for|stands for|refer to|refers to)\s*\W*$"
              r"|^\s*(define|definition of|meaning of|what is meant by)\s+(?P<term2>.+?)\s*\W*$")


def rule_definition(ctx: Ctx) -> list[ToolCall] | None:
    """"What does PTRATIO mean?": the meaning of a term is in the documents (a codebook), not in the numbers."""
    if re.search(DEFINITION, ctx.text, re.IGNORECASE) is None:
        return None
    return ctx.call("query_documents", question=ctx.text)
