"""The gateway rules (ids, severities, help, the controls they bear on) and what every product
module shares: finding literal secrets (and masking them), telling a reference from a value,
and judging upstream URLs. Pure functions over data and YAML nodes; no I/O.

Severities are judgements, written down in docs/runtime.md: anonymous access and an open admin
API are the worst (anyone can use or reconfigure the gateway); a secret in a file is high
(whoever reads the repository holds it); missing limits and logs are medium (abuse is neither
capped nor seen); a missing token limit, budget or guardrail is low (defence in depth on top of
the limits and authentication the other rules ask for).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from custos.findings import Rule, Severity
from custos.gateways.model import Doc, GatewayFinding, Where, pointer

AUTH = ("custos:ai:endpoint-authentication", "iso27002:2022:8.5")
ADMIN = (*AUTH, "iso27002:2022:8.20")
SECRETS = ("custos:ai:ml-secrets", "iso27002:2022:5.17")
LIMITS = ("custos:ai:endpoint-rate-limiting", "iso27002:2022:8.20")
LOGGING = ("custos:ai:access-logging", "iso27002:2022:8.15", "iso27002:2022:8.16")
GUARDS = ("custos:ai:input-validation", "custos:ai:output-leakage")
UPSTREAM_TLS = ("custos:ai:endpoint-tls", "iso27002:2022:8.21", "iso27002:2022:8.20")


RULES: Mapping[str, Rule] = {
    "gateway/no-auth": Rule(
        Severity.high,
        "Clients reach the models without authenticating: require keys, JWTs or OIDC.",
        AUTH,
    ),
    "gateway/admin-exposed": Rule(
        Severity.critical,
        "The gateway's admin API or management routes are reachable without authentication.",
        ADMIN,
    ),
    "gateway/hardcoded-secret": Rule(
        Severity.high,
        "A credential is written into the configuration instead of referenced from a secret "
        "store or the environment.",
        SECRETS,
    ),
    "gateway/no-rate-limit": Rule(
        Severity.medium,
        "No per-client request or token limit: one client can exhaust capacity, run up cost "
        "or query the model at extraction scale.",
        LIMITS,
    ),
    "gateway/no-token-limit": Rule(
        Severity.low,
        "LLM traffic is limited by requests only: a client can still send few, very large "
        "requests. Limit tokens too.",
        LIMITS,
    ),
    "gateway/no-budget": Rule(
        Severity.low,
        "No spend budget for keys, teams, users or the proxy as a whole.",
        LIMITS,
    ),
    "gateway/logging-off": Rule(
        Severity.medium,
        "Requests through the gateway are not logged (or logging is switched off), so misuse "
        "can neither be detected nor investigated.",
        LOGGING,
    ),
    "gateway/no-guardrail": Rule(
        Severity.low,
        "No prompt guard or PII filter on LLM traffic.",
        GUARDS,
    ),
    "gateway/upstream-plaintext": Rule(
        Severity.medium,
        "The gateway forwards prompts, outputs and credentials to an upstream over plain HTTP.",
        UPSTREAM_TLS,
    ),
    "gateway/upstream-tls-unverified": Rule(
        Severity.medium,
        "TLS to an upstream does not verify the certificate, so anyone on the path can "
        "impersonate it.",
        UPSTREAM_TLS,
    ),
}

# -- findings -----------------------------------------------------------------------------------


class Collector:
    """The findings of one analysis, in the order they are found."""

    def __init__(self) -> None:
        self.found: list[GatewayFinding] = []

    def add(
        self,
        rule: str,
        doc: Doc,
        where: Where,
        message: str,
        severity: Severity | None = None,
    ) -> None:
        spec = RULES[rule]
        key = pointer(where)
        if doc.index:
            key = f"#{doc.index + 1}/{key}"
        self.found.append(GatewayFinding(rule, severity or spec.severity, message, doc.path,
                                         doc.line(where), key, spec.controls))  # fmt: skip


# -- values -------------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|secret|token|api_?key|master_?key|salt_?key|private_?key"
    r"|secret_?access_?key|client_?secret|service_?account_?json|connection_?string)$"
)
_SECRET_NAMES = frozenset({"header_value", "param_value", "authorization"})
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]{2,}")
_PLACEHOLDER = re.compile(
    r"<[^<>]*>|x{3,}|\*{3,}|(?:your|my)[-_ ].*|.*(?:\.\.\.|\u2026)", re.IGNORECASE
)
_VARIABLE = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?")
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<user>[^/@\s:]*):(?P<pw>[^/@\s]+)@")


def snake(name: str) -> str:
    """`clientSecret` / `client-secret` -> `client_secret`."""
    return _CAMEL.sub(r"_\1", name).replace("-", "_").lower()


def secret_name(name: str) -> bool:
    """Whether a key of this name holds a credential (password, token, API key, ...)."""
    key = snake(name)
    return key in _SECRET_NAMES or _SECRET_NAME.search(key) is not None


def is_reference(value: str) -> bool:
    """A value taken from elsewhere when the gateway starts: LiteLLM's `os.environ/NAME`, Kong
    vault references `{vault://...}`, decK's `${{ env "NAME" }}`, `${NAME}` / `$NAME`, and
    template expressions (`{{ ... }}`) that a chart renders."""
    text = value.strip()
    return (
        text.startswith("os.environ/")
        or "{vault://" in text
        or "${{" in text
        or "{{" in text
        or _VARIABLE.fullmatch(text) is not None
    )


def is_placeholder(value: str) -> bool:
    """`<your key>`, `xxxx`, `sk-...`, `your-api-key`, or the name of an environment variable
    (`OPENAI_API_KEY`): text that stands for a secret without being one."""
    text = value.strip()
    return _ENV_NAME.fullmatch(text) is not None or _PLACEHOLDER.fullmatch(text) is not None


def literal_secret(value: object) -> str | None:
    """The value as text when it is a literal credential (not empty, not a reference, not a
    placeholder), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if len(text) < 3 or is_reference(text) or is_placeholder(text):
        return None
    if text.lower().startswith(("bearer ", "basic ")):
        rest = text.split(None, 1)[1] if len(text.split(None, 1)) == 2 else ""
        return text if literal_secret(rest) is not None else None
    return text


def mask(value: str) -> str:
    """Enough of a secret to recognise it, never the secret: up to 4 leading characters of a
    long one, none of a short one, and its length."""
    text = value.strip()
    scheme, _, rest = text.partition(" ")
    if rest and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {mask(rest)}"
    keep = 4 if len(text) >= 16 else 2 if len(text) >= 8 else 0
    return f"{text[:keep]}{'*' * 8} ({len(text)} characters)"


def url_password(value: str) -> str | None:
    """The literal password in `scheme://user:password@host...`, if there is one."""
    found = _URL_PASSWORD.match(value.strip())
    if found is None:
        return None
    return literal_secret(found.group("pw"))


def masked_url(value: str) -> str:
    text = value.strip()
    found = _URL_PASSWORD.match(text)
    if found is None:
        return text
    return f"{text[: found.start('pw')]}****{text[found.end('pw') :]}"


def host_of(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None


def is_loopback(host: str | None) -> bool:
    """The gateway's own host: traffic to it never crosses a network."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name in ("localhost", "0.0.0.0") or name.endswith(".localhost"):  # noqa: S104
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def plaintext_url(url: object) -> bool:
    """An `http://` or `ws://` URL to a host other than the gateway's own."""
    if not isinstance(url, str) or is_reference(url):
        return False
    text = url.strip().lower()
    return text.startswith(("http://", "ws://")) and not is_loopback(host_of(text))


def is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def is_true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def has_value(value: object) -> bool:
    """Set to something: not missing, null, empty or blank."""
    if value is None:
        return False
    if isinstance(value, str | list | dict | tuple):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# -- secrets ------------------------------------------------------------------------------------

_STRINGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:int"})


def scalars(doc: Doc) -> Iterator[tuple[Where, str | None, yaml.ScalarNode]]:
    """Every string or integer scalar of a document with its key path and the nearest mapping
    key above it. Each node is visited once, so aliases cannot make the walk explode."""
    if doc.root is None:
        return
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, Where, str | None]] = [(doc.root, (), None)]
    while stack:
        node, where, key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.tag in _STRINGS:
                yield where, key, node
        elif isinstance(node, yaml.MappingNode):
            for k, v in reversed(node.value):
                if isinstance(k, yaml.ScalarNode):
                    stack.append((v, (*where, k.value), k.value))
        elif isinstance(node, yaml.SequenceNode):
            for index in range(len(node.value) - 1, -1, -1):
                stack.append((node.value[index], (*where, index), key))


def find_secrets(
    doc: Doc,
    found: Collector,
    hint: str,
    also: Callable[[Where, str | None], bool] | None = None,
) -> None:
    """A `gateway/hardcoded-secret` finding for each literal credential in the document: under
    a key named like one (or one `also` accepts), or as the password of a connection URL.
    Messages show masked values only; `hint` says how this product references a secret."""
    for where, key, node in scalars(doc):
        named = key is not None and (secret_name(key) or (also is not None and also(where, key)))
        value = literal_secret(node.value) if named else None
        if value is not None:
            message = f"{pointer(where)}: a literal credential ({mask(value)}); {hint}"
            found.add("gateway/hardcoded-secret", doc, where, message)
            continue
        password = url_password(node.value)
        if password is not None:
            found.add("gateway/hardcoded-secret", doc, where,
                      f"{pointer(where)}: a password in the connection URL "
                      f"({masked_url(node.value)}, password {mask(password)}); {hint}")  # fmt: skip


def decoded(value: str) -> str:
    """A Kubernetes Secret's `data` value (base64) as text, or the value itself."""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value
