"""The assessment as plain JSON-ready data: the documented, stable schema (version 1).

`custos assess --format json`, `custos report --format json`, the store and the REST API all use
this one function, so the shape cannot drift between them. Documented in docs/report-json.md.
Top-level keys: `schema`, `generated_at`, `organisation`, `scope`, `custos_version`,
`overall_score`, `framework_scores`, `theme_scores`, `systems`, `controls`, `soa`, `gaps`,
`roadmap`, `risks`, `findings`, `evidence`, `attestations`, `risk_matrix`, `trend`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from custos.assess.model import AssessmentReport, Reason
from custos.checks.model import Evidence

SCHEMA = "custos-assessment/1"


def _date(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _reasons(reasons: tuple[Reason, ...]) -> list[dict[str, Any]]:
    return [{"kind": r.kind, "text": r.text, "ref": r.ref} for r in reasons]


def evidence_to_dict(e: Evidence) -> dict[str, Any]:
    return {
        "check": e.check,
        "check_version": e.check_version,
        "system": e.system,
        "asset": e.asset,
        "result": e.result,
        "summary": e.summary,
        "controls": list(e.controls),
        "collected_at": _date(e.collected_at),
        "expires_at": _date(e.expires_at),
        "examined": [
            {"location": x.location, "sha256": x.sha256, "size": x.size} for x in e.examined
        ],
        "findings": [f.to_json() for f in e.findings],
    }


def evidence_with_provenance(e: Evidence) -> dict[str, Any]:
    """The record and where it comes from (`local`, `verified` or `claimed`, with details):
    what reports and pages list. The record alone is what the ledger and a push carry."""
    return {**evidence_to_dict(e), "provenance": e.provenance.to_dict()}


def report_to_dict(report: AssessmentReport) -> dict[str, Any]:
    """The whole assessment as JSON-ready data (stable keys; see the module doc)."""
    return {
        "schema": SCHEMA,
        "generated_at": _date(report.generated_at),
        "organisation": report.organisation,
        "scope": report.scope,
        "custos_version": report.custos_version,
        "overall_score": report.overall_score,
        "framework_scores": dict(report.framework_scores),
        "theme_scores": dict(report.theme_scores),
        "systems": [
            {
                "id": s.id,
                "name": s.name,
                "purpose": s.purpose,
                "owner": s.owner,
                "lifecycle": s.lifecycle,
                "role": s.role,
                "tier": s.tier,
                "tier_derived": s.tier_derived,
                "tier_reasons": list(s.tier_reasons),
                "regimes": list(s.regimes),
                "roles": list(s.roles),
                "obligations": [o.to_json() for o in s.obligations],
                "score": s.score,
                "framework_scores": dict(s.framework_scores),
                "theme_scores": dict(s.theme_scores),
                "counts": dict(s.counts),
            }
            for s in report.systems
        ],
        "controls": [
            {
                "id": c.control,
                "system": c.system,
                "framework": c.framework,
                "title": c.title,
                "status": c.status,
                "basis": c.basis,
                "inferred": c.basis == "mapping",
                "via": list(c.via),
                "reasons": _reasons(c.reasons),
            }
            for c in report.statuses
        ],
        "soa": [
            {
                "control": e.control,
                "framework": e.framework,
                "title": e.title,
                "applicable": e.applicable,
                "justification": list(e.justification),
                "exclusion": e.exclusion,
                "status": e.status,
                "per_system": dict(e.per_system),
                "owner": e.owner,
                "target_date": _date(e.target_date),
            }
            for e in report.soa
        ],
        "gaps": [
            {
                "system": g.system,
                "control": g.control,
                "framework": g.framework,
                "title": g.title,
                "status": g.status,
                "risk_score": g.risk_score,
                "risks": list(g.risks),
                "reasons": _reasons(g.reasons),
            }
            for g in report.gaps
        ],
        "roadmap": [
            {
                "rank": r.rank,
                "control": r.control,
                "title": r.title,
                "systems": list(r.systems),
                "risks": list(r.risks),
                "risk_reduction": r.risk_reduction,
                "effort": r.effort,
                "owner": r.owner,
                "phase": r.phase,
                "start": _date(r.start),
                "due": _date(r.due),
            }
            for r in report.roadmap
        ],
        "risks": [
            {
                "id": r.id,
                "title": r.title,
                "systems": list(r.systems),
                "assets": list(r.assets),
                "threats": list(r.threats),
                "likelihood": r.likelihood,
                "impact": r.impact,
                "inherent": r.inherent,
                "inherent_level": r.inherent_level,
                "residual_likelihood": r.residual_likelihood,
                "residual_impact": r.residual_impact,
                "residual": r.residual,
                "residual_level": r.residual_level,
                "above_appetite": r.above_appetite,
                "treatment": r.treatment,
                "controls": list(r.controls),
                "open_controls": list(r.open_controls),
                "owner": r.owner,
                "review_date": _date(r.review_date),
                "overdue": r.overdue,
            }
            for r in report.risks
        ],
        "findings": [
            {
                "system": f.system,
                "asset": f.asset,
                "check": f.check,
                "rule": f.rule,
                "severity": f.severity.name,
                "message": f.message,
                "location": f.location,
                "controls": list(f.controls),
                "provenance": f.provenance,
            }
            for f in report.findings
        ],
        "evidence": [evidence_with_provenance(e) for e in report.evidence],
        "attestations": [
            {
                "id": a.id,
                "control": a.control,
                "systems": list(a.systems),
                "author": a.author,
                "date": _date(a.date),
                "expires": _date(a.expires),
                "valid": a.valid,
                "note": a.note,
            }
            for a in report.attestations
        ],
        "risk_matrix": {
            "levels": [{"name": n, "max_score": m} for n, m in report.risk_levels],
            "appetite": report.risk_appetite,
        },
        "trend": [
            {"at": _date(t.at), "score": t.score, "system_scores": dict(t.system_scores)}
            for t in report.trend
        ],
    }
