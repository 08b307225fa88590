"""Envoy AI Gateway resources: Kubernetes YAML, several documents to a file and several files to
a deployment, so the resources of every file given are judged together.

Read: `AIGatewayRoute` (its parent Gateways and `llmRequestCosts`), Envoy Gateway's
`SecurityPolicy` (apiKeyAuth, jwt, oidc, basicAuth, extAuth) and `BackendTrafficPolicy`
(`rateLimit`, with token costs read from the `io.envoy.ai_gateway` metadata), `EnvoyProxy`
access logging, `Backend` and `BackendTLSPolicy` (TLS to upstreams), and `Secret`s written
into the files. A policy covers a route when one of its `targetRefs` (or `targetSelectors`)
names the route, the HTTPRoute generated for it, or one of its parent Gateways, in the same
namespace. Resources kept elsewhere (another repository, the cluster) are not seen, so a
route here whose policies live there is reported: list every file of the deployment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custos.gateways.model import Config, Doc, Where
from custos.gateways.rules import (
    Collector,
    as_dict,
    as_list,
    decoded,
    find_secrets,
    has_value,
    is_loopback,
    is_true,
    literal_secret,
    mask,
)

HINT = (
    "keep it out of the repository: a Secret made by your secret manager (External Secrets, "
    "Sealed Secrets, SOPS) and named by secretRef"
)
AI_GROUP = "aigateway.envoyproxy.io/"
EG_GROUP = "gateway.envoyproxy.io/"
AUTH_KEYS = ("apiKeyAuth", "jwt", "oidc", "basicAuth", "extAuth")
ROUTE_KINDS = frozenset({"AIGatewayRoute", "HTTPRoute"})
AI_METADATA = "io.envoy.ai_gateway"
NAME: Where = ("metadata", "name")  # where a finding about a whole resource points


@dataclass(frozen=True)
class Resource:
    doc: Doc
    api: str
    kind: str
    name: str
    namespace: str
    labels: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)

    def refs(self) -> list[tuple[str, str]]:
        """(kind, name) of what a policy targets by reference."""
        found = [as_dict(r) for r in as_list(self.spec.get("targetRefs"))]
        if "targetRef" in self.spec:
            found.append(as_dict(self.spec["targetRef"]))
        return [(str(r.get("kind", "")), str(r.get("name", ""))) for r in found]

    def selects(self, kind: str, target: Resource) -> bool:
        for selector in as_list(self.spec.get("targetSelectors")):
            selector = as_dict(selector)
            labels = as_dict(selector.get("matchLabels"))
            if (
                selector.get("kind", kind) == kind
                and labels
                and all(target.labels.get(k) == v for k, v in labels.items())
            ):
                return True
        return False


def _resources(configs: Sequence[Config]) -> list[Resource]:
    found = []
    for config in configs:
        for doc in config.docs:
            data = as_dict(doc.data)
            meta = as_dict(data.get("metadata"))
            api, kind = data.get("apiVersion"), data.get("kind")
            if not isinstance(api, str) or not isinstance(kind, str):
                continue
            name, namespace = str(meta.get("name", "")), str(meta.get("namespace") or "default")
            labels, spec = as_dict(meta.get("labels")), as_dict(data.get("spec"))
            found.append(Resource(doc, api, kind, name, namespace, labels, spec))
    return found


def _of(resources: list[Resource], group: str, kind: str) -> list[Resource]:
    return [r for r in resources if r.api.startswith(group) and r.kind == kind]


class _Route:
    def __init__(self, resource: Resource, gateways: list[Resource]) -> None:
        self.resource = resource
        spec = resource.spec
        refs = as_list(spec.get("parentRefs")) or as_list(spec.get("targetRefs"))
        self.parents = [
            (
                str(as_dict(r).get("name", "")),
                str(as_dict(r).get("namespace") or resource.namespace),
            )
            for r in refs
            if as_dict(r).get("kind", "Gateway") == "Gateway"
        ]
        self.gateways = [g for g in gateways if (g.name, g.namespace) in self.parents]
        self.costs = {
            str(as_dict(c).get("metadataKey")) for c in as_list(spec.get("llmRequestCosts"))
        }

    def covered_by(self, policy: Resource) -> bool:
        route = self.resource
        if policy.namespace == route.namespace:
            for kind, name in policy.refs():
                if kind in ROUTE_KINDS and name == route.name:
                    return True
                if kind == "Gateway" and (name, policy.namespace) in self.parents:
                    return True
            if any(policy.selects(kind, route) for kind in ROUTE_KINDS):
                return True
        return any(
            policy.namespace == g.namespace and policy.selects("Gateway", g) for g in self.gateways
        )


def analyse(configs: Sequence[Config], found: Collector) -> dict[Path, dict[str, Any]]:
    """Findings for the Envoy AI Gateway resources of all these files together; returns the
    facts of each file."""
    resources = _resources(configs)
    gateways = _of(resources, "gateway.networking.k8s.io/", "Gateway")
    security = _of(resources, EG_GROUP, "SecurityPolicy")
    traffic = _of(resources, EG_GROUP, "BackendTrafficPolicy")
    for config in configs:
        for doc in config.docs:
            if as_dict(doc.data).get("kind") == "Secret":
                _secret(doc, found)
            else:
                find_secrets(doc, found, HINT)
    for resource in _of(resources, AI_GROUP, "AIGatewayRoute"):
        route = _Route(resource, gateways)
        _authentication(route, [p for p in security if route.covered_by(p)], found)
        _limits(route, [p for p in traffic if route.covered_by(p)], found)
    for proxy in _of(resources, EG_GROUP, "EnvoyProxy"):
        access = as_dict(as_dict(proxy.spec.get("telemetry")).get("accessLog"))
        if is_true(access.get("disable")):
            found.add("gateway/logging-off", proxy.doc,
                      ("spec", "telemetry", "accessLog", "disable"),
                      f"EnvoyProxy {proxy.name!r} switches the access log off")  # fmt: skip
    tls_policies = _of(resources, "gateway.networking.k8s.io/", "BackendTLSPolicy")
    for backend in _of(resources, EG_GROUP, "Backend"):
        _upstream(backend, tls_policies, found)
    facts: dict[Path, dict[str, Any]] = {}
    for config in configs:
        kinds = Counter(r.kind for r in resources if r.doc.path == config.path)
        facts[config.path] = {"resources": dict(sorted(kinds.items()))}
    return facts


def _authentication(route: _Route, policies: list[Resource], found: Collector) -> None:
    if any(any(has_value(p.spec.get(key)) for key in AUTH_KEYS) for p in policies):
        return
    name = route.resource.name
    gateways = ", ".join(n for n, _ in route.parents) or "none"
    covered = (f"; SecurityPolicy {policies[0].name!r} applies but sets no client "
               "authentication" if policies else "")  # fmt: skip
    found.add("gateway/no-auth", route.resource.doc, NAME,
              f"AIGatewayRoute {name!r}: no SecurityPolicy with apiKeyAuth, jwt, oidc, "
              f"basicAuth or extAuth targets it or its Gateway ({gateways}){covered}")  # fmt: skip


def _limits(route: _Route, policies: list[Resource], found: Collector) -> None:
    rules: list[dict[str, Any]] = []
    for policy in policies:
        limit = as_dict(policy.spec.get("rateLimit"))
        for scope in ("global", "local"):
            rules += [as_dict(r) for r in as_list(as_dict(limit.get(scope)).get("rules"))]
    name = route.resource.name
    per_client = [r for r in rules if as_list(r.get("clientSelectors"))]
    if not per_client:
        why = ("its rate limit rules have no clientSelectors, so every client shares one "
               "budget" if rules else "no BackendTrafficPolicy with a rateLimit targets it or "
               "its Gateway")  # fmt: skip
        found.add("gateway/no-rate-limit", route.resource.doc, NAME,
                  f"AIGatewayRoute {name!r}: {why}")  # fmt: skip
        return
    keys = [_token_key(r) for r in per_client]
    counted = [k for k in keys if k is not None and k in route.costs]
    if not counted:
        missing = [k for k in keys if k is not None]
        why = (f"the limits count {missing[0]!r}, which the route does not record in "
               "spec.llmRequestCosts" if missing else "its limits count requests, not "
               "tokens (no cost from io.envoy.ai_gateway metadata)")  # fmt: skip
        found.add("gateway/no-token-limit", route.resource.doc, NAME,
                  f"AIGatewayRoute {name!r}: {why}")  # fmt: skip


def _token_key(rule: dict[str, Any]) -> str | None:
    """The AI Gateway metadata key a rule's cost is taken from, if any."""
    cost = as_dict(rule.get("cost"))
    for side in ("response", "request"):
        part = as_dict(cost.get(side))
        metadata = as_dict(part.get("metadata"))
        if part.get("from") == "Metadata" and metadata.get("namespace") == AI_METADATA:
            return str(metadata.get("key"))
    return None


def _upstream(backend: Resource, tls_policies: list[Resource], found: Collector) -> None:
    tls = as_dict(backend.spec.get("tls"))
    if is_true(tls.get("insecureSkipVerify")):
        found.add("gateway/upstream-tls-unverified", backend.doc,
                  ("spec", "tls", "insecureSkipVerify"),
                  f"Backend {backend.name!r}: insecureSkipVerify is true")  # fmt: skip
        return
    protected = bool(tls) or any(
        p.namespace == backend.namespace and ("Backend", backend.name) in p.refs()
        for p in tls_policies
    )
    hosts = []
    for endpoint in as_list(backend.spec.get("endpoints")):
        endpoint = as_dict(endpoint)
        host = as_dict(endpoint.get("fqdn")).get("hostname") or as_dict(
            endpoint.get("ip")).get("address")  # fmt: skip
        if isinstance(host, str) and not is_loopback(host):
            hosts.append(host)
    if hosts and not protected:
        found.add("gateway/upstream-plaintext", backend.doc, ("spec", "endpoints"),
                  f"Backend {backend.name!r} ({', '.join(hosts)}) has no BackendTLSPolicy or "
                  "spec.tls: Envoy connects in plain text")  # fmt: skip


def _secret(doc: Doc, found: Collector) -> None:
    data = as_dict(doc.data)
    name = as_dict(data.get("metadata")).get("name", "")
    for section in ("stringData", "data"):
        for key, value in as_dict(data.get(section)).items():
            if not isinstance(value, str):
                continue
            text = decoded(value) if section == "data" else value
            secret = literal_secret(text)
            if secret is not None:
                found.add("gateway/hardcoded-secret", doc, (section, key),
                          f"Secret {name!r} holds {key!r} in the file ({mask(secret)}); "
                          f"{HINT}")  # fmt: skip
