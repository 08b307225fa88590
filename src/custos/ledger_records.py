"""What Custos writes to the ledger for its own work: evidence, attestations, SoA decisions,
and decisions on tracked vulnerabilities.

Pure mapping from domain objects to `LedgerEntry`s; the shell appends them in the same
transaction that stores the scan or the assessment, so the database never holds evidence the
ledger does not. Payloads carry what an auditor needs to re-check a claim offline: which check,
on which bytes (SHA-256 of every examined artifact), with which result and findings, when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from custos.assess.model import AssessmentReport
from custos.checks.model import Evidence
from custos.inventory.schema import Attestation
from custos.ledger.entry import LedgerEntry, format_recorded_at
from custos.reports.json_schema import evidence_to_dict
from custos.vulns.model import Record


def evidence_entries(
    run_id: int,
    evidence: Iterable[Evidence],
    when: dt.datetime,
    actor: str | None,
    *,
    provenance: bool = False,
) -> list[LedgerEntry]:
    """With `provenance` (the server keeping pushed evidence), each entry also records where
    the record comes from: verified against which key and checkpoint, or claimed and why."""
    stamp = format_recorded_at(when)
    return [
        LedgerEntry(
            "evidence",
            {
                "scan": run_id,
                **evidence_to_dict(item),
                **({"provenance": item.provenance.to_dict()} if provenance else {}),
            },
            stamp,
            actor,
        )
        for item in evidence
    ]


def attestation_entries(
    run_id: int,
    attestations: Iterable[Attestation],
    files: Mapping[str, str | None],
    when: dt.datetime,
    actor: str | None,
) -> list[LedgerEntry]:
    """Each attestation as the assessment saw it, with its evidence file's digest that day."""
    stamp = format_recorded_at(when)
    entries = []
    for att in attestations:
        payload: dict[str, Any] = {
            "assessment": run_id,
            "id": att.id,
            "control": att.control,
            "systems": list(att.systems),
            "statement": att.statement,
            "author": att.author,
            "date": att.date.isoformat(),
            "expires": att.expires.isoformat() if att.expires else None,
            "evidence": att.evidence,
            "pinned_sha256": att.sha256,
            "evidence_sha256": files.get(att.evidence) if att.evidence else None,
        }
        entries.append(LedgerEntry("attestation", payload, stamp, actor))
    return entries


def soa_entries(
    run_id: int, report: AssessmentReport, when: dt.datetime, actor: str | None
) -> list[LedgerEntry]:
    """One decision per Statement of Applicability line: applicable or not, and why."""
    stamp = format_recorded_at(when)
    return [
        LedgerEntry(
            "soa-decision",
            {
                "assessment": run_id,
                "control": item.control,
                "framework": item.framework,
                "applicable": item.applicable,
                "justification": list(item.justification),
                "exclusion": item.exclusion,
                "status": item.status,
                "per_system": dict(item.per_system),
            },
            stamp,
            actor,
        )
        for item in report.soa
    ]


def event_entry(
    payload: Mapping[str, Any], when: dt.datetime, actor: str | None, kind: str = "event"
) -> LedgerEntry:
    """A training, deployment or user event recorded by a pipeline or a person."""
    return LedgerEntry(kind, dict(payload), format_recorded_at(when), actor)


VULNERABILITY_EVENTS = ("vulnerability-accepted", "vulnerability-reopened")


def vulnerability_event(record: Record, event: str) -> dict[str, Any]:
    """The payload of a decision on a tracked vulnerability (custos.vulns): what was decided,
    on which advisory, and for an acceptance why and until when."""
    payload: dict[str, Any] = {
        "event": event,
        "system": record.key.system,
        "asset": record.key.asset,
        "package": record.key.package,
        "advisory": record.key.advisory,
        "severity": record.severity.name,
        "status": record.status,
    }
    if record.acceptance is not None:
        payload["reason"] = record.acceptance.reason
        payload["until"] = record.acceptance.until.isoformat()
    return payload
