"""The `endpoint` check on endpoint assets of a manifest in tmp_path: fail with findings on the
leaky server, pass on the secure one with the key from the variable `auth:` names, error (never
pass) for a placeholder URL that does not resolve, a closed port, a variable that is not set;
`url`, `auth` and `owned` only on endpoint assets; and `custos scan` stores no key."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from custos.catalog.catalog import Catalog
from custos.checks.base import CheckContext, Target
from custos.checks.endpoint import Endpoint
from custos.checks.model import Evidence
from custos.checks.registry import get_check, run_check
from custos.inventory.schema import Manifest
from tests.cli.run import custos
from tests.endpoint.servers import KEY, leaky_handler, secure_handler, serving

NOW = dt.datetime.now(dt.UTC)
CHECK = Endpoint()


def _manifest(*assets: dict[str, Any]) -> dict[str, Any]:
    return {
        "organisation": {"name": "Acme", "scope": "Fraud"},
        "systems": [{"id": "scorer", "name": "Scorer", "purpose": "Scores payments",
                     "lifecycle": "production", "eu_ai_act": {"role": "provider", "tier": "high"},
                     "assets": list(assets)}],
    }  # fmt: skip


def _run(tmp_path: Path, asset: dict[str, Any]) -> Evidence:
    manifest = Manifest.model_validate(_manifest(asset))
    system = manifest.systems[0]
    return run_check(CHECK, Target(system, system.assets[0]), CheckContext(manifest, tmp_path, NOW))


def test_contract(shipped: Catalog) -> None:
    assert get_check("endpoint") is not None
    assert CHECK.kinds == frozenset({"endpoint"})
    for control in CHECK.evidences:
        assert control in shipped.controls, control
    listed = {c.id for c in shipped.framework_controls("custos-ai")
              if c.verification and "endpoint" in c.verification.checks}  # fmt: skip
    assert listed >= {"custos:ai:endpoint-authentication", "custos:ai:endpoint-tls",
                      "custos:ai:endpoint-rate-limiting", "custos:ai:model-extraction"}  # fmt: skip
    assert listed <= set(CHECK.evidences)
    for iso in ("5.15", "8.5", "8.20", "8.21", "8.26"):
        assert f"iso27002:2022:{iso}" in CHECK.evidences


def test_fields_only_on_endpoint_assets() -> None:
    for field, value in (("url", "https://x.example/p"), ("auth", "API_KEY"), ("owned", True)):
        with pytest.raises(ValidationError, match="only endpoint assets have url, auth and owned"):
            Manifest.model_validate(_manifest({"id": "m", "kind": "model",
                                               "location": "m.bin", field: value}))  # fmt: skip
    with pytest.raises(ValidationError):
        Manifest.model_validate(_manifest({"id": "e", "kind": "endpoint", "location": "x",
                                           "auth": "sk-live not a name"}))  # fmt: skip
    with pytest.raises(ValidationError):
        Manifest.model_validate(_manifest({"id": "e", "kind": "endpoint", "location": "x",
                                           "url": "ftp://x.example/"}))  # fmt: skip
    ok = Manifest.model_validate(_manifest({"id": "e", "kind": "endpoint", "location": "svc",
                                            "url": "https://x.example/p", "auth": "API_KEY",
                                            "owned": True}))  # fmt: skip
    assert ok.systems[0].assets[0].owned


def test_leaky_fails_and_secure_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORER_KEY", KEY)
    with serving(leaky_handler("open")) as leaky, serving(secure_handler()) as secure:
        failed = _run(tmp_path, {"id": "api", "kind": "endpoint", "location": leaky.url(),
                                 "auth": "SCORER_KEY"})  # fmt: skip
        passed = _run(tmp_path, {"id": "api", "kind": "endpoint", "location": "services/api",
                                 "url": secure.url(), "auth": "SCORER_KEY"})  # fmt: skip
    assert failed.result == "fail", failed.summary
    rules = {f.rule for f in failed.findings}
    assert {"endpoint/no-auth", "endpoint/probability-vector", "endpoint/no-rate-limit"} <= rules
    assert failed.examined[0].location == leaky.url()
    assert failed.examined[0].sha256 is None
    assert passed.result == "pass", (passed.summary, passed.findings)
    assert "rate-limit" in passed.summary
    for evidence in (failed, passed):
        assert KEY not in repr(evidence)


def test_unreachable_and_missing_key_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://fraud-api.internal.example/v1/score"  # a placeholder that does not resolve
    placeholder = _run(tmp_path, {"id": "api", "kind": "endpoint", "location": url})
    assert placeholder.result == "error"
    assert "unreachable" in placeholder.summary
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    refused = _run(tmp_path, {"id": "api", "kind": "endpoint",
                              "location": f"http://127.0.0.1:{port}/p"})  # fmt: skip
    assert refused.result == "error"
    assert "unreachable" in refused.summary
    no_url = _run(tmp_path, {"id": "api", "kind": "endpoint", "location": "services/api"})
    assert no_url.result == "error"
    monkeypatch.delenv("SCORER_KEY", raising=False)
    with serving(secure_handler()) as secure:
        unset = _run(tmp_path, {"id": "api", "kind": "endpoint", "location": secure.url(),
                                "auth": "SCORER_KEY"})  # fmt: skip
    assert unset.result == "error"
    assert "$SCORER_KEY is not set" in unset.summary


def test_a_project_scan_stores_no_key(tmp_path: Path) -> None:
    with serving(leaky_handler("any-key")) as leaky:
        manifest = _manifest({"id": "api", "kind": "endpoint", "location": leaky.url(),
                              "auth": "SCORER_KEY", "owned": True,
                              "owner": "Sam", "classification": "internal"})  # fmt: skip
        (tmp_path / "custos.yaml").write_text(yaml.safe_dump(manifest))
        scanned = custos("scan", str(tmp_path), "--format", "json", env={"SCORER_KEY": KEY})
    assert scanned.code == 0, scanned.err
    (evidence,) = [e for e in scanned.json()["evidence"] if e["check"] == "endpoint"]
    assert evidence["result"] == "fail"
    assert "endpoint/key-in-query" in {f["rule"] for f in evidence["findings"]}
    assert KEY not in scanned.out + scanned.err
    stored = b"".join(p.read_bytes() for p in (tmp_path / ".custos").rglob("*") if p.is_file())
    assert KEY.encode() not in stored


def test_a_retired_endpoint_is_not_probed(tmp_path: Path) -> None:
    retired = _run(tmp_path, {"id": "api", "kind": "endpoint", "lifecycle": "retired",
                              "location": "https://old-api.internal.example/v1"})  # fmt: skip
    assert retired.result == "not_applicable"
