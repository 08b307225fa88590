"""Two AI systems whose every name is a marker, for tests/server/test_visibility_leaks.py:
system A's strings all contain `aaa1`, system B's all contain `zzb7`, so a response that shows
B's data to a caller bound to A is found by one substring search."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from custos.checks.model import Evidence, Examined, Finding, Severity
from custos.server.assessment import reassess
from custos.server.context import AppContext
from tests.server.conftest import Running
from tests.server.inventory_data import seed

A, B = "aaa1-system", "zzb7-system"
A_MARK, B_MARK = "aaa1", "zzb7"
POOLED = "custos:ai:data-poisoning"  # a roadmap item, SoA line and risk control of both systems
EXCLUDED = "iso27002:2022:7.1"  # excluded for A and for B, apart
SHARED_EXCLUSION = "iso27002:2022:7.2"  # one exclusion naming both systems
AT = dt.datetime(2026, 5, 30, 9, 0, tzinfo=dt.UTC)


def _system(system_id: str, mark: str) -> dict[str, Any]:
    return {
        "id": system_id,
        "name": f"{mark.upper()} Name",
        "purpose": f"{mark.upper()}-PURPOSE scores things",
        "owner": f"owner-{mark}@x.example",
        "lifecycle": "production",
        "eu_ai_act": {"role": "deployer", "tier": "minimal"},
        "assets": [
            {
                "id": f"{mark}-model", "kind": "model", "owner": f"asset-owner-{mark}@x.example",
                "location": f"{mark}/models/model.safetensors", "classification": "confidential",
            },
            {"id": f"{mark}-shared-asset", "kind": "dataset", "location": f"{mark}/data/train"},
        ],
    }  # fmt: skip


def _risk(risk_id: str, systems: list[str], owner: str | None, **more: Any) -> dict[str, Any]:
    return {
        "id": risk_id, "title": f"Risk {risk_id} title", "threats": ["atlas:AML.T0020"],
        "systems": systems, "likelihood": 4, "impact": 4, "treatment": "mitigate",
        "controls": [POOLED], "owner": owner, "review_date": "2026-09-01", **more,
    }  # fmt: skip


def manifest() -> dict[str, Any]:
    """A's risk has no owner and B's has one, so the pooled roadmap item on POOLED proposes B's
    risk owner: the red team's finding. The shared risk names an asset of each system."""
    return {
        "organisation": {"name": "Example Bank", "scope": "card payments AI"},
        "systems": [_system(A, A_MARK), _system(B, B_MARK)],
        "risks": [
            _risk("aaa1-risk", [A], None),
            _risk("zzb7-risk", [B], "risk-owner-zzb7@x.example"),
            _risk("shared-risk", [], None, assets=["aaa1-shared-asset", "zzb7-shared-asset"]),
        ],
        "attestations": [
            _attestation("aaa1-att", A, "aaa1"),
            _attestation("zzb7-att", B, "zzb7"),
            {**_attestation("shared-att", A, "both"), "systems": [A, B]},
        ],
        "exclusions": [
            {"control": EXCLUDED, "systems": [B], "justification": "ZZB7 exclusion: no offices"},
            {"control": EXCLUDED, "systems": [A], "justification": "AAA1 exclusion: remote"},
            {"control": SHARED_EXCLUSION, "systems": [A, B], "justification": "No staff: both"},
        ],
    }


def _attestation(att_id: str, system: str, mark: str) -> dict[str, Any]:
    return {
        "id": att_id, "control": "iso27002:2022:5.1", "systems": [system],
        "statement": f"{mark.upper()} statement: the policy is approved.",
        "author": f"author-{mark}@x.example", "date": "2026-05-01", "expires": "2027-05-01",
    }  # fmt: skip


def _evidence(system: str, mark: str) -> Evidence:
    return Evidence(
        check="model-card", check_version=1, system=system, asset=f"{mark}-model",
        result="fail", summary=f"{mark.upper()} summary: model card lacks sections",
        controls=("custos:ai:model-documentation",), collected_at=AT,
        expires_at=AT + dt.timedelta(days=90),
        findings=(
            Finding(rule="model-card/missing-section", severity=Severity.high,
                    message=f"{mark.upper()} finding", location=f"{mark}/MODEL_CARD.md",
                    controls=("custos:ai:model-documentation",)),
        ),
        examined=(Examined(f"{mark}/models/model.safetensors", "ab" * 32, 10),),
    )  # fmt: skip


def _vulnerable(system: str, mark: str) -> Evidence:
    """A repository scan finding a known vulnerability whose package and advisory carry the
    mark: the tracked vulnerability (custos.vulns) of each system is marked too."""
    message = (f"{mark}-lib 1.0: GHSA-{mark}-0000-0000 (CVE-2026-{mark}): {mark.upper()} flaw; "
               "fixed in 1.1")  # fmt: skip
    return Evidence(
        check="repository", check_version=1, system=system, asset=f"{mark}-repo",
        result="fail", summary=f"{mark.upper()} repository", controls=("iso27002:2022:8.8",),
        collected_at=AT, expires_at=AT + dt.timedelta(days=90),
        findings=(Finding("repo/vulnerable-dependency", Severity.high, message,
                          f"{mark}/requirements.txt:1", ("iso27002:2022:8.8",)),),
    )  # fmt: skip


def assessed(server: Running) -> None:
    """The inventory, one scan of each system and the assessment, as pushes would leave them."""
    seed(server.store, manifest())
    evidence = [
        _evidence(A, A_MARK),
        _evidence(B, B_MARK),
        _vulnerable(A, A_MARK),
        _vulnerable(B, B_MARK),
    ]
    passing = dataclasses.replace(evidence[0], check="model-signature", result="pass", findings=())
    server.store.save_scan(
        [*evidence, passing], started_at=AT, finished_at=AT,
        manifest_path="custos.yaml", manifest_sha256="0" * 64,
    )  # fmt: skip
    assert reassess(AppContext(server.settings, server.store), "seed") is not None
