"""The whole assessment on a small real project: statuses, rollups, inference, SoA, roadmap."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

import pytest

from custos._hashing import sha256_path
from custos.assess.engine import AssessInput, assess
from custos.assess.model import AssessmentReport, ControlStatus
from custos.catalog.catalog import Catalog
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Evidence, Examined, Outcome
from custos.checks.registry import run_all
from custos.inventory.schema import Assignment, Manifest

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


class FakeSignature(Check):
    """Stands in for the model-signature check: passes when the model file says 'signed'."""

    name = "model-signature"
    version = 1
    title = "fake"
    kinds: ClassVar[frozenset[str]] = frozenset({"model"})  # type: ignore[misc]
    evidences = ("custos:ai:model-signing",)

    def run(self, target: Target, context: CheckContext) -> Outcome:
        assert target.asset is not None
        path = context.resolve(target.asset.location)
        examined = (Examined(target.asset.location, sha256_path(path), path.stat().st_size),)
        ok = path.read_bytes().startswith(b"signed")
        return Outcome("pass" if ok else "fail", "sig", (), examined)


def manifest(tier: str = "high", role: str = "provider") -> Manifest:
    return Manifest.model_validate(
        {
            "organisation": {"name": "Acme", "scope": "AI"},
            "systems": [
                {
                    "id": "scorer",
                    "name": "Scorer",
                    "purpose": "scores",
                    "owner": "ml@acme.example",
                    "lifecycle": "production",
                    "eu_ai_act": {"role": role, "tier": tier},
                    "assets": [
                        {"id": "model", "kind": "model", "location": "model.bin",
                         "classification": "internal", "owner": "ml"},
                    ],
                }
            ],
            "risks": [
                {"id": "R1", "title": "Tampered model", "threats": ["atlas:AML.T0010.003"],
                 "assets": ["model"], "likelihood": 4, "impact": 5, "treatment": "mitigate",
                 "controls": ["custos:ai:model-signing"], "owner": "sec@acme.example"},
                {"id": "R2", "title": "Poisoning", "threats": ["atlas:AML.T0020"],
                 "systems": ["scorer"], "likelihood": 2, "impact": 3, "treatment": "mitigate",
                 "controls": ["custos:ai:data-poisoning"]},
            ],
            "attestations": [
                {"id": "A1", "control": "custos:ai:human-oversight", "statement": "Overseen.",
                 "author": "cro", "date": "2026-06-01", "expires": "2027-06-01"},
            ],
            "exclusions": [
                {"control": "iso27002:2022:7.4",
                 "justification": "cloud hosted, provider covers it"}
            ],
        }
    )  # fmt: skip


def run(
    tmp_path: Path, shipped: Catalog, content: bytes = b"signed", m: Manifest | None = None,
    later: bytes | None = None,
) -> AssessmentReport:  # fmt: skip
    model = tmp_path / "model.bin"
    model.write_bytes(content)
    m = m or manifest()
    evidence: list[Evidence] = run_all(CheckContext(m, tmp_path, NOW), [FakeSignature()])
    if later is not None:
        model.write_bytes(later)
    hashes = {"model.bin": sha256_path(model)}
    return assess(
        AssessInput(
            shipped, m, evidence, hashes, {}, [FakeSignature()], NOW + dt.timedelta(hours=1)
        )
    )


def status(report: AssessmentReport, control: str) -> ControlStatus:
    return next(s for s in report.statuses if s.control == control and s.system == "scorer")


def test_passing_check_implements_the_requirement(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped)
    signing = status(report, "custos:ai:model-signing")
    assert signing.status == "implemented"
    assert signing.basis == "direct"
    assert any(r.kind == "evidence" and "pass" in r.text for r in signing.reasons)
    assert status(report, "custos:ai:human-oversight").status == "implemented"  # attested


def test_failing_check(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped, content=b"unsigned")
    assert status(report, "custos:ai:model-signing").status == "not_implemented"


def test_changed_artifact_voids_the_evidence(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped, later=b"signed but different bytes")
    signing = status(report, "custos:ai:model-signing")
    assert signing.status == "unknown"
    assert any("changed since it was checked" in r.text for r in signing.reasons)


def test_rollup_to_iso27002_parent(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped)
    crypto = status(report, "iso27002:2022:8.24")
    assert crypto.basis == "rollup"
    assert "custos:ai:model-signing" in crypto.via
    # Its other AI requirements (encryption at rest / in transit) have no evidence yet.
    assert crypto.status == "partial"
    assert status(report, "iso27002:2022:7.4").status == "not_applicable"


def test_inferred_statuses_are_marked(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped)
    inferred = [s for s in report.statuses if s.framework == "iso42001" and s.basis == "mapping"]
    assert inferred
    assert all(s.via for s in inferred)
    assert all(any(r.kind == "mapping" for r in s.reasons) for s in inferred)
    art15 = status(report, "euaiact:art15")
    assert art15.basis == "mapping"
    assert art15.status != "not_applicable"


def test_ai_act_articles_follow_role_and_tier(tmp_path: Path, shipped: Catalog) -> None:
    deployer = run(tmp_path, shipped, m=manifest(tier="high", role="deployer"))
    assert status(deployer, "euaiact:art15").status == "not_applicable"
    assert status(deployer, "euaiact:art26").status != "not_applicable"
    minimal = run(tmp_path, shipped, m=manifest(tier="minimal"))
    assert status(minimal, "euaiact:art9").status == "not_applicable"


def test_soa_reasons(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped)
    soa = {e.control: e for e in report.soa}
    assert len([e for e in report.soa if e.framework == "iso27002"]) == 93
    assert len([e for e in report.soa if e.framework == "iso42001"]) == 38
    crypto = soa["iso27002:2022:8.24"]
    assert crypto.applicable
    assert any(j.startswith("risk: R1") for j in crypto.justification)
    assert any(j.startswith("legal: EU AI Act Art. 15") for j in crypto.justification)
    excluded = soa["iso27002:2022:7.4"]
    assert not excluded.applicable
    assert excluded.exclusion == "cloud hosted, provider covers it"
    assert any(j.startswith("best practice") for e in report.soa for j in e.justification)


def test_gaps_ranked_by_risk_and_roadmap_by_reduction_per_effort(
    tmp_path: Path, shipped: Catalog
) -> None:
    report = run(tmp_path, shipped, content=b"unsigned")
    assert report.gaps[0].control in ("custos:ai:model-signing", "iso27002:2022:8.24")
    assert report.gaps[0].risk_score == 20
    ratios = [item.risk_reduction / item.effort for item in report.roadmap]
    assert ratios == sorted(ratios, reverse=True)
    first = report.roadmap[0]
    assert first.control == "custos:ai:model-signing"
    assert first.risks == ("R1",)
    assert first.phase == "0-30"
    assert first.owner == "sec@acme.example"
    phases = [item.phase for item in report.roadmap]
    assert phases == sorted(phases, key=["0-30", "31-90", "91-180"].index)
    assert all(item.start <= item.due for item in report.roadmap)


def test_risk_views_and_scores(tmp_path: Path, shipped: Catalog) -> None:
    report = run(tmp_path, shipped)
    r1 = next(r for r in report.risks if r.id == "R1")
    assert (r1.inherent, r1.inherent_level, r1.systems) == (20, "critical", ("scorer",))
    assert r1.open_controls == ()
    r2 = next(r for r in report.risks if r.id == "R2")
    assert r2.open_controls == ("custos:ai:data-poisoning",)
    assert 0 < report.overall_score < 100
    assert report.systems[0].tier == "high"
    assert report.trend[-1].score == report.overall_score


@pytest.mark.parametrize("tier", ["minimal", "limited", "gpai", "high"])
def test_every_tier_assesses(tmp_path: Path, shipped: Catalog, tier: str) -> None:
    report = run(tmp_path, shipped, m=manifest(tier=tier))
    assert {s.framework for s in report.statuses} >= {"custos-ai", "iso27002", "iso42001"}


def test_assignments_decide_owner_and_due_date(tmp_path: Path, shipped: Catalog) -> None:
    due = (NOW + dt.timedelta(days=120)).date()
    decided = manifest().model_copy(
        update={
            "assignments": [
                Assignment(control="custos:ai:model-signing", owner="mlops@acme.example", due=due)
            ]
        }
    )
    report = run(tmp_path, shipped, content=b"unsigned", m=decided)
    item = next(i for i in report.roadmap if i.control == "custos:ai:model-signing")
    assert item.owner == "mlops@acme.example"
    assert item.due == due
    assert item.phase == "91-180"
    assert item.start <= item.due
    parent = shipped.control("custos:ai:model-signing").parent
    soa = next(e for e in report.soa if e.control == parent)
    assert soa.target_date == due  # the SoA's target date follows the decision
    # Without the decision, Custos proposes the risk owner and an early date.
    proposed = run(tmp_path, shipped, content=b"unsigned").roadmap[0]
    assert (proposed.owner, proposed.phase) == ("sec@acme.example", "0-30")
