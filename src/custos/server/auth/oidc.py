"""OpenID Connect sign-in as a relying party: the authorization code flow with PKCE (S256).

The provider's discovery document and keys are fetched with httpx (timeouts set, redirects not
followed) and cached per process for a few minutes. ID tokens are checked with authlib's JOSE:
the signature against the provider's JWKS (fetched again once when the token names a key we do
not know, as after a key rotation), then `iss`, `aud` (and `azp`), `exp`/`nbf`/`iat` with a
small leeway on the app's clock, and `nonce`.

Every failure is an `OidcError` whose message is one line, safe to show to the user, and never
contains a token, a code or a secret.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

import httpx
from authlib.deprecate import AuthlibDeprecationWarning  # type: ignore[import-untyped]

from custos.errors import UserError

with warnings.catch_warnings():
    # authlib 1.x warns on every import of authlib.jose that the module moves to joserfc (same
    # authors) by 2.0. The warning would print a non-JSON line into the server's JSON stderr.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken  # type: ignore[import-untyped]
    from authlib.jose.errors import BadSignatureError, JoseError  # type: ignore[import-untyped]

DEFAULT_SCOPES = "openid profile email"
WELL_KNOWN = "/.well-known/openid-configuration"
CACHE_SECONDS = 300.0  # discovery and keys: short, so a provider's changes arrive soon
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# Asymmetric signatures only: "none" and the HS* family (keyed with the client secret) are
# refused, so nobody holding the secret, or nothing at all, can mint an ID token we accept.
SIGNING_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
AUTH_METHODS = ("client_secret_basic", "client_secret_post")  # in order of preference
MAX_SUBJECT = 400  # users.oidc_subject holds "issuer|sub"
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # OAuth error codes: shown only if this plain


class OidcError(Exception):
    """A failed sign-in; `message` is safe to show and log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderUnavailable(OidcError):
    """The provider could not be reached or answered something unusable (not the user's
    fault: a 502 page rather than a refused sign-in)."""


@dataclass(frozen=True)
class OidcConfig:
    """What `custos serve --oidc-issuer URL --oidc-client-id ID` configures; the secret comes
    from $CUSTOS_OIDC_CLIENT_SECRET. `redirect_url` is the public URL of the callback; None
    derives it from the request (set it behind a TLS-terminating proxy).

    `link_by_username` (`--oidc-link-by-username`) lets a first sign-in link an identity to the
    account named by its username claim. Off by default: whoever can choose that claim at the
    provider could otherwise take over the account of that name. Even on, administrators and
    users with two-factor sign-in are never linked this way."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str = DEFAULT_SCOPES
    username_claim: str = "preferred_username"
    fallback_claim: str = "email"
    redirect_url: str | None = None
    link_by_username: bool = False
    timeout_seconds: float = 10.0
    leeway_seconds: int = 60


def config_from_options(
    issuer: str | None,
    client_id: str | None,
    client_secret: str | None,
    redirect_url: str | None = None,
    link_by_username: bool = False,
) -> OidcConfig | None:
    """The configuration from `custos serve`'s options (None: single sign-on off); raises a
    one-line UserError for an incomplete or unsafe one."""
    if not issuer and not client_id:
        if redirect_url:
            raise UserError("--oidc-redirect-url needs --oidc-issuer and --oidc-client-id")
        if link_by_username:
            raise UserError("--oidc-link-by-username needs --oidc-issuer and --oidc-client-id")
        return None
    if not issuer or not client_id:
        raise UserError("give both --oidc-issuer and --oidc-client-id, or neither")
    if not client_secret:
        raise UserError("single sign-on needs the client secret in $CUSTOS_OIDC_CLIENT_SECRET")
    check_url(issuer, "--oidc-issuer", issuer=True)
    if redirect_url:
        check_url(redirect_url, "--oidc-redirect-url")
    return OidcConfig(
        issuer,
        client_id,
        client_secret,
        redirect_url=redirect_url,
        link_by_username=link_by_username,
    )


def check_url(url: str, what: str, *, issuer: bool = False) -> str:
    """HTTPS only (plain HTTP on the loopback address, for tests and local providers): over
    HTTP the code, the secret and the keys could be read or replaced on the way."""
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    if not parts.hostname or (parts.scheme != "https" and not local):
        raise UserError(f"{what} must be an https:// URL (http:// only on the loopback address)")
    if issuer and (parts.query or parts.fragment):
        raise UserError(f"{what} must not have a query or fragment")
    return url


# -- caching -----------------------------------------------------------------------------------

T = TypeVar("T")


class _Cache(Generic[T]):
    """A per-process map whose values expire; shared by the request threads, hence the lock."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T | None:
        with self._lock:
            found = self._values.get(key)
        if found is None or time.monotonic() - found[0] > self._seconds:
            return None
        return found[1]

    def put(self, key: str, value: T) -> T:
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


# -- discovery ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """The parts of a discovery document this relying party uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_method: str  # one of AUTH_METHODS
    algorithms: tuple[str, ...]  # ID token signatures we accept from it


_PROVIDERS: _Cache[Provider] = _Cache(CACHE_SECONDS)
_KEYS: _Cache[Any] = _Cache(CACHE_SECONDS)  # jwks_uri -> authlib KeySet


def clear_caches() -> None:
    """Forget discovery documents and keys (tests; a changed provider)."""
    _PROVIDERS.clear()
    _KEYS.clear()


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN


def discover(config: OidcConfig) -> Provider:
    cached = _PROVIDERS.get(config.issuer)
    if cached is not None:
        return cached
    document = _get_json(discovery_url(config.issuer), config, "discovery document")
    return _PROVIDERS.put(config.issuer, provider_from(document, config))


def provider_from(document: Mapping[str, Any], config: OidcConfig) -> Provider:
    # An exact match (OpenID Connect Discovery 1.0, section 4.3): a document naming another
    # issuer could otherwise hand us someone else's endpoints and keys.
    if document.get("issuer") != config.issuer:
        raise ProviderUnavailable(
            "the single sign-on provider's discovery document names another issuer than "
            "the configured one"
        )
    return Provider(
        issuer=config.issuer,
        authorization_endpoint=_endpoint(document, "authorization_endpoint"),
        token_endpoint=_endpoint(document, "token_endpoint"),
        jwks_uri=_endpoint(document, "jwks_uri"),
        auth_method=_auth_method(document),
        algorithms=_algorithms(document),
    )


def _endpoint(document: Mapping[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        raise ProviderUnavailable(f"the single sign-on provider's discovery lacks {name}")
    try:
        return check_url(value, name)
    except UserError as exc:
        raise ProviderUnavailable(f"the single sign-on provider's {exc}") from None


def _listed(document: Mapping[str, Any], name: str, default: list[str]) -> list[str]:
    value = document.get(name, default)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _auth_method(document: Mapping[str, Any]) -> str:
    # The specification's default when the document is silent is client_secret_basic.
    offered = _listed(document, "token_endpoint_auth_methods_supported", ["client_secret_basic"])
    for method in AUTH_METHODS:
        if method in offered:
            return method
    raise ProviderUnavailable(
        "the single sign-on provider offers neither client_secret_basic nor client_secret_post"
    )


def _algorithms(document: Mapping[str, Any]) -> tuple[str, ...]:
    offered = _listed(document, "id_token_signing_alg_values_supported", ["RS256"])
    usable = tuple(a for a in SIGNING_ALGORITHMS if a in offered)
    if not usable:
        raise ProviderUnavailable(
            "the single sign-on provider signs ID tokens with no algorithm we accept"
        )
    methods = document.get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise ProviderUnavailable("the single sign-on provider does not support PKCE with S256")
    return usable


def _get_json(url: str, config: OidcConfig, what: str) -> dict[str, Any]:
    try:
        response = httpx.get(
            url, timeout=config.timeout_seconds, headers={"Accept": "application/json"}
        )
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(
            f"the single sign-on provider could not be reached for its {what} "
            f"({type(exc).__name__})"
        ) from None
    if response.status_code != 200:
        raise ProviderUnavailable(
            f"the single sign-on provider answered {response.status_code} for its {what}"
        )
    return _json_object(response, what)


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ProviderUnavailable(f"the single sign-on provider's {what} is not a JSON object")
    return value


# -- the authorization request -----------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """The secrets of one sign-in in flight: `state` goes to the browser (cookie and URL), the
    nonce and PKCE verifier stay in the database until the callback."""

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


def new_pending() -> Pending:
    # token_urlsafe's alphabet is PKCE's "unreserved" set; 48 bytes make a 64-character verifier.
    return Pending(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))


def state_hash(state: str) -> bytes:
    """What the database keeps of a state: a stolen row cannot be replayed as a callback."""
    return hashlib.sha256(state.encode()).digest()


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    provider: Provider, config: OidcConfig, pending: Pending, redirect_uri: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": config.scopes,
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": code_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    # The endpoint may carry a query of its own (some providers put a tenant there).
    parts = urlsplit(provider.authorization_endpoint)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))


# -- the token request -------------------------------------------------------------------------


def exchange_code(
    provider: Provider, config: OidcConfig, code: str, code_verifier: str, redirect_uri: str
) -> str:
    """Trade the authorization code for tokens at the token endpoint; the raw ID token."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": code_verifier,
    }
    auth: httpx.BasicAuth | None = None
    if provider.auth_method == "client_secret_basic":
        # RFC 6749 section 2.3.1: both parts are form-encoded before Basic encoding.
        auth = httpx.BasicAuth(quote_plus(config.client_id), quote_plus(config.client_secret))
    else:
        form |= {"client_id": config.client_id, "client_secret": config.client_secret}
    try:
        response = httpx.post(
            provider.token_endpoint,
            data=form,
            auth=auth,
            timeout=config.timeout_seconds,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(
            f"the single sign-on provider could not be reached for the token ({type(exc).__name__})"
        ) from None
    return _id_token_from(response)


def _id_token_from(response: httpx.Response) -> str:
    if response.status_code >= 500:
        raise ProviderUnavailable(
            f"the single sign-on provider answered {response.status_code} for the token"
        )
    if response.status_code != 200:
        code = _error_code(response)
        raise OidcError(f"the single sign-on provider refused the sign-in ({code})")
    token = _json_object(response, "token response").get("id_token")
    if not isinstance(token, str) or not token:
        raise ProviderUnavailable("the single sign-on provider sent no ID token")
    return token


def _error_code(response: httpx.Response) -> str:
    try:
        value = response.json()
    except ValueError:
        value = None
    code = value.get("error") if isinstance(value, dict) else None
    if isinstance(code, str) and _ERROR_CODE.fullmatch(code):
        return code
    return str(response.status_code)


def error_code(value: str) -> str:
    """An `error` the provider put in the callback URL, if it is a plain code (it is shown)."""
    return value if _ERROR_CODE.fullmatch(value) else "error"


# -- the ID token ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: `subject` is "issuer|sub" (stable, unique), `username`
    the claim used to find an unlinked Custos account (None when the token has none)."""

    subject: str
    username: str | None


class _UnknownKey(Exception):
    """The token names a key the cached JWKS lacks (not a ValueError: authlib raises those)."""


_JWT = JsonWebToken(list(SIGNING_ALGORITHMS))


def validate_id_token(
    token: str, provider: Provider, config: OidcConfig, *, nonce: str, now: dt.datetime
) -> Identity:
    claims = _verified_claims(token, provider, config)
    check_claims(claims, provider, config, nonce=nonce, now=now)
    return identity_from(claims, provider, config)


def _verified_claims(token: str, provider: Provider, config: OidcConfig) -> dict[str, Any]:
    # Two dots: a signed token (JWS). Four would be an encrypted one (JWE), which we never ask for.
    if token.count(".") != 2:
        raise OidcError("the ID token is malformed")
    try:
        return _decode(token, provider, _keys(provider, config, refresh=False))
    except _UnknownKey:
        pass
    try:
        return _decode(token, provider, _keys(provider, config, refresh=True))
    except _UnknownKey:
        raise OidcError("the ID token is signed with a key the provider does not publish") from None


def _decode(token: str, provider: Provider, keys: Any) -> dict[str, Any]:
    def load_key(header: Mapping[str, Any], _payload: object) -> Any:
        if header.get("alg") not in provider.algorithms:
            raise OidcError("the ID token is signed with an algorithm we do not accept")
        kid = header.get("kid")
        try:
            return keys.find_by_kid(kid if isinstance(kid, str) else None)
        except ValueError:
            raise _UnknownKey from None

    try:
        claims = _JWT.decode(token, load_key)
    except BadSignatureError:
        raise OidcError("the ID token's signature does not verify") from None
    except (JoseError, ValueError, TypeError):
        # Malformed parts, an unsupported algorithm, a key of the wrong type for it.
        raise OidcError("the ID token is malformed or its signature does not verify") from None
    return dict(claims)


def _keys(provider: Provider, config: OidcConfig, *, refresh: bool) -> Any:
    cached = None if refresh else _KEYS.get(provider.jwks_uri)
    if cached is not None:
        return cached
    document = _get_json(provider.jwks_uri, config, "key set")
    try:
        keys = JsonWebKey.import_key_set(document)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderUnavailable("the single sign-on provider's key set is invalid") from None
    return _KEYS.put(provider.jwks_uri, keys)


def check_claims(
    claims: Mapping[str, Any],
    provider: Provider,
    config: OidcConfig,
    *,
    nonce: str,
    now: dt.datetime,
) -> None:
    """OpenID Connect Core 1.0, section 3.1.3.7, for a confidential client."""
    if claims.get("iss") != provider.issuer:
        raise OidcError("the ID token was issued by another provider")
    _check_audience(claims, config.client_id)
    _check_times(claims, int(now.timestamp()), config.leeway_seconds)
    sent = claims.get("nonce")
    # The nonce ties the token to this browser's sign-in: a token taken from another cannot be
    # replayed here.
    if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), nonce.encode()):
        raise OidcError("the ID token's nonce does not match this sign-in")


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise OidcError("the ID token is meant for another application (aud)")
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise OidcError("the ID token has several audiences but no authorized party (azp)")
    if azp is not None and azp != client_id:
        raise OidcError("the ID token was issued to another application (azp)")


def _number(claims: Mapping[str, Any], name: str, required: bool) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise OidcError(f"the ID token lacks a valid {name} time")
    return float(value)


def _check_times(claims: Mapping[str, Any], now: int, leeway: int) -> None:
    expires = _number(claims, "exp", required=True)
    issued = _number(claims, "iat", required=True)
    not_before = _number(claims, "nbf", required=False)
    if expires is not None and expires <= now - leeway:
        raise OidcError("the ID token has expired")
    if issued is not None and issued > now + leeway:
        raise OidcError("the ID token was issued in the future (check the clocks)")
    if not_before is not None and not_before > now + leeway:
        raise OidcError("the ID token is not valid yet (check the clocks)")


def identity_from(claims: Mapping[str, Any], provider: Provider, config: OidcConfig) -> Identity:
    sub = claims.get("sub")
    subject = f"{provider.issuer}|{sub}" if isinstance(sub, str) and sub else ""
    if not subject or len(subject) > MAX_SUBJECT:
        raise OidcError("the ID token lacks a usable subject (sub)")
    return Identity(subject, _username(claims, config))


def _username(claims: Mapping[str, Any], config: OidcConfig) -> str | None:
    for name in (config.username_claim, config.fallback_claim):
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            continue
        # An address the provider has not verified could be anyone's: it names no account.
        if name == "email" and claims.get("email_verified") is not True:
            continue
        return value
    return None
