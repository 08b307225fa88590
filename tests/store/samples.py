"""Hand-built evidence and assessment reports for the store tests."""

from __future__ import annotations

import dataclasses
import datetime as dt

from custos.assess.model import AssessmentReport, Basis, ControlStatus, Reason, SystemSummary
from custos.checks.model import Evidence, Examined, Finding, Severity

T0 = dt.datetime(2026, 3, 1, 9, 0, 0, tzinfo=dt.UTC)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def evidence(
    check: str = "model-card",
    system: str = "fraud-scoring",
    asset: str | None = "scorer-model",
    *,
    at: dt.datetime = T0,
    result: str = "fail",
    summary: str = "model card lacks 2 sections",
) -> Evidence:
    """Evidence with two findings (order matters) and examined files with and without hashes."""
    return Evidence(
        check=check,
        check_version=2,
        system=system,
        asset=asset,
        result=result,  # type: ignore[arg-type]  # tests also feed values the store must refuse
        summary=summary,
        controls=("custos:ai:model-documentation", "iso27002:2022:5.37"),
        collected_at=at,
        expires_at=at + dt.timedelta(days=30),
        findings=(
            Finding(
                rule=f"{check}/missing-section",
                severity=Severity.medium,
                message="no 'limitations' section",
                location="models/MODEL_CARD.md",
                controls=("custos:ai:model-documentation",),
            ),
            Finding(
                rule=f"{check}/missing-section",
                severity=Severity.low,
                message="no 'ethical considerations' section",
                location="models/MODEL_CARD.md:12",
            ),
        ),
        examined=(
            Examined("models/scorer.joblib", SHA, 20480),
            Examined("https://api.example/score"),
        ),
    )


def passing(check: str, system: str, asset: str | None, at: dt.datetime) -> Evidence:
    """Evidence with no findings and no expiry."""
    return dataclasses.replace(
        evidence(check, system, asset, at=at, result="pass", summary="ok"),
        findings=(),
        expires_at=None,
    )


def _system(system_id: str, score: float) -> SystemSummary:
    return SystemSummary(
        id=system_id,
        name=system_id.replace("-", " ").title(),
        purpose="score card transactions for fraud",
        owner="risk-team",
        lifecycle="production",
        role="provider",
        tier="high",
        tier_derived=True,
        tier_reasons=("Annex III 5(b): creditworthiness",),
        score=score,
        framework_scores={"custos-ai": score},
        theme_scores={"technological": score},
        counts={"implemented": 3, "not_implemented": 1},
    )


CONTROLS: tuple[tuple[str, str, str, Basis], ...] = (
    ("custos:ai:model-documentation", "custos-ai", "Model documentation", "direct"),
    ("iso27002:2022:5.37", "iso27002", "Documented operating procedures", "rollup"),
    ("iso42001:2023:A.6.2.7", "iso42001", "AI system technical documentation", "mapping"),
)


def report(at: dt.datetime = T0, scores: dict[str, float] | None = None) -> AssessmentReport:
    """A small assessment: one status per (system, control) pair below."""
    scores = scores if scores is not None else {"fraud-scoring": 75.0, "chargeback-bot": 50.0}
    statuses = tuple(
        ControlStatus(
            system=system,
            control=control,
            framework=framework,
            title=title,
            status="implemented" if system == "fraud-scoring" else "not_implemented",
            reasons=(Reason("evidence", "model card complete", f"model-card@{system}"),),
            basis=basis,
            via=("custos:ai:model-documentation",) if basis == "mapping" else (),
        )
        for system in scores
        for control, framework, title, basis in CONTROLS
    )
    overall = sum(scores.values()) / len(scores) if scores else 0.0
    return AssessmentReport(
        generated_at=at,
        organisation="Acme Payments",
        scope="card fraud scoring",
        custos_version="0.1.0",
        overall_score=overall,
        systems=tuple(_system(s, v) for s, v in scores.items()),
        statuses=statuses,
        soa=(),
        gaps=(),
        roadmap=(),
        risks=(),
        findings=(),
        evidence=(evidence(at=at),),
        attestations=(),
        framework_scores={"custos-ai": overall},
        theme_scores={"technological": overall},
        risk_levels=(("low", 4), ("medium", 9), ("high", 16), ("critical", 25)),
        risk_appetite=9,
    )
