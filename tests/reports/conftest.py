"""A realistic assessment built by hand, so the renderers are tested independently of `assess`.

Two AI systems, thirteen controls covering every status and every basis, SoA entries, gaps,
a roadmap across the three phases, risks at every level, findings of every severity, evidence
(pass, fail, error), a valid and an expired attestation and a three-point trend.

Golden files: set CUSTOS_UPDATE_GOLDENS=1 to rewrite them (pytest_addoption only works in the
root conftest, which belongs to someone else).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from custos.assess.model import (
    AssessmentReport,
    AttestationView,
    Basis,
    ControlStatus,
    FindingView,
    Gap,
    Reason,
    RiskView,
    RoadmapItem,
    SoAEntry,
    Status,
    SystemSummary,
    TrendPoint,
)
from custos.checks.model import Evidence, Examined, Finding, Severity

NOW = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
S1, S2 = "fraud-scoring", "support-chatbot"
GOLDEN_DIR = Path(__file__).parent / "golden"

# control -> (framework, title, basis, status on S1, status on S2)
CONTROLS: dict[str, tuple[str, str, Basis, Status, Status]] = {
    "custos:ai:model-signing": (
        "custos-ai", "Sign models and verify before loading", "direct",
        "implemented", "not_implemented",
    ),
    "custos:ai:asset-ownership": (
        "custos-ai", "Name an owner for every AI asset", "direct", "partial", "implemented",
    ),
    "custos:ai:dataset-pii": (
        "custos-ai", "Identify and minimise personal data in datasets", "direct",
        "unknown", "not_applicable",
    ),
    "custos:ai:access-logging": (
        "custos-ai", "Log access to models, data and endpoints", "direct",
        "not_implemented", "unknown",
    ),
    "iso27002:2022:8.24": (
        "iso27002", "Use of cryptography", "rollup", "implemented", "not_implemented",
    ),
    "iso27002:2022:5.9": (
        "iso27002", "Inventory of information and other associated assets", "rollup",
        "partial", "implemented",
    ),
    "iso27002:2022:5.34": (
        "iso27002", "Privacy and protection of PII", "rollup", "unknown", "not_applicable",
    ),
    "iso27002:2022:8.15": (
        "iso27002", "Logging", "rollup", "not_implemented", "unknown",
    ),
    "iso27002:2022:7.1": (
        "iso27002", "Physical security perimeters", "direct", "not_applicable", "not_applicable",
    ),
    "iso27002:2022:6.3": (
        "iso27002", "Information security awareness, education and training", "direct",
        "implemented", "partial",
    ),
    "iso42001:2023:A.6.2.8": (
        "iso42001", "AI system recording of event logs", "mapping", "not_implemented", "partial",
    ),
    "euaiact:art15": (
        "eu-ai-act", "Accuracy, robustness and cybersecurity", "mapping",
        "partial", "not_applicable",
    ),
    "nistairmf:MEASURE-2.7": (
        "nist-ai-rmf", "AI system security and resilience are evaluated", "mapping",
        "partial", "unknown",
    ),
}  # fmt: skip

EVIDENCE = (
    Evidence(
        check="model-signing", check_version=1, system=S1, asset="fraud-model",
        result="pass", summary="signature verified against the release key",
        controls=("custos:ai:model-signing",), collected_at=NOW - dt.timedelta(days=1),
        expires_at=NOW + dt.timedelta(days=89),
        examined=(Examined("models/fraud.joblib", "ab" * 32, 48213),),
    ),
    Evidence(
        check="model-signing", check_version=1, system=S2, asset="chat-model",
        result="fail", summary="model file is not signed",
        controls=("custos:ai:model-signing",), collected_at=NOW - dt.timedelta(days=1),
        expires_at=NOW + dt.timedelta(days=89),
        findings=(
            Finding("unsigned-model", Severity.critical, "no signature next to the model",
                    "models/chat.safetensors", ("custos:ai:model-signing",)),
        ),
        examined=(Examined("models/chat.safetensors", "cd" * 32, 1024),),
    ),
    Evidence(
        check="asset-ownership", check_version=1, system=S2, asset=None,
        result="pass", summary="every asset has an owner and a classification",
        controls=("custos:ai:asset-ownership",), collected_at=NOW - dt.timedelta(hours=2),
        expires_at=None,
    ),
    Evidence(
        check="access-log", check_version=2, system=S1, asset="api-logs",
        result="fail", summary="access log lacks caller identity",
        controls=("custos:ai:access-logging",), collected_at=NOW - dt.timedelta(hours=3),
        expires_at=NOW + dt.timedelta(days=30),
        findings=(
            Finding("log-no-identity", Severity.high, "requests are logged without a caller id",
                    "logs/access.log:1", ("custos:ai:access-logging",)),
        ),
        examined=(Examined("logs/access.log", "ef" * 32, 20480),),
    ),
    Evidence(
        check="model-card", check_version=1, system=S1, asset="fraud-model",
        result="error", summary="model card could not be decoded as UTF-8",
        controls=("custos:ai:model-card",), collected_at=NOW - dt.timedelta(hours=3),
        expires_at=None,
    ),
)  # fmt: skip


def _reasons(control: str, system: str, status: Status, basis: Basis) -> tuple[Reason, ...]:
    if basis == "mapping":
        return (Reason("mapping", f"inferred from {system}'s ISO 27002 statuses", control),)
    if basis == "rollup":
        return (Reason("rollup", f"its AI requirements: {status.replace('_', ' ')}", control),)
    refs = [e for e in EVIDENCE if e.system == system and control in e.controls]
    if refs:
        e = refs[0]
        ref = f"{e.check}@{e.system}/{e.asset}" if e.asset else f"{e.check}@{e.system}"
        return (
            Reason("applicability", "required for high-risk AI"),
            Reason("evidence", f"{e.check} v{e.check_version}: {e.result} ({e.summary})", ref),
        )
    if status == "not_applicable":
        return (Reason("exclusion", "excluded: no on-premises facilities", control),)
    if status == "unknown":
        return (Reason("missing", "no current evidence from check dataset-pii", "dataset-pii"),)
    return (Reason("attestation", "attestation att-training by CISO (valid)", "att-training"),)


def _statuses() -> tuple[ControlStatus, ...]:
    out = []
    for system, index in ((S1, 3), (S2, 4)):
        for control, row in CONTROLS.items():
            framework, title, basis, status = row[0], row[1], row[2], row[index]
            assert status in ("implemented", "partial", "not_implemented", "unknown",
                              "not_applicable")  # fmt: skip
            via = ("iso27002:2022:8.15",) if basis == "mapping" else ()
            out.append(
                ControlStatus(
                    system,
                    control,
                    framework,
                    title,
                    status,  # type: ignore[arg-type]
                    _reasons(control, system, status, basis),  # type: ignore[arg-type]
                    basis,
                    via,
                )
            )
    return tuple(out)


def _soa() -> tuple[SoAEntry, ...]:
    entries = []
    for control, (framework, title, _basis, s1, s2) in CONTROLS.items():
        if framework not in ("iso27002", "iso42001"):
            continue
        excluded = control == "iso27002:2022:7.1"
        per_system = {k: v for k, v in ((S1, s1), (S2, s2)) if v != "not_applicable"}
        order = ["not_implemented", "unknown", "partial", "implemented"]
        worst = min(per_system.values(), key=order.index) if per_system else "not_applicable"
        entries.append(
            SoAEntry(
                control=control, framework=framework, title=title, applicable=not excluded,
                justification=() if excluded else ("risk R-01", "legal: EU AI Act Art. 15"),
                exclusion="no on-premises facilities; hosting provider is certified"
                if excluded else None,
                status=worst, per_system=per_system,  # type: ignore[arg-type]
                owner=None if excluded else "ciso@example.com",
                target_date=None if worst in ("implemented", "not_applicable")
                else TODAY + dt.timedelta(days=60),
            )
        )  # fmt: skip
    return tuple(entries)


def _gaps(statuses: tuple[ControlStatus, ...]) -> tuple[Gap, ...]:
    gaps = [
        Gap(
            s.system,
            s.control,
            s.framework,
            s.title,
            s.status,
            20 if "logging" in s.control or s.control.endswith("8.15") else 8,
            ("R-02",) if "log" in s.title.lower() else ("R-01",),
            s.reasons,
        )
        for s in statuses
        if s.framework in ("custos-ai", "iso27002")
        and s.status in ("partial", "not_implemented", "unknown")
    ]
    return tuple(sorted(gaps, key=lambda g: (-g.risk_score, g.control, g.system)))


def _roadmap() -> tuple[RoadmapItem, ...]:
    rows = [
        ("custos:ai:model-signing", "Sign models and verify before loading", (S2,), ("R-01",),
         20, 2, "ml-platform", "0-30", 0, 10),
        ("custos:ai:access-logging", "Log access to models, data and endpoints", (S1, S2),
         ("R-02", "R-04"), 32, 2, "sre", "0-30", 3, 24),
        ("custos:ai:dataset-pii", "Identify and minimise personal data in datasets", (S1,),
         ("R-03",), 15, 3, "data-protection", "31-90", 30, 75),
        ("custos:ai:asset-ownership", "Name an owner for every AI asset", (S1,), ("R-05",),
         6, 1, None, "31-90", 31, 45),
        ("iso27002:2022:6.3", "Information security awareness, education and training", (S2,),
         ("R-05",), 4, 4, "hr", "91-180", 95, 170),
    ]  # fmt: skip
    return tuple(
        RoadmapItem(
            i,
            c,
            t,
            sy,
            r,
            rr,
            e,
            o,
            ph,  # type: ignore[arg-type]
            TODAY + dt.timedelta(days=a),
            TODAY + dt.timedelta(days=b),
        )
        for i, (c, t, sy, r, rr, e, o, ph, a, b) in enumerate(rows, start=1)
    )


def _risks() -> tuple[RiskView, ...]:
    levels = [("low", 4), ("medium", 9), ("high", 16), ("critical", 25)]

    def level(score: int) -> str:
        return next(n for n, m in levels if score <= m)

    rows = [
        ("R-01", "Tampered model loaded in production", (S1, S2), ("AML.T0010",), 4, 5, 2, 5,
         "mitigate", ("custos:ai:model-signing",), False),
        ("R-02", "Abuse of scoring API goes unnoticed", (S1,), ("AML.T0024",), 4, 4, 3, 4,
         "mitigate", ("custos:ai:access-logging",), True),
        ("R-03", "Personal data leaks from training set", (S1,), ("LLM02:2025",), 3, 5, 2, 3,
         "mitigate", ("custos:ai:dataset-pii",), False),
        ("R-04", "Prompt injection exfiltrates tickets", (S2,), ("LLM01:2025",), 3, 3, 2, 2,
         "transfer", (), False),
        ("R-05", "Staff misuse the assistant", (S2,), (), 2, 2, 1, 2, "accept", (), False),
    ]  # fmt: skip
    return tuple(
        RiskView(
            id=rid,
            title=title,
            systems=systems,
            assets=("fraud-model",),
            threats=threats,
            likelihood=li,
            impact=im,
            inherent=li * im,
            inherent_level=level(li * im),
            residual_likelihood=rl,
            residual_impact=ri,
            residual=rl * ri,
            residual_level=level(rl * ri),
            above_appetite=rl * ri > 9,
            treatment=treatment,
            controls=controls,
            open_controls=controls[:1] if rid != "R-01" else (),
            owner="ciso@example.com" if rid != "R-05" else None,
            review_date=TODAY + dt.timedelta(days=-5 if overdue else 90),
            overdue=overdue,
        )
        for rid, title, systems, threats, li, im, rl, ri, treatment, controls, overdue in rows
    )


def build_report() -> AssessmentReport:
    statuses = _statuses()
    from_evidence = [
        FindingView(e.system, e.asset, e.check, f.rule, f.severity, f.message, f.location,
                    f.controls)
        for e in EVIDENCE
        for f in e.findings
    ]  # fmt: skip
    findings = (
        *from_evidence,
        FindingView(S1, "fraud-data", "dataset-pii", "pii-column", Severity.medium,
                    "column 'iban' holds personal data", "data/tx.csv:1",
                    ("custos:ai:dataset-pii",)),
        FindingView(S2, None, "risk-review", "review-overdue", Severity.low,
                    "risk R-02 review is overdue", "custos.yaml:88", ()),
        FindingView(S1, "fraud-model", "model-card", "card-section", Severity.info,
                    "model card has no 'limitations' section", "models/fraud.md", ()),
    )  # fmt: skip
    return AssessmentReport(
        generated_at=NOW,
        organisation="Acme Payments <Ltd>",
        scope="Card-fraud scoring & customer support AI",
        custos_version="0.1.0",
        overall_score=58.3,
        systems=(
            SystemSummary(
                S1, "Card fraud scoring", "Scores card transactions for fraud", "risk-team",
                "production", "provider", "high", True,
                ("Annex III 5(b): creditworthiness and fraud",), 62.5,
                {"custos-ai": 50.0, "iso27002": 58.3, "iso42001": 0.0, "eu-ai-act": 50.0},
                {"Organizational controls": 50.0, "People controls": 100.0,
                 "Technological controls": 50.0},
                {"implemented": 3, "partial": 2, "not_implemented": 2, "unknown": 2,
                 "not_applicable": 1},
            ),
            SystemSummary(
                S2, "Customer support assistant", "Answers customer questions", None,
                "validation", "deployer", "limited", False, (), 45.0,
                {"custos-ai": 50.0, "iso27002": 37.5, "iso42001": 50.0},
                {"Organizational controls": 100.0, "People controls": 50.0,
                 "Technological controls": 0.0},
                {"implemented": 2, "partial": 1, "not_implemented": 2, "unknown": 2,
                 "not_applicable": 3},
            ),
        ),
        statuses=statuses,
        soa=_soa(),
        gaps=_gaps(statuses),
        roadmap=_roadmap(),
        risks=_risks(),
        findings=findings,
        evidence=EVIDENCE,
        attestations=(
            AttestationView("att-training", "iso27002:2022:6.3", (S1, S2), "CISO",
                            TODAY - dt.timedelta(days=40), TODAY + dt.timedelta(days=325), True,
                            "annual awareness training completed"),
            AttestationView("att-ownership", "custos:ai:asset-ownership", (S1,), "Head of Risk",
                            TODAY - dt.timedelta(days=400), TODAY - dt.timedelta(days=35), False,
                            "expired on " + (TODAY - dt.timedelta(days=35)).isoformat()),
        ),
        framework_scores={"custos-ai": 50.0, "iso27002": 47.9, "iso42001": 25.0,
                          "eu-ai-act": 50.0, "nist-ai-rmf": 50.0},
        theme_scores={"Organizational controls": 75.0, "People controls": 75.0,
                      "Technological controls": 25.0},
        risk_levels=(("low", 4), ("medium", 9), ("high", 16), ("critical", 25)),
        risk_appetite=9,
        trend=(
            TrendPoint(NOW - dt.timedelta(days=60), 31.0, {S1: 40.0, S2: 22.0}),
            TrendPoint(NOW - dt.timedelta(days=30), 47.5, {S1: 55.0, S2: 40.0}),
            TrendPoint(NOW, 58.3, {S1: 62.5, S2: 45.0}),
        ),
    )  # fmt: skip


@pytest.fixture
def report() -> AssessmentReport:
    return build_report()


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/reports/golden/NAME; CUSTOS_UPDATE_GOLDENS=1 rewrites it."""
    path = GOLDEN_DIR / name
    if os.environ.get("CUSTOS_UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{name} differs; CUSTOS_UPDATE_GOLDENS=1 to accept"
