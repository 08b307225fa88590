"""The endpoint rules, evaluated on a recording: pure functions, no I/O, no clock but the one
given. Each rule has a stable id, a severity and the controls its findings bear on; each
finding carries the request and the answer that show it (docs/runtime.md#endpoint-probes).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from custos.endpoint.model import (
    CORS,
    KNOWN,
    MALFORMED,
    NO_KEY,
    PREFLIGHT,
    PROBE_ORIGIN,
    QUERY,
    QUERY_PARAMETERS,
    WITH_KEY,
    WRONG_KEY,
    Certificate,
    Exchange,
    KnownPath,
    Origin,
    Recording,
    Tls,
    verdict,
)
from custos.findings import Finding, Severity

TLS = ("custos:ai:endpoint-tls", "custos:ai:encryption-in-transit", "iso27002:2022:8.21",
       "iso27002:2022:8.20")  # fmt: skip
AUTH = ("custos:ai:endpoint-authentication", "iso27002:2022:8.5", "iso27002:2022:5.15")
OPEN = (*AUTH, "iso27002:2022:8.20")
RATE = ("custos:ai:endpoint-rate-limiting", "custos:ai:model-extraction")
LEAK = ("custos:ai:output-leakage", "iso27002:2022:8.26")
EXTRACTION = ("custos:ai:model-extraction", "custos:ai:output-leakage", "iso27002:2022:8.26")
APPSEC = ("iso27002:2022:8.26",)
CONTROLS = tuple(dict.fromkeys((*TLS, *OPEN, *RATE, *EXTRACTION)))

EXPIRY_WARNING = dt.timedelta(days=30)
PRECISION = 4  # decimals a score may show before it counts as full precision


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    help: str
    controls: tuple[str, ...]


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


RULES = _rules(
    Rule("endpoint/plain-http", Severity.high,
         "The endpoint is served over plain HTTP on a host that is not loopback.", TLS),
    Rule("endpoint/tls-protocol", Severity.high,
         "The endpoint completes a handshake with a protocol below TLS 1.2.", TLS),
    Rule("endpoint/tls-cert-expired", Severity.high,
         "The certificate has expired or is not valid yet.", TLS),
    Rule("endpoint/tls-cert-expiring", Severity.medium,
         "The certificate expires within 30 days.", TLS),
    Rule("endpoint/tls-hostname", Severity.high,
         "The certificate's subject alternative names do not include the host.", TLS),
    Rule("endpoint/tls-untrusted", Severity.high,
         "The certificate does not chain to the trust store (the system's, or --ca).", TLS),
    Rule("endpoint/no-auth", Severity.high,
         "A request without a key is served instead of refused (401/403).", AUTH),
    Rule("endpoint/wrong-key-accepted", Severity.high,
         "A request with a wrong key is served instead of refused (401/403).", AUTH),
    Rule("endpoint/key-in-query", Severity.medium,
         "The key is accepted in the query string (?api_key=, ?key=), where logs and proxies "
         "keep it.", AUTH),
    Rule("endpoint/key-refused", Severity.medium,
         "The key given was refused, so the probes that need it did not run.", AUTH),
    Rule("endpoint/no-rate-limit", Severity.medium,
         "A bounded burst met no 429 (or 503 with Retry-After).", RATE),
    Rule("endpoint/stack-trace", Severity.medium,
         "An answer holds a stack trace or a framework's debug error page.", LEAK),
    Rule("endpoint/version-header", Severity.low,
         "A Server or X-Powered-By header reveals the software's version.", APPSEC),
    Rule("endpoint/open-docs", Severity.low,
         "API documentation (/docs, /redoc, /openapi.json) is served without authentication.",
         APPSEC),
    Rule("endpoint/open-metrics", Severity.medium,
         "Metrics (/metrics) are served without authentication.", OPEN),
    Rule("endpoint/open-model-api", Severity.medium,
         "A model server's listing or management API is served without authentication.", OPEN),
    Rule("endpoint/open-data-store", Severity.high,
         "A vector database or experiment-tracking API is served without authentication.", OPEN),
    Rule("endpoint/open-code-execution", Severity.critical,
         "A tool that runs code (Jupyter, the Ray dashboard) is served without authentication.",
         OPEN),
    Rule("endpoint/probability-vector", Severity.medium,
         "Responses carry full-precision probability vectors, which make model extraction "
         "cheap.", EXTRACTION),
    Rule("endpoint/no-nosniff", Severity.low,
         "A response lacks X-Content-Type-Options: nosniff.", APPSEC),
    Rule("endpoint/cacheable-response", Severity.low,
         "A prediction response lacks Cache-Control: no-store.", APPSEC),
    Rule("endpoint/cors-credentials", Severity.medium,
         "CORS allows any origin (a wildcard or the caller's origin reflected) together with "
         "Access-Control-Allow-Credentials: true.", APPSEC),
    Rule("endpoint/undetermined", Severity.medium,
         "A probe got no answer that decides it (timeout, 404, 405, 429, 5xx): not a pass.",
         CONTROLS),
)  # fmt: skip
OPEN_RULES = frozenset(
    ("endpoint/open-docs", "endpoint/open-metrics", "endpoint/open-model-api",
     "endpoint/open-data-store", "endpoint/open-code-execution")
)  # fmt: skip


@dataclass(frozen=True)
class EndpointFinding:
    """A finding with what shows it: the request sent and the answer (JSON-ready, masked)."""

    finding: Finding
    request: dict[str, Any]
    response: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        f = self.finding
        return {"rule": f.rule, "severity": f.severity.name, "message": f.message,
                "location": f.location, "controls": list(f.controls),
                "evidence": {"request": self.request, "response": self.response}}  # fmt: skip


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[EndpointFinding, ...]
    not_run: tuple[tuple[str, str], ...] = field(default=())


def evaluate(recording: Recording, known: Sequence[KnownPath], now: dt.datetime) -> Evaluation:
    """Every rule on one recording, in a stable order."""
    found: list[EndpointFinding] = []
    notes: list[tuple[str, str]] = []
    found += _transport(recording)
    if recording.tls is not None:
        found += _tls(recording.tls, recording.origin, now)
        notes += [("tls/" + a.protocol, a.detail) for a in recording.tls.legacy
                  if a.result == "not testable"]  # fmt: skip
    found += _auth(recording)
    found += _rate(recording)
    found += _stack_traces(recording)
    found += _versions(recording)
    found += _known(recording, known)
    found += _probabilities(recording)
    headers, note = _headers(recording)
    found += headers
    notes += note
    found += _cors(recording)
    return Evaluation(tuple(found), tuple(notes))


def _finding(rule_id: str, message: str, location: str, exchange: Exchange | None = None,
             evidence: tuple[dict[str, Any], dict[str, Any] | None] | None = None,
             ) -> EndpointFinding:  # fmt: skip
    rule = RULES[rule_id]
    if exchange is not None:
        shown = exchange.to_json()
        request, response = shown["request"], shown["response"]
    else:
        request, response = evidence or ({}, None)
    return EndpointFinding(Finding(rule.id, rule.severity, message, location, rule.controls),
                           request, response)  # fmt: skip


def _said(exchange: Exchange) -> str:
    """`POST /predict without a key -> 200`, for messages."""
    answer = str(exchange.response.status) if exchange.response else (exchange.error or "?")
    return f"{exchange.request.method} {exchange.request.url} -> {answer}"


# ------------------------------------------------------------------------------ transport, TLS


def _transport(rec: Recording) -> list[EndpointFinding]:
    origin = rec.origin
    if origin.scheme != "http" or origin.loopback:
        return []
    request = {"method": "connect", "url": origin.url}
    return [_finding("endpoint/plain-http",
                     f"served over plain HTTP on {origin.host}, which is not loopback: keys, "
                     "inputs and predictions cross the network readable", rec.url,
                     evidence=(request, {"scheme": "http"}))]  # fmt: skip


def _tls(tls: Tls, origin: Origin, now: dt.datetime) -> list[EndpointFinding]:
    found: list[EndpointFinding] = []
    shown = tls.to_json()
    accepted = [a for a in tls.legacy if a.result == "accepted"]
    if accepted:
        names = " and ".join(a.protocol for a in accepted)
        only = " (and no TLS 1.2 or later)" if tls.handshake_error else ""
        request = {"method": "TLS handshake", "url": origin.url,
                   "offered": [a.protocol for a in accepted]}  # fmt: skip
        found.append(_finding("endpoint/tls-protocol", f"accepts {names}{only}", origin.url,
                              evidence=(request, shown)))  # fmt: skip
    elif tls.version in ("TLSv1", "TLSv1.1", "SSLv3"):
        request = {"method": "TLS handshake", "url": origin.url}
        found.append(_finding("endpoint/tls-protocol", f"negotiated {tls.version}", origin.url,
                              evidence=(request, shown)))  # fmt: skip
    cert = tls.certificate
    if cert is None:
        return found
    request = {"method": "TLS handshake", "url": origin.url, "server_name": origin.host}
    if now >= cert.not_after:
        found.append(_finding("endpoint/tls-cert-expired",
                              f"the certificate expired on {cert.not_after:%Y-%m-%d}", origin.url,
                              evidence=(request, shown)))  # fmt: skip
    elif now < cert.not_before:
        found.append(_finding("endpoint/tls-cert-expired",
                              f"the certificate is not valid before {cert.not_before:%Y-%m-%d}",
                              origin.url, evidence=(request, shown)))  # fmt: skip
    elif cert.not_after - now < EXPIRY_WARNING:
        days = (cert.not_after - now).days
        found.append(_finding("endpoint/tls-cert-expiring",
                              f"the certificate expires on {cert.not_after:%Y-%m-%d}, in {days} "
                              "day(s)", origin.url, evidence=(request, shown)))  # fmt: skip
    if not hostname_matches(cert, origin.host):
        names = ", ".join((*cert.dns_names, *cert.ip_addresses)) or "none"
        found.append(_finding("endpoint/tls-hostname",
                              f"the certificate is not for {origin.host} (its names: {names})",
                              origin.url, evidence=(request, shown)))  # fmt: skip
    if tls.chain_error is not None:
        found.append(_finding("endpoint/tls-untrusted",
                              f"the certificate does not chain to the {tls.trust}: "
                              f"{tls.chain_error}", origin.url,
                              evidence=(request, shown)))  # fmt: skip
    return found


def hostname_matches(cert: Certificate, host: str) -> bool:
    """RFC 6125 matching on the subject alternative names (never the common name): an address
    against the IP entries, a name against the DNS entries, `*.` only as a whole left label."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(_same_address(address, entry) for entry in cert.ip_addresses)
    name = host.lower().rstrip(".")
    for entry in cert.dns_names:
        pattern = entry.lower().rstrip(".")
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in pattern[2:]:
            label, _, rest = name.partition(".")
            if label and rest == pattern[2:]:
                return True
    return False


def _same_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, entry: str) -> bool:
    try:
        return ipaddress.ip_address(entry) == address
    except ValueError:
        return False


def certificate_current(cert: Certificate, now: dt.datetime) -> bool:
    return cert.not_before <= now < cert.not_after


# ------------------------------------------------------------------------------ authentication


def _auth(rec: Recording) -> list[EndpointFinding]:
    found: list[EndpointFinding] = []
    no_key = rec.exchange(NO_KEY)
    if no_key is None:
        return found
    first = verdict(no_key)
    if first == "accepted":
        found.append(_finding("endpoint/no-auth", f"served without a key: {_said(no_key)}",
                              no_key.request.url, no_key))  # fmt: skip
    elif first == "undetermined":
        found.append(_undetermined(no_key, "whether a key is required"))
    wrong = rec.exchange(WRONG_KEY)
    if wrong is not None and first == "refused":
        second = verdict(wrong)
        if second == "accepted":
            found.append(_finding("endpoint/wrong-key-accepted",
                                  f"served with a wrong key: {_said(wrong)}", wrong.request.url,
                                  wrong))  # fmt: skip
        elif second == "undetermined":
            found.append(_undetermined(wrong, "whether a wrong key is refused"))
    keyed = rec.exchange(WITH_KEY)
    if keyed is not None:
        third = verdict(keyed)
        if third == "refused":
            found.append(_finding("endpoint/key-refused",
                                  f"the key given was refused: {_said(keyed)}; the probes that "
                                  "need it did not run", keyed.request.url,
                                  keyed))  # fmt: skip
        elif third == "undetermined":
            found.append(_undetermined(keyed, "whether the key is accepted"))
    if first == "refused":
        for parameter in QUERY_PARAMETERS:
            query = rec.exchange(QUERY + parameter)
            if query is not None and verdict(query) == "accepted":
                found.append(_finding("endpoint/key-in-query",
                                      f"the key is accepted as ?{parameter}=: {_said(query)}",
                                      query.request.url, query))  # fmt: skip
    return found


def _undetermined(exchange: Exchange, what: str) -> EndpointFinding:
    return _finding("endpoint/undetermined", f"{what} is not determined: {_said(exchange)}",
                    exchange.request.url, exchange)  # fmt: skip


# ------------------------------------------------------------------------------ rate limiting


def _rate(rec: Recording) -> list[EndpointFinding]:
    burst = rec.burst
    if burst is None or burst.limited is not None:
        return []
    if burst.last.response is None:
        return [_undetermined(burst.last, f"rate limiting (after {burst.sent} request(s))")]
    return [_finding("endpoint/no-rate-limit",
                     f"{burst.sent} requests in {burst.seconds:.1f} s, none answered 429 or 503 "
                     f"with Retry-After (last: {_said(burst.last)})", burst.last.request.url,
                     burst.last)]  # fmt: skip


# ------------------------------------------------------------------------------ leakage

# Stack traces and the debug error pages of common frameworks, as they appear in a body.
TRACES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Python traceback", re.compile(r"Traceback \(most recent call last\)|"
                                      r"File \"[^\"\n]+\", line \d+, in ")),
    ("the Werkzeug debugger", re.compile(r"Werkzeug Debugger|The debugger caught an exception|"
                                         r"werkzeug\.exceptions\.")),
    ("Django's debug page", re.compile(r"You(?:'|&#x27;|&#39;)re seeing this error because you "
                                       r"have <code>DEBUG = True</code>|Django Version:")),
    ("an Express/Node.js stack", re.compile(r"\bat Layer\.handle \[as handle_request\]|"
                                            r"\n\s+at [^\n]+\(/[^\n)]*node_modules/")),
    ("Spring's error page", re.compile(r"Whitelabel Error Page|\bat org\.springframework\.|"
                                       r"\"trace\"\s*:\s*\"(?:java|org)\.")),
    ("a Java stack trace", re.compile(r"\b(?:java|javax|jakarta)\.[\w.]+(?:Exception|Error)\b"
                                      r"[^\n]*\n\s+at [\w.$]+\(")),
    ("an ASP.NET error page", re.compile(r"Server Error in '[^']*' Application|"
                                         r"\[\w+Exception: [^\n]*\]\s+[\w.]+\(")),
)  # fmt: skip


def _stack_traces(rec: Recording) -> list[EndpointFinding]:
    found: list[EndpointFinding] = []
    seen: set[str] = set()
    answered = rec.answered()
    malformed = [e for e in answered if e.probe == MALFORMED]
    for exchange in (*malformed, *(e for e in answered if e.probe != MALFORMED)):
        assert exchange.response is not None
        for name, pattern in TRACES:
            if name not in seen and pattern.search(exchange.response.body):
                seen.add(name)
                found.append(_finding("endpoint/stack-trace",
                                      f"{name} in the answer to {_said(exchange)}",
                                      exchange.request.url, exchange))  # fmt: skip
    return found


VERSION_HEADERS = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version")
_VERSION = re.compile(r"\d+\.\d+|/\s*v?\d")


def _versions(rec: Recording) -> list[EndpointFinding]:
    found: list[EndpointFinding] = []
    seen: set[tuple[str, str]] = set()
    for exchange in rec.answered():
        assert exchange.response is not None
        for name, value in exchange.response.headers:
            key = (name.lower(), value)
            if key[0] in VERSION_HEADERS and key not in seen and _VERSION.search(value):
                seen.add(key)
                found.append(_finding("endpoint/version-header", f"{name}: {value}",
                                      exchange.request.url, exchange))  # fmt: skip
    return found


def _known(rec: Recording, known: Sequence[KnownPath]) -> list[EndpointFinding]:
    found: list[EndpointFinding] = []
    for entry in known:
        exchange = rec.exchange(KNOWN + entry.path)
        if exchange is None or exchange.response is None:
            continue
        if 200 <= exchange.response.status < 300 and expected(entry, exchange.response.body):
            found.append(_finding(entry.rule,
                                  f"{entry.product}: {_said(exchange)} without a key",
                                  exchange.request.url, exchange))  # fmt: skip
    return found


def expected(entry: KnownPath, body: str) -> bool:
    """Does an answer look like the tool's (not a catch-all page)?"""
    if entry.expect == "text":
        return entry.value.lower() in body.lower()
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # whatever the server sends, never a traceback
        return False
    if entry.expect == "json_list":
        return isinstance(data, list)
    if entry.expect == "json_object":
        return isinstance(data, dict)
    return isinstance(data, dict) and entry.value in data


# ------------------------------------------------------------------------------ extraction


class _Float(str):
    """A JSON number with a fraction or an exponent, kept as written."""


def _prediction_answers(rec: Recording) -> list[Exchange]:
    probes = (WITH_KEY, NO_KEY, CORS, *(QUERY + p for p in QUERY_PARAMETERS))
    return [e for p in probes if (e := rec.exchange(p)) is not None and e.response is not None
            and 200 <= e.response.status < 300]  # fmt: skip


def _probabilities(rec: Recording) -> list[EndpointFinding]:
    for exchange in _prediction_answers(rec):
        assert exchange.response is not None
        vector = probability_vector(exchange.response.body)
        if vector is not None:
            shown = ", ".join(vector[:4]) + (", ..." if len(vector) > 4 else "")
            return [_finding("endpoint/probability-vector",
                             f"a full-precision probability vector [{shown}] in the answer to "
                             f"{_said(exchange)}: return labels or rounded top-k scores",
                             exchange.request.url, exchange)]  # fmt: skip
    return []


def probability_vector(body: str) -> list[str] | None:
    """The first array (or object of numbers) in a JSON body that reads as a probability vector
    at full precision: two or more numbers in [0, 1] summing to 1 within 0.01, at least one
    with more than PRECISION decimals as written. None if there is none."""
    try:
        data = json.loads(body, parse_float=_Float)
    except (ValueError, RecursionError):
        return None
    for values in _number_groups(data):
        if _is_full_precision_distribution(values):
            return values
    return None


def _number_groups(value: Any) -> Iterator[list[str]]:
    if isinstance(value, list):
        numbers = [_number(v) for v in value]
        if len(numbers) >= 2 and all(n is not None for n in numbers):
            yield [n for n in numbers if n is not None]
        for item in value:
            yield from _number_groups(item)
    elif isinstance(value, dict):
        numbers = [_number(v) for v in value.values()]
        if len(numbers) >= 2 and all(n is not None for n in numbers):
            yield [n for n in numbers if n is not None]
        for item in value.values():
            yield from _number_groups(item)


def _number(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, _Float | int):
        return str(value)
    return None


def _is_full_precision_distribution(values: list[str]) -> bool:
    try:
        numbers = [Decimal(v) for v in values]
    except InvalidOperation:
        return False
    if not all(0 <= n <= 1 for n in numbers) or abs(sum(numbers, Decimal(0)) - 1) > Decimal("0.01"):
        return False
    return any(_decimals(n) > PRECISION for n in numbers)


def _decimals(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


# ------------------------------------------------------------------------------ headers, CORS


def _headers(rec: Recording) -> tuple[list[EndpointFinding], list[tuple[str, str]]]:
    answers = _prediction_answers(rec)
    if not rec.exchanges:
        return [], []
    if not answers:
        return [], [("headers", "no prediction request was served (2xx): the response headers "
                                "of a prediction were not examined")]  # fmt: skip
    exchange = answers[0]
    response = exchange.response
    assert response is not None
    found: list[EndpointFinding] = []
    if (response.header("x-content-type-options") or "").strip().lower() != "nosniff":
        found.append(_finding("endpoint/no-nosniff",
                              f"no X-Content-Type-Options: nosniff on {_said(exchange)}",
                              exchange.request.url, exchange))  # fmt: skip
    directives = {d.strip().lower() for d in (response.header("cache-control") or "").split(",")}
    if "no-store" not in directives:
        found.append(_finding("endpoint/cacheable-response",
                              f"no Cache-Control: no-store on {_said(exchange)}",
                              exchange.request.url, exchange))  # fmt: skip
    return found, []


def _cors(rec: Recording) -> list[EndpointFinding]:
    for probe in (PREFLIGHT, CORS):
        exchange = rec.exchange(probe)
        if exchange is None or exchange.response is None:
            continue
        allowed = (exchange.response.header("access-control-allow-origin") or "").strip()
        credentials = exchange.response.header("access-control-allow-credentials") or ""
        if credentials.strip().lower() == "true" and allowed in ("*", PROBE_ORIGIN):
            how = "a wildcard" if allowed == "*" else "the caller's origin reflected"
            return [_finding("endpoint/cors-credentials",
                             f"Access-Control-Allow-Origin: {allowed} ({how}) with "
                             f"Access-Control-Allow-Credentials: true on {_said(exchange)}",
                             exchange.request.url, exchange)]  # fmt: skip
    return []
