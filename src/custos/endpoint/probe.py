"""The adapter: the requests and TLS handshakes of a probe, recorded for the rules.

Traffic goes to the scheme, host and port of the URL given and nowhere else: every HTTP request
passes a transport that refuses any other origin, redirects are not followed, proxies from the
environment are not used, and the TLS handshakes connect to the same host and port. The key is
sent only over TLS whose certificate verified, or to a loopback host; bursts and the key in the
query string only to an owned or loopback endpoint. The key is masked before anything is
recorded, so no output and no evidence record can hold it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote, quote_plus

import httpx

from custos import __version__
from custos.endpoint.model import (
    BURST,
    CORS,
    KNOWN,
    MALFORMED,
    MASK,
    NO_KEY,
    PREFLIGHT,
    PROBE_ORIGIN,
    QUERY,
    QUERY_PARAMETERS,
    WITH_KEY,
    WRONG_KEY,
    WRONG_KEY_VALUE,
    Burst,
    Certificate,
    Exchange,
    Headers,
    KnownPath,
    LegacyAttempt,
    Origin,
    Recording,
    Request,
    Response,
    Tls,
    parse_origin,
    verdict,
)
from custos.endpoint.rules import certificate_current, hostname_matches
from custos.errors import UserError

READ_LIMIT = 256 * 1024  # bytes of an answer kept for the rules
BURST_LIMIT = 200
NO_CHECK_TIME = 0x200000  # OpenSSL's X509_V_FLAG_NO_CHECK_TIME: the chain, time aside
LOCAL_REFUSALS = frozenset({"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"})
MALFORMED_BODY = '{"custos-probe": '
SECRET_HEADERS = frozenset({"cookie", "set-cookie", "proxy-authorization"})
LEGACY = (("TLSv1", "TLSv1"), ("TLSv1.1", "TLSv1_1"))  # (name, ssl.TLSVersion member)


class Unreachable(UserError):
    """The endpoint could not be probed at all (no address, no connection, no handshake, no
    answer): one line, never a pass."""


@dataclass(frozen=True)
class Settings:
    url: str
    key: str | None = field(default=None, repr=False)
    key_header: str = "Authorization"  # Authorization: Bearer KEY; any other: the key alone
    owned: bool = False
    ca: Path | None = None
    timeout: float = 5.0
    body: str = "{}"
    burst_limit: int = BURST_LIMIT


class _Masker:
    """Replaces the key, as given and URL-encoded, with MASK."""

    def __init__(self, key: str | None) -> None:
        forms = {key, quote(key, safe=""), quote_plus(key)} if key else set()
        self._forms = sorted((f for f in forms if f), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, MASK)
        return text

    def headers(self, items: Sequence[tuple[str, str]]) -> Headers:
        return tuple((name, MASK if name.lower() in SECRET_HEADERS else self(value))
                     for name, value in items)  # fmt: skip


def record(settings: Settings, known: Sequence[KnownPath], now: dt.datetime) -> Recording:
    """Probe one endpoint; Unreachable when there is nothing to probe."""
    try:
        origin = parse_origin(settings.url)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    mask = _Masker(settings.key)
    shown = mask(settings.url)
    _resolve(origin, settings.timeout, shown)
    checks: list[str] = []
    not_run: list[tuple[str, str]] = []
    tls: Tls | None = None
    verified = True
    if origin.scheme == "https":
        tls = _tls(origin, settings, shown)
        checks.append("tls")
        cert = tls.certificate
        verified = (tls.handshake_error is None and tls.chain_error is None and cert is not None
                    and certificate_current(cert, now)
                    and hostname_matches(cert, origin.host))  # fmt: skip
    else:
        _tcp(origin, settings.timeout, shown).close()
    if tls is not None and tls.handshake_error is not None:
        not_run.append(("http", f"no handshake at TLS 1.2 or later ({tls.handshake_error}): "
                                "the HTTP probes did not run"))  # fmt: skip
        return Recording(shown, origin, settings.key is not None, False, settings.owned, tls, (),
                         None, tuple(checks), tuple(not_run))  # fmt: skip
    send_key = settings.key is not None
    if settings.key is None:
        not_run.append((WITH_KEY, "no key given (--key-env): whether the key is accepted, and "
                                  "accepted in the query string, was not probed"))  # fmt: skip
    elif not verified:
        send_key = False
        not_run.append((WITH_KEY, "the certificate did not verify: the key was not sent"))
    elif origin.scheme == "http" and not origin.loopback:
        send_key = False
        not_run.append((WITH_KEY, "plain HTTP to a host that is not loopback: the key was not "
                                  "sent"))  # fmt: skip
    intrusive = settings.owned or origin.loopback
    with _Session(origin, settings, verified, mask, shown) as session:
        exchanges, burst, notes = session.run(known, send_key, intrusive)
    checks += ["auth", "leakage", "known-paths", "headers", "cors"]
    if burst is not None:
        checks.append("rate-limit")
    return Recording(shown, origin, settings.key is not None, send_key, settings.owned, tls,
                     tuple(exchanges), burst, tuple(checks),
                     tuple(not_run + notes))  # fmt: skip


# ------------------------------------------------------------------------------ connections


def _resolve(origin: Origin, timeout: float, shown: str) -> None:
    """The host's addresses, looked up with a deadline (getaddrinfo has none)."""
    try:
        ipaddress.ip_address(origin.host)
        return
    except ValueError:
        pass
    outcome: list[OSError | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=lookup, name="custos-probe-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise Unreachable(f"{shown}: unreachable: {origin.host} did not resolve within "
                          f"{timeout:g} s")  # fmt: skip
    if outcome[0] is not None:
        raise Unreachable(f"{shown}: unreachable: {origin.host} does not resolve")


def _tcp(origin: Origin, timeout: float, shown: str) -> socket.socket:
    try:
        return socket.create_connection((origin.host, origin.port), timeout=timeout)
    except TimeoutError:
        raise Unreachable(f"{shown}: unreachable: no connection within {timeout:g} s") from None
    except OSError as exc:
        raise Unreachable(f"{shown}: unreachable: {exc.strerror or exc}") from None


# ------------------------------------------------------------------------------ TLS


def trust_context(ca: Path | None) -> ssl.SSLContext:
    """Verification against the system store, or only the CA file given; UserError if the
    file is not a CA certificate."""
    try:
        return ssl.create_default_context(cafile=str(ca) if ca else None)
    except (OSError, ssl.SSLError) as exc:
        raise UserError(f"--ca {ca}: not a readable PEM certificate ({exc})") from None


def _handshake(origin: Origin, context: ssl.SSLContext, timeout: float, shown: str,
               ) -> tuple[str | None, str | None, bytes | None]:  # fmt: skip
    with (
        _tcp(origin, timeout, shown) as raw,
        context.wrap_socket(raw, server_hostname=origin.host) as tls,
    ):
        cipher = tls.cipher()
        return tls.version(), cipher[0] if cipher else None, tls.getpeercert(binary_form=True)


def _why(exc: Exception, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return exc.verify_message or str(exc)
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc).replace("_", " ").lower()
    return str(exc) or type(exc).__name__


def _tls(origin: Origin, settings: Settings, shown: str) -> Tls:
    trust = f"CA file {settings.ca}" if settings.ca else "system trust store"
    chain_context = trust_context(settings.ca)
    chain_context.check_hostname = False  # the name is judged from the certificate
    chain_context.verify_flags |= NO_CHECK_TIME  # so is the time
    modern = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    modern.check_hostname = False
    modern.verify_mode = ssl.CERT_NONE
    legacy = tuple(_legacy(origin, name, member, settings.timeout, shown)
                   for name, member in LEGACY)  # fmt: skip
    try:
        version, cipher, der = _handshake(origin, modern, settings.timeout, shown)
    except (ssl.SSLError, OSError) as exc:
        error = _why(exc, settings.timeout)
        if not any(a.result == "accepted" for a in legacy):
            raise Unreachable(f"{shown}: TLS handshake failed: {error}") from None
        return Tls(trust, legacy=legacy, handshake_error=error)
    certificate, chain_error = (_certificate(der), None) if der else (None, "no certificate")
    if der:
        try:
            _handshake(origin, chain_context, settings.timeout, shown)
        except (ssl.SSLError, OSError) as exc:
            chain_error = _why(exc, settings.timeout)
    return Tls(trust, version, cipher, certificate, chain_error, legacy)


def _legacy(origin: Origin, name: str, member: str, timeout: float, shown: str
            ) -> LegacyAttempt:  # fmt: skip
    """One handshake offering only `name`, at OpenSSL security level 0 (where 3.x allows it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            version = getattr(ssl.TLSVersion, member)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.minimum_version = version
            context.maximum_version = version
    except (AttributeError, ValueError, ssl.SSLError) as exc:
        return LegacyAttempt(name, "not testable", f"the local OpenSSL cannot offer {name}: {exc}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            negotiated, _, _ = _handshake(origin, context, timeout, shown)
    except ssl.SSLError as exc:
        if exc.reason in LOCAL_REFUSALS:
            return LegacyAttempt(
                name, "not testable", f"the local OpenSSL refuses to offer {name} ({exc.reason})"
            )
        return LegacyAttempt(name, "refused", _why(exc, timeout))
    except OSError as exc:
        return LegacyAttempt(name, "refused", _why(exc, timeout))
    return LegacyAttempt(name, "accepted", f"negotiated {negotiated}")


def _certificate(der: bytes) -> Certificate | None:
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = tuple(names.get_values_for_type(x509.DNSName))
        addresses = tuple(str(a) for a in names.get_values_for_type(x509.IPAddress))
    except (x509.ExtensionNotFound, ValueError):
        dns, addresses = (), ()
    return Certificate(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                       cert.not_valid_before_utc, cert.not_valid_after_utc, dns, addresses,
                       hashlib.sha256(der).hexdigest())  # fmt: skip


# ------------------------------------------------------------------------------ HTTP


class OffOrigin(RuntimeError):
    """A request to anywhere but the origin: a bug, refused before anything is sent."""


class _OriginOnly(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, origin: Origin) -> None:
        self._inner = inner
        self._origin = origin

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        target = (url.scheme, url.host.lower(), port)
        if target != (self._origin.scheme, self._origin.host.lower(), self._origin.port):
            raise OffOrigin(f"refused to send to {url.scheme}://{url.host}:{port}")
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class _Session:
    """The HTTP probes of one endpoint, through one client pinned to its origin."""

    def __init__(self, origin: Origin, settings: Settings, verified: bool, mask: _Masker,
                 shown: str) -> None:  # fmt: skip
        self.origin = origin
        self.settings = settings
        self.mask = mask
        self.shown = shown
        if origin.scheme == "https" and verified:
            context = trust_context(settings.ca)
        else:  # unverified: only requests without the key go out (see `record`)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        inner = httpx.HTTPTransport(verify=context, trust_env=False, retries=0)
        self.client = httpx.Client(
            transport=_OriginOnly(inner, origin), trust_env=False, follow_redirects=False,
            timeout=settings.timeout,
            headers={"user-agent": f"custos-probe/{__version__}", "accept": "application/json"},
        )  # fmt: skip

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:  # fmt: skip
        self.client.close()

    def _auth(self, key: str | None) -> dict[str, str]:
        if key is None:
            return {}
        name = self.settings.key_header
        return {name: f"Bearer {key}" if name.lower() == "authorization" else key}

    def send(self, probe: str, method: str, url: str, headers: dict[str, str],
             body: str | None = None) -> Exchange:  # fmt: skip
        if body is not None:
            headers = {"content-type": "application/json", **headers}
        request = self.client.build_request(
            method, url, headers=headers, content=body.encode() if body is not None else None
        )
        shown = Request(method, self.mask(str(request.url)),
                        self.mask.headers(request.headers.multi_items()),
                        self.mask(body or ""))  # fmt: skip
        try:
            response = self.client.send(request, stream=True)
            try:
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) >= READ_LIMIT:
                        break
            finally:
                response.close()
        except httpx.TimeoutException:
            return Exchange(probe, shown, error=f"no answer within {self.settings.timeout:g} s")
        except httpx.HTTPError as exc:
            return Exchange(probe, shown, error=self.mask(f"{type(exc).__name__}: {exc}"))
        text = self.mask(bytes(data[:READ_LIMIT]).decode("utf-8", "replace"))
        answer = Response(response.status_code, self.mask.headers(response.headers.multi_items()),
                          text)  # fmt: skip
        return Exchange(probe, shown, answer)

    def run(self, known: Sequence[KnownPath], send_key: bool, intrusive: bool,
            ) -> tuple[list[Exchange], Burst | None, list[tuple[str, str]]]:  # fmt: skip
        url, body = self.settings.url, self.settings.body
        key = self.settings.key if send_key else None
        notes: list[tuple[str, str]] = []
        first = self.send(NO_KEY, "POST", url, {}, body)
        if first.response is None:
            raise Unreachable(f"{self.shown}: unreachable: {first.error}")
        done = [first, self.send(WRONG_KEY, "POST", url, self._auth(WRONG_KEY_VALUE), body)]
        basis = first  # the prediction request the burst repeats
        if key is not None:
            basis = self.send(WITH_KEY, "POST", url, self._auth(key), body)
            done.append(basis)
            if not intrusive:
                notes.append((QUERY + "*", "the key in the query string is probed only on an "
                                           "owned (--owned) or loopback endpoint: it would be "
                                           "written to the endpoint's access logs"))  # fmt: skip
            elif verdict(first) != "refused":
                notes.append((QUERY + "*", "requests without a key are not refused: the key in "
                                           "the query string decides nothing"))  # fmt: skip
            else:
                glue = "&" if "?" in url else "?"
                for parameter in QUERY_PARAMETERS:
                    query = f"{url}{glue}{parameter}={quote(key, safe='')}"
                    done.append(self.send(QUERY + parameter, "POST", query, {}, body))
        auth = self._auth(key)
        done.append(self.send(MALFORMED, "POST", url, auth, MALFORMED_BODY))
        done.append(self.send(PREFLIGHT, "OPTIONS", url, {
            "origin": PROBE_ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type"}))  # fmt: skip
        done.append(self.send(CORS, "POST", url, {"origin": PROBE_ORIGIN, **auth}, body))
        root = self.origin.url
        done += [self.send(KNOWN + entry.path, "GET", root + entry.path, {}) for entry in known]
        burst = None
        if intrusive and verdict(basis) == "accepted":
            burst = self._burst(url, auth, body)
        elif intrusive:
            status = basis.response.status if basis.response else basis.error
            without = " with the key" if key is not None else " without a key"
            notes.append(("rate-limit", f"the prediction request is not served{without} "
                                        f"({status}): a burst would measure nothing"))  # fmt: skip
        else:
            notes.append(("rate-limit", "bursts are sent only to an owned (--owned) or loopback "
                                        "endpoint"))  # fmt: skip
        return done, burst, notes

    def _burst(self, url: str, auth: dict[str, str], body: str) -> Burst:
        """At most `burst_limit` requests, one after another, stopping at the first 429 (or
        503 with Retry-After) or the first request without an answer."""
        limit = self.settings.burst_limit
        start = time.monotonic()
        sent = 0
        last: Exchange | None = None
        limited: Exchange | None = None
        while sent < limit:
            last = self.send(BURST, "POST", url, auth, body)
            sent += 1
            answer = last.response
            if answer is None:
                break
            if answer.status == 429 or (answer.status == 503 and answer.header("retry-after")):
                limited = last
                break
        assert last is not None
        return Burst(sent, limit, time.monotonic() - start, limited, last)
