"""Domain objects to row values and back. Pure: no session, no I/O.

Rows travel as plain dicts (executemany INSERTs, mapping SELECTs) rather than ORM objects: a
scan of a large estate writes tens of thousands of evidence and finding rows, and building ORM
objects for each costs several times the database work.

`Evidence` -> values -> `Evidence` is the identity (tests hold it to that), so what an assessment
reads from the store is exactly what the scan produced.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from custos.assess.model import AssessmentReport, TrendPoint
from custos.checks.model import Evidence, Examined, Finding, Result, Severity
from custos.provenance import LOCAL, Provenance, kind_of
from custos.store.models import AssessmentRow

# Evidence columns read back, in the order `evidence()` expects them by name.
EVIDENCE_FIELDS = (
    "id",
    "check",
    "check_version",
    "system",
    "asset",
    "result",
    "summary",
    "controls",
    "examined",
    "collected_at",
    "expires_at",
    "provenance",
    "provenance_detail",
)
FINDING_FIELDS = ("evidence_id", "rule", "severity", "message", "location", "controls")


def evidence_values(run_id: int, item: Evidence) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "check": item.check,
        "check_version": item.check_version,
        "system": item.system,
        "asset": item.asset,
        "result": item.result,
        "summary": item.summary,
        "controls": list(item.controls),
        "examined": [
            {"location": x.location, "sha256": x.sha256, "size": x.size} for x in item.examined
        ],
        "collected_at": item.collected_at,
        "expires_at": item.expires_at,
        "provenance": item.provenance.kind,
        "provenance_detail": item.provenance.to_dict() if item.provenance != LOCAL else None,
    }


def finding_values(evidence_id: int, item: Evidence) -> list[dict[str, Any]]:
    return [
        {
            "evidence_id": evidence_id,
            "position": position,
            "rule": f.rule,
            "severity": int(f.severity),
            "message": f.message,
            "location": f.location,
            "controls": list(f.controls),
        }
        for position, f in enumerate(item.findings)
    ]


def finding(row: Mapping[Any, Any]) -> Finding:
    return Finding(
        rule=row["rule"],
        severity=Severity(row["severity"]),
        message=row["message"],
        location=row["location"],
        controls=tuple(row["controls"]),
    )


def _examined(data: Mapping[str, Any]) -> Examined:
    return Examined(location=data["location"], sha256=data.get("sha256"), size=data.get("size"))


def evidence(row: Mapping[Any, Any], findings: Iterable[Finding]) -> Evidence:
    return Evidence(
        check=row["check"],
        check_version=row["check_version"],
        system=row["system"],
        asset=row["asset"],
        result=cast(Result, row["result"]),  # the table's CHECK constraint admits only Results
        summary=row["summary"],
        controls=tuple(row["controls"]),
        collected_at=row["collected_at"],
        expires_at=row["expires_at"],
        findings=tuple(findings),
        examined=tuple(_examined(x) for x in row["examined"]),
        provenance=_provenance(row["provenance"], row["provenance_detail"]),
    )


def _provenance(kind: str, detail: dict[str, Any] | None) -> Provenance:
    if kind == "local" and not detail:
        return LOCAL
    return Provenance.from_dict({**(detail or {}), "kind": kind_of(kind)})


def system_scores(report_dict: Mapping[str, Any]) -> dict[str, float]:
    return {s["id"]: float(s["score"]) for s in report_dict.get("systems", [])}


def assessment_row(run_id: int, report: AssessmentReport, as_dict: dict[str, Any]) -> AssessmentRow:
    return AssessmentRow(
        run_id=run_id,
        generated_at=report.generated_at,
        overall_score=float(report.overall_score),
        system_scores=system_scores(as_dict),
        report=as_dict,
    )


def control_status_values(assessment_id: int, report: AssessmentReport) -> list[dict[str, Any]]:
    return [
        {
            "assessment_id": assessment_id,
            "system": s.system,
            "control": s.control,
            "framework": s.framework,
            "status": s.status,
            "basis": s.basis,
        }
        for s in report.statuses
    ]


def trend_points(rows: Iterable[tuple[Any, float, Mapping[str, Any]]]) -> list[TrendPoint]:
    return [
        TrendPoint(at=at, score=float(score), system_scores=dict(scores))
        for at, score, scores in rows
    ]
