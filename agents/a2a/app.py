"""The A2A HTTP app: seven agents (the routing workbench at `/`, each specialist at `/agents/<key>/`), each
with its agent card at the well-known path and a JSON-RPC endpoint, behind `agents.http_guard`.

Before the SDK sees a request: Host/Origin checks and the bearer token (`Guard`), a JSON content type
(415 otherwise), a body no bigger than A2A_MAX_REQUEST_KB (413) and known enum values (-32602); before a
message runs, `checks` refuses parts and output modes we cannot serve (-32005). The agent cards stay public,
as the protocol expects: they say how to authenticate, and list skills, nothing else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from a2a.server.agent_execution import SimpleRequestContextBuilder
from a2a.server.agent_execution.active_task import TERMINAL_TASK_STATES
from a2a.server.context import ServerCallContext
from a2a.server.events import Event
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.server.routes import create_agent_card_routes
from a2a.server.routes.jsonrpc_dispatcher import JsonRpcDispatcher
from a2a.types.a2a_pb2 import CancelTaskRequest, GetTaskRequest, Message, SendMessageRequest, Task, TaskState
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH
from a2a.utils.errors import InvalidParamsError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from agents.a2a.cards import WORKBENCH, agent_path, cards
from agents.a2a.checks import check_message, unknown_enum
from agents.a2a.executor import WorkbenchExecutor, cancel_job
from agents.a2a.store import DbTaskStore, FreshIds
from agents.http_guard import WILDCARD_BINDS, Guard, host_name

log = logging.getLogger(__name__)

JOB_STATES = {"succeeded": TaskState.TASK_STATE_COMPLETED, "failed": TaskState.TASK_STATE_FAILED,
              "cancelled": TaskState.TASK_STATE_CANCELED}


class WorkbenchRequestHandler(DefaultRequestHandlerV2):
    """The SDK's handler, plus job-backed tasks that no live executor follows (the server restarted):
    GetTask brings their state up to date from the job row, CancelTask cancels their job."""

    def __init__(self, *, agent: str, card: Any) -> None:
        fresh = FreshIds()
        self.store = DbTaskStore(agent, fresh)
        super().__init__(agent_executor=WorkbenchExecutor(agent, fresh), task_store=self.store, agent_card=card,
                         request_context_builder=SimpleRequestContextBuilder(task_id_generator=fresh,
                                                                             context_id_generator=fresh))

    async def on_message_send(self, params: SendMessageRequest, context: ServerCallContext) -> Message | Task:
        check_message(params)
        return await super().on_message_send(params, context)

    async def on_message_send_stream(self, params: SendMessageRequest,
                                     context: ServerCallContext) -> AsyncGenerator[Event, None]:
        check_message(params)
        async for event in super().on_message_send_stream(params, context):
            yield event

    async def _orphan(self, task_id: str, context: ServerCallContext) -> tuple[Task, str] | None:
        task = await self.task_store.get(task_id, context)
        if task is None or task.status.state in TERMINAL_TASK_STATES or "job_id" not in task.metadata.fields:
            return None
        if await self._active_task_registry.get(task_id) is not None:
            return None
        return task, task.metadata.fields["job_id"].string_value

    async def on_get_task(self, params: GetTaskRequest, context: ServerCallContext) -> Task | None:
        orphan = await self._orphan(params.id, context)
        if orphan is not None:
            await self._sync_with_job(*orphan, context)
        return await super().on_get_task(params, context)

    async def _sync_with_job(self, task: Task, job_id: str, context: ServerCallContext) -> None:
        import jobs
        from core.errors import NotFound

        try:
            job = await anyio.to_thread.run_sync(jobs.get_job, job_id)
        except NotFound:
            job = None
        state = JOB_STATES.get(job.status) if job else TaskState.TASK_STATE_FAILED
        if state is None:
            return
        task.status.state = state
        task.status.timestamp.GetCurrentTime()
        task.status.message.parts[:] = []
        task.status.message.parts.add().text = (f"Job {job_id} {job.status}." if job else f"Job {job_id} is gone.")
        await self.task_store.save(task, context)

    async def on_cancel_task(self, params: CancelTaskRequest, context: ServerCallContext) -> Task | None:
        orphan = await self._orphan(params.id, context)
        if orphan is not None:
            await anyio.to_thread.run_sync(cancel_job, orphan[1])
        return await super().on_cancel_task(params, context)


class Dispatcher(JsonRpcDispatcher):
    """The SDK's JSON-RPC dispatcher, refusing (-32602) an enum value it would otherwise read as unset."""

    async def handle_requests(self, request: Request) -> Response:
        try:
            body = await request.json()  # kept on the request: the SDK reads it again without parsing
        except ValueError:
            body = None
        method = body.get("method") if isinstance(body, dict) else None
        model = self.METHOD_TO_MODEL.get(method) if isinstance(method, str) else None
        params = body.get("params") if model is not None else None
        why = unknown_enum(params, model.DESCRIPTOR) if isinstance(params, dict) else None
        if why:
            rid = body.get("id")
            rid = rid if isinstance(rid, str | int) and not isinstance(rid, bool) else None
            return self._generate_error_response(rid, InvalidParamsError(message=why))
        return await super().handle_requests(request)


class BodyRules:
    """ASGI middleware: JSON-RPC posts must be JSON and at most `limit` bytes (checked before reading)."""

    def __init__(self, app: Any, *, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("application/json", "application/a2a+json"):
            await _error(send, 415, -32600, "Send JSON-RPC requests with Content-Type: application/json.")
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            await _error(send, 413, -32600, f"The request is over {self.limit // 1024} KB (A2A_MAX_REQUEST_KB).")
            return
        received = 0

        async def limited() -> Any:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _error(send, 413, -32600, f"The request is over {self.limit // 1024} KB (A2A_MAX_REQUEST_KB).")


class _TooLarge(Exception):
    pass


async def _error(send: Any, status: int, code: int, message: str) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def build_app(*, host: str, port: int, required: bool, public_url: str = "", extra_hosts: list[str] | None = None,
              max_request_kb: int = 1024) -> Starlette:
    """The Starlette app serving the seven agents; `required`: whether requests need a bearer token."""
    base = public_url.rstrip("/") or f"http://{host_name(host if host not in WILDCARD_BINDS else '127.0.0.1')}:{port}"
    handlers: list[WorkbenchRequestHandler] = []
    routes: list[Any] = []
    open_paths: list[str] = []
    for key, card in cards(base, secured=required).items():
        handler = WorkbenchRequestHandler(agent=key, card=card)
        handlers.append(handler)
        rpc = Route("/", endpoint=Dispatcher(request_handler=handler).handle_requests, methods=["POST"])
        inner = [*create_agent_card_routes(card), rpc]
        open_paths.append(agent_path(key) + AGENT_CARD_WELL_KNOWN_PATH)
        if key == WORKBENCH:
            routes = inner + routes
        else:
            routes.append(Mount(agent_path(key), routes=inner))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        for handler in handlers:
            await handler.aclose()
            await handler.store.flush()

    app = Starlette(routes=routes, lifespan=lifespan)
    limited = BodyRules(app, limit=max_request_kb * 1024)
    return Guard(limited, required=required, host=host, extra_hosts=extra_hosts or [],  # type: ignore[return-value]
                 open_paths=tuple(open_paths))
