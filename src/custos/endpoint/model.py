"""What a probe of one endpoint recorded: the origin, each request and its answer, the TLS
handshakes and the rate-limit burst. Pure data; the key was masked before any of it was made
(custos.endpoint.probe), so nothing here can hold it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

MASK = "****"
EXCERPT = 1024  # characters of a body shown as evidence

# The probes' names (an exchange's `probe`), used by the rules to find what they judge.
NO_KEY = "auth/no-key"
WRONG_KEY = "auth/wrong-key"
WITH_KEY = "auth/key"
QUERY = "auth/query-"  # + the parameter name: auth/query-api_key, auth/query-key
QUERY_PARAMETERS = ("api_key", "key")
MALFORMED = "leakage/malformed"
PREFLIGHT = "cors/preflight"
CORS = "cors/request"
KNOWN = "known:"  # + the path
BURST = "rate-limit/burst"
PROBE_ORIGIN = "https://custos-probe.invalid"  # the Origin the CORS probes claim
WRONG_KEY_VALUE = "custos-probe-wrong-key-0000000000000000"

Verdict = Literal["refused", "accepted", "undetermined"]
LegacyResult = Literal["accepted", "refused", "not testable"]


@dataclass(frozen=True)
class Origin:
    """The scheme, host and port of the URL given: the only place a probe sends traffic."""

    scheme: str
    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """`localhost` (and names under it) or a loopback address: 127.0.0.0/8, ::1."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_origin(url: str) -> Origin:
    """The origin of an http(s) URL; ValueError saying what is wrong with it otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials do not belong in the URL: name the key with --key-env")
    return Origin(scheme, parts.hostname, port or (443 if scheme == "https" else 80))


Headers = tuple[tuple[str, str], ...]


def header(headers: Headers, name: str) -> str | None:
    """The first value of a header, by name regardless of case."""
    wanted = name.lower()
    return next((value for key, value in headers if key.lower() == wanted), None)


def _headers_json(headers: Headers) -> dict[str, str]:
    merged: dict[str, str] = {}
    for key, value in headers:
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else f"{text[:EXCERPT]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: Headers = ()
    body: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": _headers_json(self.headers),
                "body": _excerpt(self.body)}  # fmt: skip


@dataclass(frozen=True)
class Response:
    status: int
    headers: Headers
    body: str  # decoded as UTF-8 with replacement characters, up to the read limit

    def header(self, name: str) -> str | None:
        return header(self.headers, name)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "headers": _headers_json(self.headers),
                "body": _excerpt(self.body)}  # fmt: skip


@dataclass(frozen=True)
class Exchange:
    """One request a probe sent and its answer, or why there was none."""

    probe: str
    request: Request
    response: Response | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        answer = self.response.to_json() if self.response else {"error": self.error}
        return {"request": self.request.to_json(), "response": answer}


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "dns_names": list(self.dns_names),
            "ip_addresses": list(self.ip_addresses),
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class LegacyAttempt:
    """A handshake offering only one protocol below TLS 1.2."""

    protocol: str  # TLSv1, TLSv1.1
    result: LegacyResult
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"protocol": self.protocol, "result": self.result, "detail": self.detail}


@dataclass(frozen=True)
class Tls:
    """The handshakes with an https origin: a modern one (TLS 1.2 or later, nothing verified,
    to read the certificate), one verifying the chain against the trust store (time and name
    aside: those are judged from the certificate), and one per protocol below TLS 1.2."""

    trust: str  # "system store" or the --ca file
    version: str | None = None
    cipher: str | None = None
    certificate: Certificate | None = None
    chain_error: str | None = None  # None: the chain verifies against the trust store
    legacy: tuple[LegacyAttempt, ...] = ()
    handshake_error: str | None = None  # the modern handshake failed

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "cipher": self.cipher,
            "certificate": self.certificate.to_json() if self.certificate else None,
            "trust": self.trust,
            "chain": None if self.certificate is None else self.chain_error or "verified",
            "legacy_protocols": [a.to_json() for a in self.legacy],
            "handshake_error": self.handshake_error,
        }


@dataclass(frozen=True)
class Burst:
    """The bounded burst of the rate-limit probe: how many requests went out before the
    first refusal for rate (429, or 503 with Retry-After), or the limit."""

    sent: int
    limit: int
    seconds: float
    limited: Exchange | None  # the first answer that limited the rate
    last: Exchange  # the last request sent (evidence when nothing limited)


@dataclass(frozen=True)
class KnownPath:
    """A path a model server or AI tool serves without authentication by default, and what
    its answer holds when it really is that tool (so a catch-all page does not count)."""

    path: str
    product: str
    rule: str
    expect: Literal["json_key", "json_list", "json_object", "text"]
    value: str = ""  # the JSON key or the text marker


@dataclass(frozen=True)
class Recording:
    """Everything one probe of one endpoint saw."""

    url: str
    origin: Origin
    key_given: bool
    key_sent: bool
    owned: bool
    tls: Tls | None
    exchanges: tuple[Exchange, ...]
    burst: Burst | None
    checks_run: tuple[str, ...]
    not_run: tuple[tuple[str, str], ...]  # (probe, why it did not run)

    def exchange(self, probe: str) -> Exchange | None:
        return next((e for e in self.exchanges if e.probe == probe), None)

    def answered(self) -> list[Exchange]:
        extra = [self.burst.last] if self.burst else []
        return [e for e in (*self.exchanges, *extra) if e.response is not None]


def verdict(exchange: Exchange | None) -> Verdict:
    """Did the endpoint serve the request? 401/403/407 and redirects (not followed) refuse it; 2xx
    and a 4xx about the request itself (400, 422, ...) mean it reached the application; 404,
    405, 408, 429, 5xx and no answer decide nothing."""
    if exchange is None or exchange.response is None:
        return "undetermined"
    status = exchange.response.status
    if status in (401, 403, 407) or 300 <= status < 400:
        return "refused"
    if 200 <= status < 300 or (400 <= status < 500 and status not in (404, 405, 408, 429)):
        return "accepted"
    return "undetermined"
