"""API tokens (digests only, settings and issued), the HTTP guard's Host/Origin/bearer parsing, event sinks."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlmodel import select

from agents import events
from agents.http_guard import Guard, bearer, ensure_startable, token_required
from core import tokens
from core.config import reload_settings
from core.db import session
from core.errors import InvalidInput
from core.models.protocols import ApiToken

TOKEN = "settings-token-0123456789"


def test_settings_tokens_and_the_old_mcp_token_verify_others_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKENS", f"{TOKEN}, second-token-abcdefghijk")
    monkeypatch.setenv("MCP_TOKEN", "legacy-mcp-token-9876543210")
    reload_settings()
    assert tokens.verify(TOKEN) and tokens.verify("second-token-abcdefghijk")
    assert tokens.verify("legacy-mcp-token-9876543210")
    for bad in (None, "", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), f" {TOKEN}", "second-token-abcdefghijk,"):
        assert tokens.verify(bad) is None, bad
    # the principal names the token by a digest prefix, never by the token
    assert TOKEN not in tokens.verify(TOKEN).owner


def test_a_short_settings_token_is_refused_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKENS", "short")
    reload_settings()
    with pytest.raises(InvalidInput, match="shorter than 16"):
        tokens.verify("short")


def test_issued_tokens_are_stored_as_digests_and_can_be_revoked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    row, clear = tokens.issue("ci robot", user="ana")
    with session() as s:
        stored = s.exec(select(ApiToken)).all()
    assert [r.digest for r in stored] == [tokens.digest(clear)] and clear not in repr(stored[0].model_dump())
    principal = tokens.verify(clear)
    assert principal is not None and principal.owner == "user:ana"
    tokens.revoke(row.id)
    assert tokens.verify(clear) is None
    assert clear not in caplog.text
    with pytest.raises(InvalidInput):
        tokens.issue("  ")


def test_tokens_are_needed_off_loopback_and_in_deployed_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not token_required("127.0.0.1") and not ensure_startable("127.0.0.1", "A2A")
    with pytest.raises(InvalidInput, match="needs a token"):
        ensure_startable("0.0.0.0", "A2A")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/8")
    reload_settings()
    with pytest.raises(InvalidInput, match="deployed mode"):
        ensure_startable("127.0.0.1", "A2A")
    monkeypatch.setenv("API_TOKENS", TOKEN)
    reload_settings()
    assert ensure_startable("0.0.0.0", "A2A") and ensure_startable("127.0.0.1", "MCP")


@pytest.mark.parametrize(("header", "token"), [
    (b"Bearer abc", "abc"), (b"bearer abc", None), (b"Bearer", None), (b"Bearer  abc", None), (b"Basic abc", None),
    (b"abc", None), (b"Bearer abc ", None), (b"Token abc", None),
])
def test_only_an_exact_bearer_header_carries_a_token(header: bytes, token: str | None) -> None:
    assert bearer([(b"authorization", header)]) == token
    assert bearer([(b"authorization", header), (b"authorization", header)]) is None


@pytest.mark.parametrize(("host", "ok"), [
    ("127.0.0.1:8766", True), ("localhost", True), ("[::1]:80", True), ("agents.example.org", True),
    ("10.0.0.5:8766", True), ("10.0.0.5:1", False), ("evil.example.com", False), ("127.0.0.1.evil.example.com", False),
    ("localhost.evil.example.com:1234", False), ("0.0.0.0", False), ("", False),
])
def test_host_names_this_server_or_is_refused(host: str, ok: bool) -> None:
    guard = Guard(None, required=True, host="0.0.0.0", extra_hosts=["agents.example.org", "10.0.0.5:8766"])
    assert guard._host_ok(host) is ok
    assert guard._origin_ok(f"http://{host}") is ok
    assert not guard._origin_ok("null") and not guard._origin_ok(f"ftp://{host}")


def test_event_sinks_are_per_thread_and_a_failing_sink_is_dropped() -> None:
    seen: dict[str, list] = {"a": [], "b": []}

    def run(name: str) -> None:
        with events.listening(seen[name].append):
            for i in range(50):
                events.emit(events.TextChunk(f"{name}{i}"))

    threads = [threading.Thread(target=run, args=(n,)) for n in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [e.text for e in seen["a"]] == [f"a{i}" for i in range(50)]
    assert all(e.text.startswith("b") for e in seen["b"]) and len(seen["b"]) == 50

    calls = []

    def broken(ev: events.Event) -> None:
        calls.append(ev)
        raise RuntimeError("viewer gone")

    with events.listening(broken):
        events.emit(events.TextChunk("x"))
        events.emit(events.TextChunk("y"))  # dropped after the first failure, no exception
    assert len(calls) == 1


def test_the_compose_a2a_service_binds_all_interfaces_only_with_tokens() -> None:
    import yaml

    from tests.conftest import ROOT

    a2a = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["a2a"]
    assert a2a["command"][:3] == ["python", "-m", "agents.a2a_server"]
    assert a2a["environment"]["API_TOKENS"].startswith("${API_TOKENS:?")  # compose refuses to start without it
    assert a2a["ports"] == ["127.0.0.1:8766:8766"] and "test" in a2a["healthcheck"]


def test_the_guard_passes_the_principal_on_and_strips_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    monkeypatch.setenv("API_TOKENS", TOKEN)
    reload_settings()
    seen: list[dict] = []
    sent: list[dict] = []

    async def inner(scope, receive, send) -> None:
        seen.append(scope)

    async def send(message: dict) -> None:
        sent.append(message)

    guard = Guard(inner, required=True, host="127.0.0.1", extra_hosts=[])

    def scope(auth: bytes) -> dict:
        return {"type": "http", "path": "/", "headers": [(b"host", b"127.0.0.1:8766"), (b"authorization", auth)]}

    anyio.run(guard, scope(f"Bearer {TOKEN}".encode()), None, send)
    anyio.run(guard, scope(b"Bearer nope-nope-nope-nope"), None, send)
    assert len(seen) == 1 and seen[0]["user"].username.startswith("token:")
    assert all(k != b"authorization" for k, _ in seen[0]["headers"])
    assert sent[0]["status"] == 401
