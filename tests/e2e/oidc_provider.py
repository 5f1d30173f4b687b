"""A small OpenID Connect provider on loopback, so the real sign-in code (Streamlit's `st.login`, Authlib) runs.

    with OidcProvider(client_id="workbench", client_secret="s3cret") as idp:
        idp.allow_redirect("http://127.0.0.1:8501/oauth2callback")
        idp.issuer  # -> "http://127.0.0.1:<port>", its metadata under /.well-known/openid-configuration

The authorization code flow only: `/authorize` shows a form asking for a user name (a user "alice" gets the
subject "sub-alice", the name "Alice" and the e-mail "alice@example.org"), then redirects back with a
single-use code; `/token` exchanges it (client secret by Basic or form, PKCE S256 when the client sent a
challenge) for an RS256 id_token carrying the nonce, and an access token for `/userinfo`. An unknown
client, a redirect URI not registered exactly, a reused code or a wrong verifier gets a 400.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

KEY_ID = "test-key-1"


@dataclass
class _Grant:
    """What one authorization (a pending form, then a code) remembers."""

    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    challenge: str
    username: str = ""


@dataclass
class OidcProvider:
    """The provider: one registered client, users made up from the name typed into the form."""

    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)
    id_token_lifetime_s: int = 3600
    _key: RSAKey = field(init=False)
    _pending: dict[str, _Grant] = field(default_factory=dict, init=False)
    _codes: dict[str, _Grant] = field(default_factory=dict, init=False)
    _access: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self._key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}, private=True)

    # ------------------------------------------------------------------ life cycle
    def start(self) -> OidcProvider:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start the provider first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def allow_redirect(self, uri: str) -> None:
        self.redirect_uris.add(uri)

    # ------------------------------------------------------------------ protocol
    def metadata(self) -> dict[str, Any]:
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": f"{i}/authorize",
            "token_endpoint": f"{i}/token",
            "jwks_uri": f"{i}/jwks",
            "userinfo_endpoint": f"{i}/userinfo",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "grant_types_supported": ["authorization_code"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.as_dict(private=False)]}

    def begin(self, query: dict[str, str]) -> str:
        """Check an authorization request; returns the id of the pending sign-in form. Raises ValueError."""
        if query.get("client_id") != self.client_id:
            raise ValueError("unknown client_id")
        if query.get("redirect_uri") not in self.redirect_uris:
            raise ValueError("redirect_uri is not registered for this client")
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            raise ValueError("only response_type=code with scope openid is supported")
        if query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            raise ValueError("only the S256 code challenge is supported")
        request_id = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[request_id] = _Grant(
                self.client_id,
                query["redirect_uri"],
                query.get("state", ""),
                query.get("nonce", ""),
                query.get("code_challenge", ""),
            )
        return request_id

    def approve(self, request_id: str, username: str) -> str:
        """The form was sent: the URL to send the browser back to, with a fresh single-use code."""
        username = username.strip().lower()
        if not username.isalnum():
            raise ValueError("the user name must be letters and digits")
        with self._lock:
            grant = self._pending.pop(request_id, None)
            if grant is None:
                raise ValueError("unknown or used sign-in request")
            grant.username = username
            code = secrets.token_urlsafe(24)
            self._codes[code] = grant
        query = {"code": code, "state": grant.state} if grant.state else {"code": code}
        return f"{grant.redirect_uri}?{urlencode(query)}"

    def exchange(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """The token request: a code (once) for an id_token and an access token. Raises ValueError."""
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client_id != self.client_id or not secrets.compare_digest(secret, self.client_secret):
            raise ValueError("invalid_client")
        if form.get("grant_type") != "authorization_code":
            raise ValueError("unsupported_grant_type")
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use, even when the rest is wrong
        if grant is None or grant.redirect_uri != form.get("redirect_uri"):
            raise ValueError("invalid_grant")
        if grant.challenge and _s256(form.get("code_verifier", "")) != grant.challenge:
            raise ValueError("invalid_grant")
        claims = self.claims_of(grant.username)
        now = int(time.time())
        id_claims = {
            **claims,
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + self.id_token_lifetime_s,
            **({"nonce": grant.nonce} if grant.nonce else {}),
        }
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, id_claims, self._key)
        access = secrets.token_urlsafe(24)
        with self._lock:
            self._access[access] = claims
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.id_token_lifetime_s,
            "id_token": id_token,
            "scope": "openid email profile",
        }

    def userinfo(self, access_token: str) -> dict[str, Any] | None:
        with self._lock:
            return self._access.get(access_token)

    @staticmethod
    def claims_of(username: str) -> dict[str, str]:
        return {"sub": f"sub-{username}", "name": username.title(), "email": f"{username}@example.org"}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


FORM = """<!doctype html><html><head><title>Test provider: sign in</title></head><body>
<form method="post" action="/authorize"><input type="hidden" name="request" value="{request}">
<label>Username <input name="username" autofocus></label> <button type="submit">Sign in</button></form>
</body></html>"""


def _handler_for(provider: OidcProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet: the test's output stays readable
            return

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/.well-known/openid-configuration":
                self._json(200, provider.metadata())
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/authorize":
                try:
                    request_id = provider.begin(query)
                except ValueError as exc:
                    self._text(400, str(exc))
                    return
                self._send(200, "text/html; charset=utf-8", FORM.format(request=html.escape(request_id)).encode())
            elif url.path == "/userinfo":
                auth = self.headers.get("Authorization", "")
                claims = provider.userinfo(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
                if claims:
                    self._json(200, claims)
                else:
                    self._json(401, {"error": "invalid_token"})
            else:
                self._text(404, "not found")

        def do_POST(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            try:
                if url.path == "/authorize":
                    self.send_response(302)
                    self.send_header("Location", provider.approve(form.get("request", ""), form.get("username", "")))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif url.path == "/token":
                    self._json(200, provider.exchange(form, self._basic()))
                else:
                    self._text(404, "not found")
            except ValueError as exc:
                self._json(400, {"error": str(exc)})

        def _basic(self) -> tuple[str, str] | None:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return None
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            return unquote_plus(user), unquote_plus(password)

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, "application/json", json.dumps(body).encode())

        def _text(self, status: int, body: str) -> None:
            self._send(status, "text/plain; charset=utf-8", body.encode())

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler
