"""MCP over HTTP: a bearer token for any bind off loopback, checked on every request; DNS-rebinding protection on
whatever the bind. A real `python -m agents.mcp_server --http` subprocess, the SDK's own client and raw HTTP; the
refusals to start run `-m agents.mcp_server` in processes forked from a zygote that imported the server once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.zygote import Zygote

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-0123456789abcdef"
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "attacker", "version": "1"}}}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data: Path, token: str = "") -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(data), "DATABASE_URL": "", "MCP_TOKEN": token,
            "MCP_ALLOWED_HOSTS": ""}


def _wait(port: int, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("server did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """An MCP HTTP server bound to all interfaces with MCP_TOKEN set (Host checks still apply)."""
    folder = tmp_path_factory.mktemp("mcp-auth")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "agents.mcp_server", "--http", "--host", "0.0.0.0",
                             "--port", str(port)], env=_env(folder / "data", TOKEN), cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _post(port: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/mcp", json=INITIALIZE, headers={**HEADERS, **headers}, timeout=10)


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer wrong", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}",
    f"Bearer {TOKEN.upper()}", f"Basic {TOKEN}", TOKEN, f"Bearer  {TOKEN}", f"Token {TOKEN}",
], ids=lambda a: repr(a)[:30])
def test_a_missing_or_wrong_token_gets_401_and_opens_no_session(server: int, authorization: str | None) -> None:
    # Given the server wants MCP_TOKEN; When a client initializes without it or with a wrong one
    headers = {} if authorization is None else {"Authorization": authorization}
    response = _post(server, headers)
    # Then 401 with a bearer challenge, and no MCP session was created (the request never reached the server)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "mcp-session-id" not in response.headers


@pytest.mark.parametrize(("headers", "status"), [
    ({"Host": "evil.example.com"}, 421),
    ({"Host": "evil.example.com:80"}, 421),
    ({"Host": "127.0.0.1.evil.example.com"}, 421),
    ({"Host": "localhost.evil.example.com:1234"}, 421),
    ({"Host": "0.0.0.0"}, 421),
    ({"Origin": "http://evil.example.com"}, 403),
    ({"Origin": "http://127.0.0.1.evil.example.com"}, 403),
], ids=lambda h: str(h)[:40])
def test_a_foreign_host_or_origin_is_refused_even_with_the_token(server: int, headers: dict, status: int) -> None:
    # Given a DNS-rebinding page (its Host or Origin is not ours), even holding the token
    response = _post(server, {"Authorization": f"Bearer {TOKEN}", **headers})
    # Then it is refused and no session is opened
    assert response.status_code == status, response.text
    assert "mcp-session-id" not in response.headers


def test_the_right_token_lists_and_calls_tools(server: int) -> None:
    async def scenario() -> tuple:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        async with http, Client(streamable_http_client(f"http://127.0.0.1:{server}/mcp", http_client=http)) as c:
            return await c.list_tools(), await c.call_tool("sql_query", {"sql": "SELECT 42 AS n"})

    tools, result = anyio.run(scenario)
    assert "sql_query" in {t.name for t in tools.tools}
    assert not result.is_error and "n\n42" in result.content[0].text


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """Forks `python -m agents.mcp_server` runs with the server's imports done once (seconds in a fresh interpreter)."""
    folder = tmp_path_factory.mktemp("mcp-zygote")
    with Zygote(["agents.mcp_server"], env=_env(folder / "data"), cwd=folder) as started:
        yield started


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.5", "example.org"])
def test_a_non_loopback_bind_without_a_token_refuses_to_start(tmp_path: Path, host: str, zygote: Zygote) -> None:
    # Given no MCP_TOKEN; When the server is asked to listen off loopback (a process of its own, as `python -m`)
    port = _free_port()
    out = zygote.run(["-m", "agents.mcp_server", "--http", "--host", host, "--port", str(port)],
                     env=_env(tmp_path / "data"), cwd=tmp_path, timeout=120)
    # Then it exits with a clear message naming the fix, and nothing listens on the port
    assert out.returncode == 2, out.stderr
    assert "needs a token" in out.stderr and "MCP_TOKEN" in out.stderr
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)


def test_loopback_binds_keep_dns_rebinding_protection_and_a_set_token(tmp_path: Path) -> None:
    from agents.mcp_server import build_server, http_app, is_loopback, transport_security

    # Given the address checks; Then loopback is only 127/8, ::1 and localhost
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("127.0.0.1.nip.io")
    # And the Host allow-list never holds a wildcard bind, whatever the bind
    for host in ("127.0.0.1", "0.0.0.0", "::"):
        security = transport_security(host, 8765, [])
        assert security.enable_dns_rebinding_protection
        assert not any(h.startswith(("0.0.0.0", "[::]")) for h in security.allowed_hosts)
    assert "127.0.0.2:*" in transport_security("127.0.0.2", 8765, []).allowed_hosts
    assert http_app(build_server(), host="127.0.0.1", port=8765) is not None
