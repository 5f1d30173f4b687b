"""The browser tests' OpenID Connect provider speaks the protocol strictly: exact client and redirect URI,
single-use codes, PKCE, a signed id_token carrying the nonce, userinfo for the access token."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.e2e.oidc_provider import OidcProvider

CALLBACK = "http://127.0.0.1:8501/oauth2callback"


@pytest.fixture
def idp() -> Iterator[OidcProvider]:
    with OidcProvider(client_id="wb", client_secret="s3cret", redirect_uris={CALLBACK}) as running:
        yield running


def _authorize(idp: OidcProvider, **overrides: str) -> httpx.Response:
    verifier = overrides.pop("verifier", "v" * 50)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": "wb",
        "redirect_uri": CALLBACK,
        "scope": "openid email profile",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return httpx.get(f"{idp.issuer}/authorize", params=query)


def _code(idp: OidcProvider, username: str = "alice") -> str:
    form = _authorize(idp)
    request_id = re.search(r'name="request" value="([^"]+)"', form.text).group(1)
    back = httpx.post(f"{idp.issuer}/authorize", data={"request": request_id, "username": username})
    assert back.status_code == 302
    url = urlparse(back.headers["location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == CALLBACK and parse_qs(url.query)["state"] == ["st-1"]
    return parse_qs(url.query)["code"][0]


def _token(idp: OidcProvider, code: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": "v" * 50,
        **overrides,
    }
    return httpx.post(f"{idp.issuer}/token", data=form, auth=("wb", "s3cret"))


def test_a_code_becomes_a_signed_id_token_with_the_nonce_and_a_working_access_token(idp: OidcProvider) -> None:
    meta = httpx.get(idp.metadata_url).json()
    assert meta["issuer"] == idp.issuer and meta["code_challenge_methods_supported"] == ["S256"]
    tokens = _token(idp, _code(idp)).json()
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())
    claims = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert {k: claims[k] for k in ("iss", "aud", "sub", "name", "email", "nonce")} == {
        "iss": idp.issuer,
        "aud": "wb",
        "sub": "sub-alice",
        "name": "Alice",
        "email": "alice@example.org",
        "nonce": "n-1",
    }
    assert claims["exp"] > claims["iat"]
    info = httpx.get(meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.json()["sub"] == "sub-alice"
    assert httpx.get(meta["userinfo_endpoint"], headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(
    "bad",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": CALLBACK + "/"},
        {"redirect_uri": "http://evil.example/oauth2callback"},
        {"response_type": "token"},
        {"scope": "email"},
        {"code_challenge_method": "plain"},
    ],
)
def test_an_authorization_request_off_the_registration_is_refused(idp: OidcProvider, bad: dict[str, str]) -> None:
    assert _authorize(idp, **bad).status_code == 400


def test_a_code_works_once_and_only_with_its_verifier_and_the_client_secret(idp: OidcProvider) -> None:
    code = _code(idp)
    assert _token(idp, code).status_code == 200
    assert _token(idp, code).json() == {"error": "invalid_grant"}  # used
    assert _token(idp, _code(idp), code_verifier=secrets.token_urlsafe(40)).json() == {"error": "invalid_grant"}
    assert _token(idp, _code(idp), redirect_uri=CALLBACK + "x").json() == {"error": "invalid_grant"}
    wrong = httpx.post(
        f"{idp.issuer}/token",
        data={"grant_type": "authorization_code", "code": _code(idp), "redirect_uri": CALLBACK},
        auth=("wb", "guess"),
    )
    assert wrong.status_code == 400 and wrong.json() == {"error": "invalid_client"}
