"""The store's SELECT statements, built without a connection (one function per question).

Reads that may return thousands of rows select plain columns rather than ORM objects: building
an ORM object per evidence row costs several times the query itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Select, Table, and_, case, func, select

from custos.store import convert
from custos.store.models import AssessmentRow, ControlStatusRow, EvidenceRow, FindingRow, RunRow

EVIDENCE = cast(Table, EvidenceRow.__table__)
FINDINGS = cast(Table, FindingRow.__table__)
CONTROL_STATUS = cast(Table, ControlStatusRow.__table__)


def latest_evidence(
    systems: Collection[str] | None,
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """(evidence, findings) of the newest record per (check, system, asset).

    Newest: latest `collected_at`, then the highest id (the later stored). A window function
    ranks each target's records; both statements keep rank 1 only, so findings are fetched for
    the chosen evidence alone, in the order the check reported them. Distrusted claims (a
    pushed result other than a failure that the server could not verify; custos.assess.trust)
    are ranked apart, so the newest trusted record comes back beside the newest claim.
    """
    distrusted = case(
        (and_(EVIDENCE.c.provenance == "claimed", EVIDENCE.c.result != "fail"), 1), else_=0
    )
    target = (EVIDENCE.c.system, EVIDENCE.c.check, EVIDENCE.c.asset, distrusted)
    newest_first = (EVIDENCE.c.collected_at.desc(), EVIDENCE.c.id.desc())
    ranked = select(
        EVIDENCE.c.id,
        func.row_number().over(partition_by=target, order_by=newest_first).label("rank"),
    )
    if systems is not None:
        ranked = ranked.where(EVIDENCE.c.system.in_(sorted(set(systems))))
    newest = ranked.subquery()
    evidence = (
        select(*(EVIDENCE.c[name] for name in convert.EVIDENCE_FIELDS))
        .join(newest, newest.c.id == EVIDENCE.c.id)
        .where(newest.c.rank == 1)
    )
    findings = (
        select(*(FINDINGS.c[name] for name in convert.FINDING_FIELDS))
        .join(newest, newest.c.id == FINDINGS.c.evidence_id)
        .where(newest.c.rank == 1)
        .order_by(FINDINGS.c.evidence_id, FINDINGS.c.position)
    )
    return evidence, findings


def trend(limit: int) -> Select[dt.datetime, float, dict[str, Any]]:
    """Time and scores of the last `limit` assessments, newest first."""
    return (
        select(AssessmentRow.generated_at, AssessmentRow.overall_score, AssessmentRow.system_scores)
        .order_by(AssessmentRow.generated_at.desc(), AssessmentRow.id.desc())
        .limit(limit)
    )


def latest_assessment_id() -> Select[int]:
    """The id of the assessment `latest_report` returns (a cheap check for caches)."""
    return (
        select(AssessmentRow.id)
        .order_by(AssessmentRow.generated_at.desc(), AssessmentRow.id.desc())
        .limit(1)
    )


def latest_report() -> Select[dict[str, Any]]:
    return (
        select(AssessmentRow.report)
        .order_by(AssessmentRow.generated_at.desc(), AssessmentRow.id.desc())
        .limit(1)
    )


def runs(limit: int) -> Select[RunRow, int, float]:
    """The last `limit` runs, newest first, with evidence count and assessment score."""
    evidence_count = (
        select(func.count(EVIDENCE.c.id))
        .where(EVIDENCE.c.run_id == RunRow.id)
        .correlate(RunRow)
        .scalar_subquery()
    )
    return (
        select(RunRow, evidence_count, AssessmentRow.overall_score)
        .outerjoin(AssessmentRow, AssessmentRow.run_id == RunRow.id)
        .order_by(RunRow.started_at.desc(), RunRow.id.desc())
        .limit(limit)
    )
