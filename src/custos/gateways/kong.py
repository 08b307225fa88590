"""Kong declarative configs (`_format_version`): services, routes, consumers and plugins, as
decK and DB-less Kong read them.

Plugins apply to a route when they are global (no service, route or consumer), on its
service, or on the route itself, nested or at the top level with `service:` / `route:`;
`enabled: false` plugins do not count. Judged per route: authentication (an auth plugin that
does not let anonymous requests through), a per-client rate limit (not one shared by the whole
service), for routes to LLMs (`ai-proxy`, `ai-proxy-advanced`) a token limit and a prompt guard
or PII sanitizer, and logging. Per service: plain-HTTP or unverified upstreams, and routes to
Kong's own Admin API or Manager (ports 8001/8444, 8002/8445). In the whole file: literal
credentials (consumer keys, plugin secrets, `auth.header_value`). Each file is judged on its
own: decK state split over several files should be merged first (`deck file merge`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from custos.gateways.model import Config, Doc, Where, pointer
from custos.gateways.rules import (
    Collector,
    as_dict,
    as_list,
    find_secrets,
    has_value,
    is_false,
    is_loopback,
    plaintext_url,
)

HINT = 'reference it from a vault ({vault://env/NAME}) or decK\'s ${{ env "DECK_NAME" }}'
AUTH_PLUGINS = frozenset({
    "key-auth", "key-auth-enc", "jwt", "openid-connect", "oauth2", "oauth2-introspection",
    "basic-auth", "hmac-auth", "ldap-auth", "ldap-auth-advanced", "mtls-auth",
    "header-cert-auth", "vault-auth", "saml",
})  # fmt: skip
RATE_PLUGINS = frozenset({
    "rate-limiting", "rate-limiting-advanced", "ai-rate-limiting-advanced",
    "response-ratelimiting", "graphql-rate-limiting-advanced",
})  # fmt: skip
TOKEN_PLUGINS = frozenset({"ai-rate-limiting-advanced"})
AI_PLUGINS = frozenset({"ai-proxy", "ai-proxy-advanced"})
GUARD_PLUGINS = frozenset({
    "ai-prompt-guard", "ai-semantic-prompt-guard", "ai-sanitizer", "ai-aws-guardrails",
    "ai-azure-content-safety", "ai-gcp-model-armor", "ai-lakera-guard",
})  # fmt: skip
LOG_PLUGINS = frozenset({
    "file-log", "http-log", "tcp-log", "udp-log", "syslog", "loggly", "kafka-log",
    "opentelemetry",
})  # fmt: skip
ADMIN_PORTS = {8001: "Admin API", 8444: "Admin API", 8002: "Kong Manager", 8445: "Kong Manager"}


@dataclass(frozen=True)
class Plugin:
    name: str
    config: dict[str, Any]
    where: Where
    enabled: bool


@dataclass
class Route:
    key: str
    name: str
    where: Where
    service: str | None
    plugins: list[Plugin] = field(default_factory=list)


@dataclass
class _Index:
    services: dict[str, tuple[dict[str, Any], Where]] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    global_plugins: list[Plugin] = field(default_factory=list)
    by_service: dict[str, list[Plugin]] = field(default_factory=lambda: defaultdict(list))
    by_route: dict[str, list[Plugin]] = field(default_factory=lambda: defaultdict(list))
    by_consumer: dict[str, list[Plugin]] = field(default_factory=lambda: defaultdict(list))
    consumers: list[str] = field(default_factory=list)

    def all_plugins(self) -> list[Plugin]:
        plugins = list(self.global_plugins)
        for group in (self.by_service, self.by_route, self.by_consumer):
            plugins += [p for found in group.values() for p in found]
        return [p for p in plugins if p.enabled]

    def effective(self, route: Route) -> list[Plugin]:
        found = self.global_plugins + self.by_route[route.key]
        if route.service is not None:
            found += self.by_service[route.service]
        return [p for p in found if p.enabled]


def _plugin(raw: object, where: Where) -> Plugin | None:
    data = as_dict(raw)
    name = data.get("name")
    if not isinstance(name, str):
        return None
    return Plugin(name, as_dict(data.get("config")), where, data.get("enabled") is not False)


def _ref(value: object) -> str | None:
    """A reference to a service, route or consumer: its name or id, or a mapping with one."""
    if isinstance(value, str | int):
        return str(value)
    data = as_dict(value)
    for key in ("name", "username", "id", "custom_id"):
        if has_value(data.get(key)):
            return str(data[key])
    return None


def _index(data: dict[str, Any]) -> _Index:
    index = _Index()
    for i, service in enumerate(as_list(data.get("services"))):
        if not isinstance(service, dict):
            continue
        key = _ref(service) or pointer(("services", i))
        index.services[key] = (service, ("services", i))
        for j, raw in enumerate(as_list(service.get("plugins"))):
            plugin = _plugin(raw, ("services", i, "plugins", j))
            if plugin is not None:
                _scoped(index, plugin, as_dict(raw), service=key)
        for k, route in enumerate(as_list(service.get("routes"))):
            _route(index, route, ("services", i, "routes", k), key)
    for k, route in enumerate(as_list(data.get("routes"))):
        _route(index, route, ("routes", k), _ref(as_dict(route).get("service")))
    for i, raw in enumerate(as_list(data.get("plugins"))):
        plugin = _plugin(raw, ("plugins", i))
        if plugin is not None:
            _scoped(index, plugin, as_dict(raw))
    for c, consumer in enumerate(as_list(data.get("consumers"))):
        key = _ref(consumer) or pointer(("consumers", c))
        index.consumers.append(key)
        for j, raw in enumerate(as_list(as_dict(consumer).get("plugins"))):
            plugin = _plugin(raw, ("consumers", c, "plugins", j))
            if plugin is not None:
                index.by_consumer[key].append(plugin)
    return index


def _route(index: _Index, raw: object, where: Where, service: str | None) -> None:
    if not isinstance(raw, dict):
        return
    key = _ref(raw) or pointer(where)
    name = str(raw.get("name") or pointer(where))
    route = Route(key, name, where, service)
    index.routes.append(route)
    for j, item in enumerate(as_list(raw.get("plugins"))):
        plugin = _plugin(item, (*where, "plugins", j))
        if plugin is not None:
            _scoped(index, plugin, as_dict(item), route=key, service=None)


def _scoped(
    index: _Index,
    plugin: Plugin,
    raw: dict[str, Any],
    route: str | None = None,
    service: str | None = None,
) -> None:
    consumer = _ref(raw.get("consumer")) or _ref(raw.get("consumer_group"))
    route = route or _ref(raw.get("route"))
    service = service or _ref(raw.get("service"))
    if consumer is not None:
        index.by_consumer[consumer].append(plugin)
    elif route is not None:
        index.by_route[route].append(plugin)
    elif service is not None:
        index.by_service[service].append(plugin)
    else:
        index.global_plugins.append(plugin)


def analyse(config: Config, found: Collector) -> dict[str, Any]:
    """Findings for one Kong declarative file; returns what it says about itself (facts)."""
    doc = config.docs[0]
    data = as_dict(doc.data)
    find_secrets(doc, found, HINT, _credential_key)
    index = _index(data)
    enabled = index.all_plugins()
    logs_anywhere = any(p.name in LOG_PLUGINS for p in enabled)
    consumer_limits = bool(index.consumers) and all(
        any(p.enabled and p.name in RATE_PLUGINS for p in index.by_consumer[c])
        for c in index.consumers
    )
    ai_routes = 0
    for route in index.routes:
        plugins = index.effective(route)
        ai_routes += _judge_route(doc, index, route, plugins, consumer_limits, logs_anywhere,
                                  found)  # fmt: skip
    if index.routes and not logs_anywhere:
        found.add("gateway/logging-off", doc, _top(data),
                  "no logging plugin (file-log, http-log, tcp-log, syslog, ...) anywhere in "
                  "the file: requests are not recorded")  # fmt: skip
    for key, (service, where) in index.services.items():
        _upstream(doc, key, service, where, data, found)
    for plugin in enabled:
        _ai_upstreams(doc, plugin, found)
    return {
        "services": len(index.services),
        "routes": len(index.routes),
        "llm_routes": ai_routes,
        "consumers": len(index.consumers),
        "plugins": sorted({p.name for p in enabled}),
    }


def _top(data: dict[str, Any]) -> Where:
    return ("_format_version",) if "_format_version" in data else ()


def _credential_key(where: Where, key: str | None) -> bool:
    """A consumer's key-auth key: `keyauth_credentials[i].key`."""
    return (
        key == "key"
        and len(where) >= 3
        and where[-3] in ("keyauth_credentials", "keyauth_enc_credentials")
    )


def _admin_port(service: dict[str, Any]) -> str | None:
    port: object = service.get("port")
    url = service.get("url")
    if isinstance(url, str):
        try:
            port = urlsplit(url).port
        except ValueError:
            port = None
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    return ADMIN_PORTS.get(port) if isinstance(port, int) else None


def _judge_route(
    doc: Doc,
    index: _Index,
    route: Route,
    plugins: list[Plugin],
    consumer_limits: bool,
    logs_anywhere: bool,
    found: Collector,
) -> int:
    """Findings for one route; returns 1 for a route to LLMs, else 0."""
    names = {p.name for p in plugins}
    auth = [p for p in plugins if p.name in AUTH_PLUGINS]
    enforced = [p for p in auth if not has_value(p.config.get("anonymous"))]
    service = index.services.get(route.service or "")
    admin = _admin_port(service[0]) if service is not None else None
    if not enforced:
        why = (f"{auth[0].name} lets anonymous requests through (config.anonymous)" if auth
               else "no authentication plugin (key-auth, jwt, openid-connect, ...)")  # fmt: skip
        if admin is not None:
            found.add("gateway/admin-exposed", doc, route.where,
                      f"route {route.name!r} exposes Kong's {admin} (service "
                      f"{route.service!r}) and {why}")  # fmt: skip
        else:
            found.add("gateway/no-auth", doc, route.where, f"route {route.name!r}: {why}")
    limits = [p for p in plugins if p.name in RATE_PLUGINS]
    per_client = [p for p in limits if not _shared(p)]
    llm = bool(names & AI_PLUGINS)
    if not per_client and not consumer_limits:
        why = (f"{limits[0].name} counts for the whole service, not per client" if limits
               else "no rate-limiting plugin")  # fmt: skip
        tokens = "; for LLM traffic use ai-rate-limiting-advanced" if llm else ""
        found.add("gateway/no-rate-limit", doc, route.where,
                  f"route {route.name!r}: {why}{tokens}")  # fmt: skip
    elif llm and not names & TOKEN_PLUGINS:
        found.add("gateway/no-token-limit", doc, route.where,
                  f"route {route.name!r} proxies an LLM with request limits only "
                  "(no ai-rate-limiting-advanced)")  # fmt: skip
    if llm and not names & GUARD_PLUGINS:
        found.add("gateway/no-guardrail", doc, route.where,
                  f"route {route.name!r} proxies an LLM without ai-prompt-guard, "
                  "ai-semantic-prompt-guard or ai-sanitizer")  # fmt: skip
    if logs_anywhere and not names & LOG_PLUGINS:
        found.add("gateway/logging-off", doc, route.where,
                  f"route {route.name!r}: no logging plugin applies to it")  # fmt: skip
    return 1 if llm else 0


def _shared(plugin: Plugin) -> bool:
    """A limit counted for the service as a whole rather than per consumer or client IP."""
    by = plugin.config.get("limit_by", plugin.config.get("identifier"))
    return isinstance(by, str) and by.lower() == "service"


def _upstream(
    doc: Doc, key: str, service: dict[str, Any], where: Where, data: dict[str, Any],
    found: Collector,
) -> None:  # fmt: skip
    url = service.get("url")
    if isinstance(url, str):
        if plaintext_url(url):
            found.add("gateway/upstream-plaintext", doc, (*where, "url"),
                      f"service {key!r} forwards over plain HTTP ({url})")  # fmt: skip
    else:
        protocol = str(service.get("protocol") or "http").lower()
        host = service.get("host")
        hosts = _upstream_hosts(data, host) if isinstance(host, str) else []
        if protocol in ("http", "ws", "grpc") and any(not is_loopback(h) for h in hosts):
            field = "protocol" if "protocol" in service else "host"
            found.add("gateway/upstream-plaintext", doc, (*where, field),
                      f"service {key!r} forwards over {protocol} (not TLS) to "
                      f"{', '.join(hosts)}")  # fmt: skip
    if is_false(service.get("tls_verify")):
        found.add("gateway/upstream-tls-unverified", doc, (*where, "tls_verify"),
                  f"service {key!r}: tls_verify is false")  # fmt: skip


def _upstream_hosts(data: dict[str, Any], host: str) -> list[str]:
    """The hosts behind a service's `host`: an upstream's targets when it names one."""
    for upstream in as_list(data.get("upstreams")):
        if as_dict(upstream).get("name") == host:
            targets = as_list(as_dict(upstream).get("targets"))
            return [_host(str(as_dict(t).get("target", ""))) for t in targets]
    return [host]


def _host(target: str) -> str:
    """`host:port`, `[v6]:port` or a bare host -> the host."""
    if target.startswith("["):
        return target[1 : target.find("]")] if "]" in target else target
    return target.rsplit(":", 1)[0] if target.count(":") == 1 else target


def _ai_upstreams(doc: Doc, plugin: Plugin, found: Collector) -> None:
    if plugin.name == "ai-proxy":
        models: list[tuple[Where, Any]] = [(("config", "model"), plugin.config.get("model"))]
    elif plugin.name == "ai-proxy-advanced":
        models = [(("config", "targets", i, "model"), as_dict(t).get("model"))
                  for i, t in enumerate(as_list(plugin.config.get("targets")))]  # fmt: skip
    else:
        return
    for where, model in models:
        url = as_dict(as_dict(model).get("options")).get("upstream_url")
        if plaintext_url(url):
            found.add("gateway/upstream-plaintext", doc,
                      (*plugin.where, *where, "options", "upstream_url"),
                      f"{plugin.name} sends prompts over plain HTTP ({url})")  # fmt: skip
