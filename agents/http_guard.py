"""What every network endpoint (MCP and A2A over HTTP) checks before a request reaches a tool.

- A bearer token (`core.tokens`: API_TOKENS, the older MCP_TOKEN, or an issued token) on every request,
  except on a loopback bind in the embedded default with no token configured (a single-user laptop).
  A bind other than loopback, or deployed mode (REDIS_URL set), without any token refuses to start.
- The Host header must name this server (loopback names, the bound address, the configured extras) and a
  browser's Origin must be one of those: a DNS-rebinding page cannot drive the tools through a browser.
Tokens are compared as SHA-256 digests in constant time and never logged.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from starlette.authentication import SimpleUser

from core import tokens, users
from core.config import get_settings
from core.errors import InvalidInput

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "::", "")  # noqa: S104 - listed to be excluded from the allowed Host names


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: a bind only this machine can reach."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """An address as it appears in a Host header (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_names(host: str) -> list[str]:
    """Loopback names and the bound address (never a wildcard bind)."""
    names = list(LOOPBACK_NAMES)
    if host not in WILDCARD_BINDS and host_name(host) not in names:
        names.append(host_name(host))
    return names


def token_required(host: str) -> bool:
    """Whether requests need a token: always, except on loopback in the embedded default with no token set."""
    return not (is_loopback(host) and get_settings().embedded) or tokens.any_token()


def ensure_startable(host: str, service: str) -> bool:
    """Whether `service` on `host` needs tokens; raises InvalidInput when it needs one and none exists."""
    required = token_required(host)
    if required and not tokens.any_token():
        where = f"on {host}" if not is_loopback(host) else "in deployed mode (REDIS_URL is set)"
        raise InvalidInput(f"Refusing to serve {service} {where}: a bind other than loopback needs a token, "
                           "because its tools can train models and run SQL.",
                           hint="Set API_TOKENS (or MCP_TOKEN) to a long random secret, or issue one with "
                                "`python -m core.tokens issue NAME`; clients send 'Authorization: Bearer <token>'. "
                                "Or bind to 127.0.0.1 in the embedded default.")
    return required


def bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The token of an exact 'Authorization: Bearer <token>' header, else None."""
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, token = values[0].decode("latin-1").partition(" ")
    return token if scheme == "Bearer" and token and token.strip() == token else None


def _name(value: str) -> str:
    """The host part of a Host header value ('[::1]:8766' -> '[::1]', 'a.org:80' -> 'a.org')."""
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    head, sep, port = value.rpartition(":")
    return head if sep and head and port.isdigit() and ":" not in head else value


async def _deny(send: Callable[[Any], Awaitable[None]], status: int, message: str,
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600 if status != 401 else -31401,
                                                              "message": message}}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: Host/Origin checks, then the bearer token (when `required`), then the app.

    The caller's Principal goes into the scope as `user` (a Starlette SimpleUser named by its owner key),
    so what a caller creates can be scoped to it. `open_paths` (the public agent cards) skip the token.
    """

    def __init__(self, app: ASGIApp, *, required: bool, host: str, extra_hosts: list[str],
                 open_paths: tuple[str, ...] = ()) -> None:
        self.app, self.required, self.open_paths = app, required, open_paths
        extra = [h.strip().lower() for h in extra_hosts if h.strip()]
        self.names = {n.lower() for n in allowed_names(host)} | {h for h in extra if _name(h) == h}
        self.exact = {h for h in extra if _name(h) != h}

    def _host_ok(self, value: str) -> bool:
        value = value.strip().lower()
        return bool(value) and (value in self.exact or _name(value) in self.names)

    def _origin_ok(self, origin: str) -> bool:
        scheme, sep, rest = origin.strip().lower().partition("://")
        return bool(sep) and scheme in ("http", "https") and "/" not in rest and self._host_ok(rest)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if not self._host_ok(headers.get("host", "")):
            await _deny(send, 421, "Unknown Host header: this server answers only to its own names.")
            return
        if "origin" in headers and not self._origin_ok(headers["origin"]):
            await _deny(send, 403, "Cross-origin requests are refused.")
            return
        principal: tokens.Principal | None = tokens.Principal(name=tokens.LOCAL)
        if self.required and scope.get("path") not in self.open_paths:
            token = bearer(scope.get("headers", []))
            principal = await anyio.to_thread.run_sync(tokens.verify, token) if token else None
            if principal is None:
                await _deny(send, 401, "A valid bearer token is required (Authorization: Bearer <token>).",
                            [(b"www-authenticate", b'Bearer realm="workbench"')])
                return
        scope["user"] = SimpleUser(principal.owner)
        # the token stops here: nothing behind the guard (the SDK's request context, its logs) ever holds it
        scope["headers"] = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"authorization"]
        with users.acting_as(principal.user):  # a user's token acts as that user (tasks started here inherit it)
            await self.app(scope, receive, send)
