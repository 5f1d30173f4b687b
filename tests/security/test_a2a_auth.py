"""A2A over HTTP: with a token set every JSON-RPC call needs it (the cards stay public), a foreign Host or
Origin is refused even with the token, and a bind off loopback without a token refuses to start."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from core.config import reload_settings
from tests.integration.a2a_helpers import free_port, serving

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "a2a-secret-token-0123456789abcdef"
LIST = {"jsonrpc": "2.0", "id": 1, "method": "ListTasks", "params": {}}
HEADERS = {"Content-Type": "application/json", "A2A-Version": "1.0"}
BAD_AUTH = [None, "", "Bearer", "Bearer wrong", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN.upper()}",
            f"Basic {TOKEN}", TOKEN, f"Bearer  {TOKEN}", f"Token {TOKEN}"]


def test_tokens_hosts_and_origins_on_every_jsonrpc_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the server bound to every interface with API_TOKENS set
    monkeypatch.setenv("API_TOKENS", TOKEN)
    reload_settings()
    with serving("0.0.0.0") as base:
        def post(path: str, auth: str | None, **headers: str) -> httpx.Response:
            extra = {} if auth is None else {"Authorization": auth}
            return httpx.post(f"{base}{path}", json=LIST, headers={**HEADERS, **extra, **headers}, timeout=30)

        refused = {repr(a): post(p, a) for a in BAD_AUTH for p in ("/", "/agents/sql_expert/")}
        granted = post("/agents/sql_expert/", f"Bearer {TOKEN}")
        card = httpx.get(f"{base}/agents/sql_expert/.well-known/agent-card.json", timeout=30)
        foreign = [post("/", f"Bearer {TOKEN}", Host=h) for h in ("evil.example.com", "127.0.0.1.evil.example.com")]
        cross = post("/", f"Bearer {TOKEN}", Origin="http://evil.example.com")
    # Then a missing or wrong token gets 401 with a bearer challenge, on the workbench and a specialist
    for name, response in refused.items():
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in response.text
    # And the right token is served; the card is public and says how to authenticate
    assert granted.status_code == 200 and granted.json()["result"]["tasks"] == []
    assert card.status_code == 200 and "bearer" in card.json()["securitySchemes"]
    # And a DNS-rebinding Host or a foreign Origin is refused even with the token
    assert [r.status_code for r in foreign] == [421, 421] and cross.status_code == 403


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_a_non_loopback_bind_without_a_token_refuses_to_start(host: str, capsys: pytest.CaptureFixture) -> None:
    from agents.a2a_server import main

    # Given no API_TOKENS (nor MCP_TOKEN); When `python -m agents.a2a_server --host <not loopback>` starts
    port = free_port()
    with pytest.raises(SystemExit) as stopped:
        main(["--host", host, "--port", str(port)])
    # Then it exits 2 with a message naming the fix, and nothing listens on the port
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "needs a token" in err and "API_TOKENS" in err
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
