"""The tool registry over the Model Context Protocol (official `mcp` SDK, low-level server).

    python -m agents.mcp_server                       # stdio
    python -m agents.mcp_server --http --port 8765    # streamable HTTP at http://127.0.0.1:8765/mcp
    API_TOKENS=... python -m agents.mcp_server --http --host 0.0.0.0   # any other bind needs a token

Serves: every available tool (its pydantic JSON schema as the input schema), each dataset as
two resources (`dataset://<name>/schema`, `dataset://<name>/preview`), and a prompt per specialist.

Over HTTP the tools can train models and run SQL, so (`agents.http_guard`): a bind other than loopback, or
deployed mode, refuses to start without a token (API_TOKENS, the older MCP_TOKEN, or one issued with
`python -m core.tokens`); with a token set every request needs `Authorization: Bearer <token>` (compared as a
digest, through the SDK's bearer-auth middleware); and the SDK's DNS-rebinding protection stays on
for every bind, accepting only loopback Host names, the bound address and MCP_ALLOWED_HOSTS.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

from agents.http_guard import WILDCARD_BINDS, allowed_names, ensure_startable, host_name
from agents.http_guard import is_loopback as is_loopback  # re-exported: the MCP tests and older callers use it
from agents.specialists import SPECIALISTS
from agents.tools import ToolResult, available, run_tool
from core import tokens, users

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
TABLE_ROWS = 50


def _tool_text(result: ToolResult) -> str:
    text = result.text
    if result.sql:
        text += f"\n\nSQL:\n{result.sql}"
    if result.table is not None:
        text += f"\n\nTable ({len(result.table)} rows, first {TABLE_ROWS} as CSV):\n"
        text += result.table.head(TABLE_ROWS).to_csv(index=False)
    if result.figure is not None:
        text += "\n\n(A Plotly chart was made; its JSON is in the second content block.)"
    if result.job_id:
        text += f"\n\nJob id: {result.job_id}"
    return text


async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
    tools = [types.Tool(name=t.name, description=t.description, input_schema=t.spec()["function"]["parameters"])
             for t in available().values()]
    return types.ListToolsResult(tools=tools)


def caller(ctx: Any) -> str | None:
    """The user id a request's token belongs to (None: a service token, stdio, or loopback without one)."""
    scope = getattr(getattr(ctx, "request", None), "scope", None) or {}  # `request.user` asserts without auth
    token = getattr(scope.get("user"), "access_token", None)
    owner = str(getattr(token, "client_id", "") or "")
    return owner.removeprefix("user:") if owner.startswith("user:") else None


def _as(ctx: Any, fn: Any, *args: Any) -> Any:
    """Run `fn(*args)` in a worker thread as the caller's user (a token acts as the user it belongs to)."""
    user = caller(ctx)

    def run() -> Any:
        with users.acting_as(user):
            return fn(*args)

    return anyio.to_thread.run_sync(run)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    result = await _as(ctx, run_tool, params.name, params.arguments or {})
    content: list[Any] = [types.TextContent(text=_tool_text(result))]
    if result.figure is not None:
        content.append(types.TextContent(text=result.figure.to_json()))
    return types.CallToolResult(content=content, is_error=not result.ok)


def _datasets() -> list[Any]:
    from core import datasets

    return datasets.list_datasets()


async def list_resources(ctx: Any, _params: Any) -> types.ListResourcesResult:
    rows = await _as(ctx, _datasets)
    resources = []
    for d in rows:
        resources.append(types.Resource(name=f"{d.name} schema", uri=f"dataset://{d.name}/schema",
                                        description=f"Columns and types of {d.name} ({d.rows:,} rows)",
                                        mime_type="application/json"))
        resources.append(types.Resource(name=f"{d.name} preview", uri=f"dataset://{d.name}/preview",
                                        description=f"The first {PREVIEW_ROWS} rows of {d.name}",
                                        mime_type="text/csv"))
    return types.ListResourcesResult(resources=resources)


async def list_resource_templates(_ctx: Any, _params: Any) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=[
        types.ResourceTemplate(name="dataset schema", uri_template="dataset://{name}/schema",
                               mime_type="application/json"),
        types.ResourceTemplate(name="dataset preview", uri_template="dataset://{name}/preview",
                               mime_type="text/csv")])


def read_dataset(uri: str) -> tuple[str, str]:
    """The text and MIME type of a dataset resource URI; raises core.errors.NotFound or InvalidInput."""
    from agents import resolve
    from core import datasets
    from core.errors import InvalidInput

    if not uri.startswith("dataset://") or uri.count("/") != 3:
        raise InvalidInput(f"Unknown resource {uri!r}.", hint="Use dataset://<name>/schema or /preview.")
    name, part = uri.removeprefix("dataset://").split("/")
    ds = resolve.dataset(name)
    if part == "schema":
        return json.dumps({"name": ds.name, "id": str(ds.id), "rows": ds.rows, "version": ds.version,
                           "columns": ds.schema_}, indent=1), "application/json"
    if part == "preview":
        return datasets.preview(ds.id, limit=PREVIEW_ROWS).to_csv(index=False), "text/csv"
    raise InvalidInput(f"Unknown dataset resource {part!r}.", hint="Use schema or preview.")


async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    text, mime = await _as(ctx, read_dataset, str(params.uri))
    return types.ReadResourceResult(contents=[types.TextResourceContents(uri=str(params.uri), text=text,
                                                                         mime_type=mime)])


async def list_prompts(_ctx: Any, _params: Any) -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=[
        types.Prompt(name=s.key, title=s.name, description=f"The {s.name}: {s.summary}.",
                     arguments=[types.PromptArgument(name="question", description="What to ask", required=False)])
        for s in SPECIALISTS.values()])


async def get_prompt(_ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    from core.errors import NotFound

    spec = SPECIALISTS.get(params.name)
    if spec is None:
        raise NotFound(f"No prompt {params.name!r}.", hint=f"Prompts: {', '.join(SPECIALISTS)}")
    question = (params.arguments or {}).get("question", "")
    text = f"{spec.system_prompt()}\n\nTools to use: {', '.join(spec.tools)}."
    if question:
        text += f"\n\nQuestion: {question}"
    return types.GetPromptResult(description=spec.name, messages=[
        types.PromptMessage(role="user", content=types.TextContent(text=text))])


def build_server() -> Server:
    """The MCP server over the tool registry, the datasets and the specialists."""
    return Server("workbench", version="1.0", instructions="Data-science workbench tools: datasets, EDA, charts, "
                  "statistics, read-only SQL, model training jobs, documents.",
                  on_list_tools=list_tools, on_call_tool=call_tool, on_list_resources=list_resources,
                  on_list_resource_templates=list_resource_templates, on_read_resource=read_resource,
                  on_list_prompts=list_prompts, on_get_prompt=get_prompt)


async def _serve_stdio(server: Server) -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


class TokenVerifier:
    """The SDK's TokenVerifier over `core.tokens`: API_TOKENS, MCP_TOKEN or an issued token, by digest."""

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = await anyio.to_thread.run_sync(tokens.verify, token)
        if principal is None:
            return None
        return AccessToken(token="", client_id=principal.owner, scopes=[])


_host_name = host_name


def transport_security(host: str, port: int, extra: list[str]) -> TransportSecuritySettings:
    """DNS-rebinding protection for any bind: loopback names, the bound address (not a wildcard), `extra`."""
    names = allowed_names(host)
    hosts = [h for n in names for h in (n, f"{n}:*")] + extra
    origins = [f"{scheme}://{h}" for scheme in ("http", "https") for h in
               [o for n in names for o in (n, f"{n}:*")] + extra]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


def http_app(server: Server, *, host: str, port: int, allowed_hosts: list[str] | None = None) -> Starlette:
    """The streamable-HTTP app: a bearer token unless loopback in the embedded default, Host/Origin checks.

    Raises core.errors.InvalidInput when a token is needed (off loopback, deployed mode) and none is set.
    """
    required = ensure_startable(host, "MCP")
    security = transport_security(host, port, allowed_hosts or [])
    if not required:
        return server.streamable_http_app(host=host, transport_security=security)
    auth = AuthSettings(issuer_url=f"http://{_host_name(host if host not in WILDCARD_BINDS else '127.0.0.1')}"
                                   f":{port}", resource_server_url=None)
    return server.streamable_http_app(host=host, transport_security=security, auth=auth,
                                      token_verifier=TokenVerifier())


def main(argv: list[str] | None = None) -> None:
    from core.config import get_settings
    from core.errors import InvalidInput

    parser = argparse.ArgumentParser(prog="python -m agents.mcp_server", description=__doc__.splitlines()[0])
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="bind address; other than loopback needs API_TOKENS")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)  # stdout belongs to the protocol on stdio
    server = build_server()
    if not args.http:
        anyio.run(_serve_stdio, server)
        return
    import uvicorn

    extra = [h.strip() for h in get_settings().mcp_allowed_hosts.split(",") if h.strip()]
    try:
        app = http_app(server, host=args.host, port=args.port, allowed_hosts=extra)
    except InvalidInput as exc:
        parser.exit(2, f"error: {exc}\n")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
