"""When an attestation counts: in date, and its evidence file the one that was attested.

One pure function shared by the attestation-freshness check (which reports problems) and the
assessment (which decides whether the attestation may support a control), so both always agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from custos.findings import Severity
from custos.inventory.schema import Attestation

EXPIRY_WARNING = dt.timedelta(days=30)


@dataclass(frozen=True)
class Problem:
    rule: str
    severity: Severity
    message: str


@dataclass(frozen=True)
class Judgement:
    valid: bool
    note: str
    problems: tuple[Problem, ...]


def judge(
    att: Attestation, today: dt.date, evidence_exists: bool, evidence_sha256: str | None
) -> Judgement:
    """Judge one attestation. `evidence_*` describe its evidence file today (if it names one)."""
    problems: list[Problem] = []
    if att.expires is not None and att.expires <= today:
        problems.append(
            Problem(
                "attestation-freshness/expired",
                Severity.medium,
                f"attestation {att.id} ({att.control}) expired on {att.expires}; renew it",
            )
        )
    elif att.expires is not None and att.expires - today <= EXPIRY_WARNING:
        problems.append(
            Problem(
                "attestation-freshness/expiring",
                Severity.low,
                f"attestation {att.id} expires on {att.expires}",
            )
        )
    if att.evidence is not None:
        if not evidence_exists:
            problems.append(
                Problem(
                    "attestation-freshness/evidence-missing",
                    Severity.high,
                    f"attestation {att.id}: evidence file {att.evidence} is missing",
                )
            )
        elif att.sha256 is None:
            problems.append(
                Problem(
                    "attestation-freshness/unpinned",
                    Severity.low,
                    f"attestation {att.id}: pin the evidence file's hash "
                    f"(sha256: {evidence_sha256}) so later changes are detected",
                )
            )
        elif att.sha256 != evidence_sha256:
            problems.append(
                Problem(
                    "attestation-freshness/evidence-changed",
                    Severity.high,
                    f"attestation {att.id}: {att.evidence} changed since it was attested "
                    f"(pinned {att.sha256[:12]}, now {(evidence_sha256 or '')[:12]}); re-attest",
                )
            )
    blocking = [p for p in problems if p.severity >= Severity.medium]
    if blocking:
        return Judgement(False, blocking[0].message, tuple(problems))
    note = f"valid until {att.expires}" if att.expires else "valid (no expiry set)"
    return Judgement(True, note, tuple(problems))
