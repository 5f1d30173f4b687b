"""Helpers for the A2A tests: the server on a free loopback port (uvicorn in a thread), the SDK's client."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# isort: off
import agents.a2a  # noqa: F401  (first: it sets the SDK's defaults, as the server does, before the SDK loads)

# isort: on
import httpx
import uvicorn
from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import Message, Part, Role, SendMessageConfiguration, SendMessageRequest

from agents.a2a_server import make_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(host: str = "127.0.0.1") -> Iterator[str]:
    """`python -m agents.a2a_server`'s app, served on loopback in this process; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(make_app(host, port), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise AssertionError("the A2A server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def request(text: str, **config: Any) -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])
    return SendMessageRequest(message=message, configuration=SendMessageConfiguration(**config))


async def client(http: httpx.AsyncClient, url: str, *, streaming: bool) -> Any:
    """The SDK's client for the agent at `url`, built from its card."""
    card = await A2ACardResolver(http, url).get_agent_card()
    return ClientFactory(ClientConfig(httpx_client=http, streaming=streaming)).create(card)


async def collect(c: Any, req: SendMessageRequest) -> list[Any]:
    return [r async for r in c.send_message(req)]


def status_texts(responses: list[Any]) -> list[str]:
    return [" ".join(p.text for p in r.status_update.status.message.parts)
            for r in responses if r.WhichOneof("payload") == "status_update"]
