"""A small, real OpenID Connect provider for the server tests, served by uvicorn on 127.0.0.1.

It speaks the authorization code flow as a provider would: discovery, `/authorize` (which signs
the configured user in at once and redirects back with a code), `/token` (checking the code, the
redirect URI, the PKCE verifier and the client's credentials) issuing an RS256 ID token with a
`kid`, and `/jwks`. `Faults` make it misbehave the ways the relying party must notice.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from custos.server.auth.oidc import OidcConfig
from tests.server.conftest import _serve

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # authlib.jose -> joserfc, see oidc.py
    from authlib.jose import JsonWebKey, JsonWebToken  # type: ignore[import-untyped]

CLIENT_ID = "custos-test"
CLIENT_SECRET = "s3cret: with spaces & symbols"  # noqa: S105  (exercises form-encoding in Basic)
_JWT = JsonWebToken(["RS256"])
_KEYS: list[Any] = []  # RSA key generation is slow: a few keys, made once per test session


def rsa_key(index: int) -> Any:
    while len(_KEYS) <= index:
        _KEYS.append(JsonWebKey.generate_key("RSA", 2048, is_private=True))
    return _KEYS[index]


@dataclass
class Faults:
    """What the provider gets wrong; the defaults get everything right."""

    audience: str | list[str] | None = None  # None: the client id
    azp: str | None = None
    nonce: str | None = None  # None: the one from the authorization request
    issuer: str | None = None  # in the ID token; None: the provider's
    discovery_issuer: str | None = None
    lifetime: int = 300  # seconds from iat to exp
    issued_ago: int = 0
    sign_with: Any = None  # another private key (signed under the published kid)
    kid: str | None = None  # None: the published key's
    alg: str = "RS256"  # "HS256": keyed with the client secret; "none": unsigned
    deny: bool = False  # /authorize answers error=access_denied


@dataclass
class Grant:
    redirect_uri: str
    challenge: str
    nonce: str


@dataclass
class LocalProvider:
    clock: Callable[[], dt.datetime]
    claims: dict[str, Any]  # of the user who signs in at /authorize: sub, preferred_username...
    auth_method: str = "client_secret_basic"
    url: str = ""
    key: Any = field(default_factory=lambda: rsa_key(0))
    kid: str = "key-1"
    faults: Faults = field(default_factory=Faults)
    grants: dict[str, Grant] = field(default_factory=dict)
    jwks_fetches: int = 0
    tokens_issued: list[str] = field(default_factory=list)

    def config(self, **overrides: Any) -> OidcConfig:
        values: dict[str, Any] = {
            "issuer": self.url,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            **overrides,
        }
        return OidcConfig(**values)

    def rotate(self, key: Any, kid: str) -> None:
        self.key, self.kid = key, kid

    # -- endpoints -----------------------------------------------------------------------------

    async def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.faults.discovery_issuer or self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": [self.auth_method],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def jwks(self, _request: Request) -> Response:
        self.jwks_fetches += 1
        public = self.key.as_dict(is_private=False)
        return JSONResponse({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        ok = (
            q.get("response_type") == "code"
            and q.get("client_id") == CLIENT_ID
            and q.get("code_challenge_method") == "S256"
            and "openid" in q.get("scope", "").split()
            and q.get("state")
            and q.get("nonce")
            and q.get("code_challenge")
        )
        if not ok:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        back = {"state": q["state"]}
        if self.faults.deny:
            back["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(16)
            self.grants[code] = Grant(q["redirect_uri"], q["code_challenge"], q["nonce"])
            back["code"] = code
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self.grants.pop(str(form.get("code", "")), None)  # a code works once
        verifier = str(form.get("code_verifier", ""))
        if (
            form.get("grant_type") != "authorization_code"
            or grant is None
            or form.get("redirect_uri") != grant.redirect_uri
            or _s256(verifier) != grant.challenge
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        id_token = self._id_token(grant.nonce)
        self.tokens_issued.append(id_token)
        body = {"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer"}
        return JSONResponse({**body, "expires_in": 300, "id_token": id_token})

    def _client_ok(self, request: Request, form: Any) -> bool:
        if self.auth_method == "client_secret_post":
            sent = (form.get("client_id"), form.get("client_secret"))
            return sent == (CLIENT_ID, CLIENT_SECRET)
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return (unquote_plus(user), unquote_plus(password)) == (CLIENT_ID, CLIENT_SECRET)

    def _id_token(self, nonce: str) -> str:
        f = self.faults
        issued = int(self.clock().timestamp()) - f.issued_ago
        payload = {
            **self.claims,
            "iss": f.issuer or self.url,
            "aud": f.audience if f.audience is not None else CLIENT_ID,
            "iat": issued,
            "exp": issued + f.lifetime,
            "nonce": f.nonce if f.nonce is not None else nonce,
        }
        if f.azp is not None:
            payload["azp"] = f.azp
        header = {"alg": f.alg, "kid": f.kid or self.kid}
        if f.alg == "none":
            parts = [json.dumps(header), json.dumps(payload)]
            return ".".join(_b64(p.encode()) for p in parts) + "."
        if f.alg == "HS256":
            hs256 = JsonWebToken(["HS256"])
            return str(hs256.encode(header, payload, CLIENT_SECRET).decode())
        signed: bytes = _JWT.encode(header, payload, f.sign_with or self.key)
        return signed.decode()

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


@contextmanager
def running(provider: LocalProvider) -> Iterator[LocalProvider]:
    """Serve `provider` on a free 127.0.0.1 port (its `url` is the issuer) until the block ends."""
    server, thread, url = _serve(provider.app())
    provider.url = url
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
