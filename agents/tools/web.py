"""The web-search tool (SerpAPI), offered only when SERPAPI_API_KEY is set."""

from __future__ import annotations

import pandas as pd

from agents.tools.registry import QueryArgs, ToolResult


def web_search(args: QueryArgs) -> ToolResult:
    import httpx

    from core.config import get_settings
    from core.errors import ConnectionFailed

    s = get_settings()
    params = {"q": args.query, "engine": "google", "api_key": s.serpapi_api_key.get_secret_value()}
    try:
        resp = httpx.get(s.serpapi_url, params=params, timeout=s.url_timeout_s)
        data = resp.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ConnectionFailed(f"The web search service could not be reached ({type(exc).__name__}).") from exc
    if resp.status_code >= 400 or data.get("error"):
        raise ConnectionFailed(f"The web search failed: {data.get('error') or f'HTTP {resp.status_code}'}",
                               hint="Check SERPAPI_API_KEY and SERPAPI_URL in the settings.")
    hits = [{"title": r.get("title", ""), "link": r.get("link", ""), "snippet": r.get("snippet", "")}
            for r in data.get("organic_results", [])[:5]]
    if not hits:
        return ToolResult(f"The web search for {args.query!r} found nothing.")
    text = "\n".join(f"- {h['title']} ({h['link']}): {h['snippet']}" for h in hits)
    return ToolResult(f"Web results for {args.query!r}:\n{text}", table=pd.DataFrame(hits))


def serpapi_configured() -> bool:
    from core.config import get_settings

    key = get_settings().serpapi_api_key
    return bool(key and key.get_secret_value())
