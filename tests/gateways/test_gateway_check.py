"""The `gateway-config` check on a project in tmp_path: the configs its endpoints name under
`gateways:`, the ones found by content that nobody names, not applicable without any; the
manifest field; and discovery by content."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from custos._hashing import sha256_file
from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.gateway_config import CONTROLS, GatewayConfig
from custos.checks.model import Evidence, Severity
from custos.checks.registry import get_check, run_check
from custos.gateways.discover import discover
from custos.gateways.rules import RULES
from custos.inventory.schema import Asset, Manifest
from tests.gateways.planted import copy_secure_envoy, plant

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
CHECK = GatewayConfig()


def system(sid: str, assets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": sid, "name": sid.title(), "purpose": "Answers claims questions",
        "lifecycle": "production", "eu_ai_act": {"role": "deployer", "tier": "limited"},
        "assets": assets,
    }  # fmt: skip


def endpoint(gateways: list[str] | None = None, **more: Any) -> dict[str, Any]:
    asset: dict[str, Any] = {
        "id": "chat-api", "kind": "endpoint", "location": "https://chat.internal.example/v1",
        "classification": "internal", "owner": "Platform",
    }  # fmt: skip
    if gateways is not None:
        asset["gateways"] = gateways
    return asset | more


def manifest(*systems: dict[str, Any]) -> Manifest:
    return Manifest.model_validate(
        {"organisation": {"name": "Acme", "scope": "Claims"}, "systems": list(systems)}
    )


def run(m: Manifest, root: Path) -> dict[str, Evidence]:
    context = CheckContext(m, root, NOW)
    return {s.id: run_check(CHECK, Target(s), context) for s in m.systems}


def rules(evidence: Evidence) -> set[tuple[str, str, Severity]]:
    return {(f.rule, f.location, f.severity) for f in evidence.findings}


def test_contract(shipped: Catalog) -> None:
    assert get_check("gateway-config") is not None
    assert CHECK.kinds == frozenset()  # once per AI system
    for control in CHECK.evidences:
        assert control in shipped.controls, control
    listed = {
        c.id
        for c in shipped.framework_controls("custos-ai")
        if c.verification is not None and "gateway-config" in c.verification.checks
    }
    assert listed == {
        "custos:ai:endpoint-authentication", "custos:ai:endpoint-rate-limiting",
        "custos:ai:access-logging",
    }  # fmt: skip
    assert listed <= set(CHECK.evidences)


def test_named_and_discovered_configs(tmp_path: Path) -> None:
    named = plant("litellm-gappy.yaml", tmp_path / "gateway" / "litellm.yaml")
    found = plant("kong-gappy.yaml", tmp_path / "deploy" / "kong.yaml")
    m = manifest(system("assistant", [endpoint(["gateway/litellm.yaml"])]),
                 system("batch", []))  # fmt: skip
    evidence = run(m, tmp_path)
    assistant = evidence["assistant"]
    assert assistant.result == "fail"
    got = rules(assistant)
    for line, rule in named.expected:
        assert (rule, f"gateway/litellm.yaml:{line}", RULES[rule].severity) in got
    for line, rule in found.expected:
        assert (rule, f"deploy/kong.yaml:{line}", RULES[rule].severity) in got
    assert ("gateway-config/undeclared", "deploy/kong.yaml", Severity.info) in got
    assert len(got) == len(named.expected) + len(found.expected) + 1
    examined = {e.location: e.sha256 for e in assistant.examined}
    assert examined == {
        "gateway/litellm.yaml": sha256_file(named.path),
        "deploy/kong.yaml": sha256_file(found.path),
    }
    assert "2 gateway config(s)" in assistant.summary
    assert assistant.controls == CONTROLS
    # The other system gets the config nobody names, not the one `assistant` names.
    locations = {f.location.split(":")[0] for f in evidence["batch"].findings}
    assert locations == {"deploy/kong.yaml"}
    for e in evidence.values():
        for f in e.findings:
            for value in (*named.secrets.values(), *found.secrets.values()):
                assert value not in f.message


def test_secure_configs_pass(tmp_path: Path) -> None:
    plant("litellm-secure.yaml", tmp_path / "gateway" / "litellm.yaml")
    copy_secure_envoy(tmp_path / "k8s")
    m = manifest(system("assistant", [
        endpoint(["gateway/litellm.yaml", "k8s/routes.yaml", "k8s/policies.yaml"]),
    ]))  # fmt: skip
    evidence = run(m, tmp_path)["assistant"]
    assert evidence.result == "pass", evidence.findings
    assert evidence.findings == ()
    assert len(evidence.examined) == 3


def test_not_applicable_without_configs(tmp_path: Path) -> None:
    (tmp_path / "values.yaml").write_text("proxy_config:\n  model_list: []\n")
    evidence = run(manifest(system("assistant", [endpoint()])), tmp_path)["assistant"]
    assert evidence.result == "not_applicable"
    assert evidence.findings == ()


def test_missing_and_unreadable_configs(tmp_path: Path) -> None:
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "broken.yaml").write_text("_format_version: '3.0'\nservices: [\n")
    m = manifest(system("assistant", [
        endpoint(["gateway/gone.yaml", "gateway/broken.yaml"]),
    ]))  # fmt: skip
    evidence = run(m, tmp_path)["assistant"]
    assert evidence.result == "fail"
    assert rules(evidence) == {
        ("gateway-config/missing", "gateway/gone.yaml", Severity.medium),
        ("gateway-config/unreadable", "gateway/broken.yaml:3", Severity.medium),
    }


def test_guardrails_matter_more_with_sensitive_data(tmp_path: Path) -> None:
    plant("litellm-gappy.yaml", tmp_path / "litellm.yaml")
    notes = {"id": "claims-notes", "kind": "dataset", "location": "litellm.yaml",
             "classification": "confidential", "owner": "Claims"}  # fmt: skip
    plain = run(manifest(system("a", [endpoint(["litellm.yaml"])])), tmp_path)["a"]
    sensitive = run(manifest(system("a", [endpoint(["litellm.yaml"]), notes])), tmp_path)["a"]
    (low,) = [f for f in plain.findings if f.rule == "gateway/no-guardrail"]
    (raised,) = [f for f in sensitive.findings if f.rule == "gateway/no-guardrail"]
    assert (low.severity, raised.severity) == (Severity.low, Severity.medium)
    assert "confidential or restricted" in raised.message


def test_retired_endpoints_are_not_read(tmp_path: Path) -> None:
    plant("kong-gappy.yaml", tmp_path / "kong.yaml")
    m = manifest(system("assistant", [endpoint(["kong.yaml"], lifecycle="retired")]))
    assert run(m, tmp_path)["assistant"].result == "not_applicable"


def test_gateways_only_on_endpoints() -> None:
    with pytest.raises(ValidationError, match="only endpoint assets have gateway configs"):
        Asset.model_validate({"id": "m", "kind": "model", "location": "m.bin",
                              "gateways": ["litellm.yaml"]})  # fmt: skip
    with pytest.raises(ValidationError, match="not URLs"):
        Asset.model_validate(endpoint(["https://gw.example/config.yaml"]))
    assert Asset.model_validate(endpoint(["deploy/litellm.yaml"])).gateways == [
        "deploy/litellm.yaml"
    ]


def test_discovery_by_content(tmp_path: Path) -> None:
    plant("litellm-secure.yaml", tmp_path / "ops" / "proxy.yml")
    plant("kong-secure.yaml", tmp_path / "kong" / "kong.yaml")
    copy_secure_envoy(tmp_path / "k8s" / "ai")
    # Envoy Gateway resources without an AI Gateway file beside them stay out.
    (tmp_path / "k8s" / "web").mkdir(parents=True)
    (tmp_path / "k8s" / "web" / "policy.yaml").write_text(
        "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: SecurityPolicy\nmetadata:\n  name: web\n"
    )
    decoys = {
        "chart/values.yaml": "proxy_config:\n  model_list: []\n",  # not at the top level
        "chart/templates/route.yaml": "{{- if .Values.ai }}\napiVersion: "
        "aigateway.envoyproxy.io/v1alpha1\nkind: AIGatewayRoute\n{{- end }}\n",
        ".venv/lib/config.yaml": "model_list: []\n",
        "notes.txt": "model_list:\n",
        "app/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n",
    }
    for name, text in decoys.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = [(p.relative_to(tmp_path).as_posix(), product) for p, product in discover(tmp_path)]
    assert found == [
        ("k8s/ai/policies.yaml", "envoy-ai-gateway"),
        ("k8s/ai/routes.yaml", "envoy-ai-gateway"),
        ("kong/kong.yaml", "kong"),
        ("ops/proxy.yml", "litellm"),
    ]
