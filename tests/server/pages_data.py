"""A fuller assessment than tests/store/samples.py for the page tests: risks, findings, SoA,
roadmap, attestations and evidence on two systems. Every row about system B carries the marker
`ONLY_B` somewhere visible, so a page can be checked for leaks with one `not in`."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx

from custos.assess.model import (
    AssessmentReport,
    AttestationView,
    FindingView,
    RiskView,
    RoadmapItem,
    SoAEntry,
)
from custos.checks.model import Severity
from custos.server.rbac import Binding, Role
from custos.store import Store
from tests.server.conftest import T0, Running
from tests.server.matrix_case import SYSTEM_A, SYSTEM_B
from tests.store import samples

ONLY_B = "bravo-only"  # appears in every row that concerns system B alone
REPORT_AT = T0 - dt.timedelta(days=1)
SOON = (T0 + dt.timedelta(days=10)).date()  # within the pages' 30 days
LATER = (T0 + dt.timedelta(days=200)).date()


def _risk(risk_id: str, system: str, title: str, scores: tuple[int, int, int, int]) -> RiskView:
    likelihood, impact, r_likelihood, r_impact = scores
    return RiskView(
        id=risk_id, title=title, systems=(system,), assets=(f"{system}-model",), threats=(),
        likelihood=likelihood, impact=impact, inherent=likelihood * impact,
        inherent_level="critical" if likelihood * impact > 16 else "high",
        residual_likelihood=r_likelihood, residual_impact=r_impact,
        residual=r_likelihood * r_impact, residual_level="medium", above_appetite=False,
        treatment="mitigate", controls=("custos:ai:model-documentation",),
        open_controls=("custos:ai:model-documentation",), owner="Ada", review_date=LATER,
        overdue=False,
    )  # fmt: skip


def _finding(system: str, check: str, severity: Severity, message: str) -> FindingView:
    return FindingView(
        system=system, asset=f"{system}-model", check=check, rule=f"{check}/rule",
        severity=severity, message=message, location=f"models/{system}.pkl",
        controls=("custos:ai:model-documentation",),
    )  # fmt: skip


FINDINGS = (
    _finding(SYSTEM_B, "model-signature", Severity.critical, f"unsigned model {ONLY_B}"),
    _finding(SYSTEM_A, "inventory-completeness", Severity.high, "undeclared model alpha.pkl"),
    _finding(SYSTEM_A, "model-card", Severity.low, "model card lacks limitations"),
)


def report(at: dt.datetime = REPORT_AT) -> AssessmentReport:
    base = samples.report(at=at)
    return dataclasses.replace(
        base,
        risks=(
            _risk("R01-alpha-poisoning", SYSTEM_A, "Poisoned alpha training data", (4, 5, 2, 3)),
            _risk("R02-bravo-leak", SYSTEM_B, f"Leak {ONLY_B}", (3, 3, 2, 2)),
        ),
        findings=FINDINGS,
        soa=(
            SoAEntry(
                control="iso27002:2022:5.37",
                framework="iso27002",
                title="Documented operating procedures",
                applicable=True,
                justification=("risk: R01-alpha-poisoning",),
                exclusion=None,
                status="not_implemented",
                per_system={SYSTEM_A: "implemented", SYSTEM_B: "not_implemented"},
                owner="CISO",
                target_date=LATER,
            ),
            SoAEntry(
                control="iso27002:2022:7.1",
                framework="iso27002",
                title="Physical security perimeters",
                applicable=False,
                justification=(),
                exclusion="no premises of our own",
                status="not_applicable",
                per_system={SYSTEM_A: "not_applicable", SYSTEM_B: "not_applicable"},
                owner=None,
                target_date=None,
            ),
        ),
        roadmap=(
            RoadmapItem(
                rank=1,
                control="custos:ai:model-documentation",
                title="Model documentation",
                systems=(SYSTEM_A,),
                risks=("R01-alpha-poisoning",),
                risk_reduction=14,
                effort=2,
                owner="Ada",
                phase="0-30",
                start=T0.date(),
                due=SOON,
            ),
            RoadmapItem(
                rank=2,
                control="iso27002:2022:5.37",
                title="Documented operating procedures",
                systems=(SYSTEM_B,),
                risks=("R02-bravo-leak",),
                risk_reduction=5,
                effort=3,
                owner=f"Owner {ONLY_B}",
                phase="31-90",
                start=SOON,
                due=LATER,
            ),
        ),
        attestations=(
            AttestationView(
                "ATT-alpha",
                "custos:ai:model-documentation",
                (SYSTEM_A,),
                "Ada",
                T0.date(),
                SOON,
                True,
                "valid",
            ),
            AttestationView(
                f"ATT-{ONLY_B}",
                "custos:ai:model-documentation",
                (SYSTEM_B,),
                "Bob",
                T0.date(),
                SOON,
                True,
                "valid",
            ),
            AttestationView(
                "ATT-everyone", "iso27002:2022:6.3", (), "Cy", T0.date(), LATER, True, "valid"
            ),
        ),
        framework_scores={"custos-ai": 62.5, "iso27002": 40.0},
        theme_scores={"Technological controls": 55.0},
    )


def seed(store: Store) -> None:
    """Two earlier assessments (a trend), the full one, and one scan of evidence."""
    for days, scores in ((30, {SYSTEM_A: 40.0, SYSTEM_B: 20.0}), (15, {SYSTEM_A: 60.0})):
        earlier = samples.report(at=REPORT_AT - dt.timedelta(days=days), scores=scores)
        store.save_assessment(earlier, manifest_path="custos.yaml", manifest_sha256=samples.SHA)
    store.save_assessment(report(), manifest_path="custos.yaml", manifest_sha256=samples.SHA)
    collected = T0 - dt.timedelta(days=20)  # expires 10 days after T0: "soon"
    evidence = [
        samples.evidence("model-card", SYSTEM_A, "alpha-model", at=collected),
        samples.evidence("model-card", SYSTEM_B, f"{ONLY_B}-model", at=collected),
        samples.passing("model-file", SYSTEM_A, "alpha-model", collected),
    ]
    store.save_scan(
        evidence, started_at=collected, finished_at=collected, manifest_path="custos.yaml",
        manifest_sha256=samples.SHA,
    )  # fmt: skip


ROLES = {
    "admin": Binding(Role.admin),
    "auditor": Binding(Role.auditor),
    "viewer": Binding(Role.viewer),
    "engineer_a": Binding(Role.engineer, SYSTEM_A),
    "engineer_b": Binding(Role.engineer, SYSTEM_B),
}


def signed_in(server: Running, *names: str) -> dict[str, httpx.Client]:
    """Users with the roles above, each signed in through the login form."""
    for name in names:
        server.user(name, ROLES[name])
    return {name: server.signed_in(name) for name in names}


def assert_clean_html(html: str) -> None:
    """The CSP allows no inline script or style: pages must not need any."""
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<style" not in lowered
    assert " style=" not in lowered
    assert "javascript:" not in lowered
    assert " on" + "click=" not in lowered
