"""Bearer tokens for the network endpoints (MCP and A2A over HTTP): who a token is, never the token itself.

Tokens come from API_TOKENS (and the older MCP_TOKEN) or are issued here and stored as SHA-256 digests
(`ApiToken`). Neither the settings' tokens nor issued ones are ever logged or written in clear text: a
request's token is hashed and compared with the digests in constant time. A `Principal` names who
called, so results (A2A tasks) can be kept per caller; per-user tokens (sign-in) fill in `user`.

    python -m core.tokens issue "ci robot"     # prints the new token once
    python -m core.tokens issue "ada's laptop" --user ada@example.org   # acts as Ada (sign-in mode)
    python -m core.tokens list
    python -m core.tokens revoke <id>
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys
import uuid
from dataclasses import dataclass

from sqlmodel import select

from core.config import get_settings
from core.db import as_uuid, session, utcnow
from core.errors import InvalidInput, NotFound
from core.models.protocols import ApiToken

MIN_LENGTH = 16
LOCAL = "local"  # the principal of an unauthenticated request on loopback in the embedded default


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a settings token (by fingerprint), an issued token (by name), or local."""

    name: str
    user: str | None = None

    @property
    def owner(self) -> str:
        """The key that scopes what this caller may see (a user's tokens share it)."""
        return f"user:{self.user}" if self.user else self.name


def digest(token: str) -> str:
    """The SHA-256 hex digest of a token (what is stored and compared)."""
    return hashlib.sha256(token.encode()).hexdigest()


def configured_digests() -> list[str]:
    """Digests of the tokens in API_TOKENS and MCP_TOKEN. Raises InvalidInput for a token that is too short."""
    s = get_settings()
    raw = [t.strip() for t in (s.api_tokens.get_secret_value() if s.api_tokens else "").split(",") if t.strip()]
    if s.mcp_token and s.mcp_token.get_secret_value().strip():
        raw.append(s.mcp_token.get_secret_value().strip())
    short = [i + 1 for i, t in enumerate(raw) if len(t) < MIN_LENGTH]
    if short:
        raise InvalidInput(f"API token number {short[0]} in API_TOKENS/MCP_TOKEN is shorter than {MIN_LENGTH} "
                           "characters.", hint="Use long random secrets, e.g. `python -m core.tokens issue NAME` "
                                               "or `openssl rand -hex 32`.")
    return [digest(t) for t in raw]


def any_token() -> bool:
    """True when at least one token (settings or issued, not revoked) can open the endpoints."""
    if configured_digests():
        return True
    with session() as s:
        return s.exec(select(ApiToken.id).where(ApiToken.revoked == False).limit(1)).first() is not None  # noqa: E712


def verify(token: str | None) -> Principal | None:
    """The Principal a bearer token stands for, or None for a missing, unknown or revoked one."""
    if not token:
        return None
    wanted = digest(token)
    found = None
    for known in configured_digests():  # every digest compared, in constant time each
        if hmac.compare_digest(known, wanted):
            found = known
    if found:
        return Principal(name=f"token:{found[:12]}")
    with session() as s:
        row = s.exec(select(ApiToken).where(ApiToken.digest == wanted, ApiToken.revoked == False)).first()  # noqa: E712
        if row is None:
            return None
        row.last_used = utcnow()
        s.add(row)
        return Principal(name=f"token:{row.name}", user=row.user)


def issue(name: str, *, user: str | None = None) -> tuple[ApiToken, str]:
    """Create a token: the row (digest only) and the clear token, which is shown this once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("A token needs a name of 1 to 200 characters (who or what uses it).")
    token = secrets.token_urlsafe(32)
    row = ApiToken(name=name, user=user, digest=digest(token))
    if user and as_uuid(user):
        row.owner_id = as_uuid(user)  # the user sees and revokes it (the flush hook stamps the acting user too)
    with session() as s:
        s.add(row)
    return row, token


def list_tokens() -> list[ApiToken]:
    """Issued tokens, newest first (digests only)."""
    with session() as s:
        return list(s.exec(select(ApiToken).order_by(ApiToken.created.desc())).all())


def revoke(token_id: uuid.UUID | str) -> ApiToken:
    """Revoke an issued token; raises NotFound."""
    with session() as s:
        row = s.get(ApiToken, as_uuid(token_id)) if as_uuid(token_id) else None
        if row is None:
            raise NotFound(f"No API token {token_id!r}.", hint="See `python -m core.tokens list`.")
        row.revoked = True
        s.add(row)
        return row


def _user_id(who: str) -> str:
    """The id of the signed-in user with this e-mail or subject (a token then acts as them)."""
    from core import users

    for user in users.list_users():
        if who in (user.email, user.subject):
            return str(user.id)
    raise NotFound(f"No user with the e-mail or subject {who!r}.", hint="The user must have signed in once.")


def main(argv: list[str]) -> int:
    """The command line: issue NAME | list | revoke ID."""
    if argv[:1] == ["issue"] and len(argv) in (2, 4) and (len(argv) == 2 or argv[2] == "--user"):
        row, token = issue(argv[1], user=_user_id(argv[3]) if len(argv) == 4 else None)
        print(f"{token}\n(token {row.id} for {row.name!r}: shown once, only its digest is stored)")
    elif argv == ["list"]:
        for row in list_tokens():
            print(f"{row.id}  {row.name}  {'revoked' if row.revoked else 'active'}  last used {row.last_used}")
    elif argv[:1] == ["revoke"] and len(argv) == 2:
        print(f"revoked {revoke(argv[1]).name!r}")
    else:
        print("usage: python -m core.tokens issue NAME [--user EMAIL|SUBJECT] | list | revoke ID", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
