"""Tracked vulnerabilities (table `vulnerabilities`, custos.vulns): what each scan observed,
reconciled into the kept records in the scan's own transaction, and the decisions people take
on them. Functions over the caller's `Connection`, so a decision and its ledger event commit
together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection

from custos.checks.model import Evidence
from custos.findings import Severity
from custos.store.models import VulnerabilityRow
from custos.vulns import lifecycle, observe
from custos.vulns.model import Acceptance, Record, Status, VulnKey

VULNS = cast(Table, VulnerabilityRow.__table__)


def _record(row: Any) -> Record:
    acceptance = None
    if row["accepted_by"] is not None and row["accepted_until"] is not None:
        acceptance = Acceptance(
            row["accepted_by"], row["accepted_at"], row["accepted_until"], row["accepted_reason"]
        )
    return Record(
        key=VulnKey(row["system"], row["asset"], row["package"], row["advisory"]),
        status=cast(Status, row["status"]),
        severity=Severity(row["severity"]),
        versions=tuple(row["versions"]),
        fixed_in=row["fixed_in"],
        aliases=tuple(row["aliases"]),
        summary=row["summary"],
        locations=tuple(row["locations"]),
        first_seen=row["first_seen"],
        opened_at=row["opened_at"],
        last_seen=row["last_seen"],
        last_run=row["last_run"],
        fixed_at=row["fixed_at"],
        fixed_run=row["fixed_run"],
        acceptance=acceptance,
        id=row["id"],
    )


def _values(record: Record) -> dict[str, Any]:
    a = record.acceptance
    return {
        "system": record.key.system, "asset": record.key.asset, "package": record.key.package,
        "advisory": record.key.advisory, "status": record.status,
        "severity": int(record.severity), "versions": list(record.versions),
        "fixed_in": record.fixed_in, "aliases": list(record.aliases), "summary": record.summary,
        "locations": list(record.locations), "first_seen": record.first_seen,
        "opened_at": record.opened_at, "last_seen": record.last_seen,
        "last_run": record.last_run, "fixed_at": record.fixed_at, "fixed_run": record.fixed_run,
        "accepted_by": a.by if a else None, "accepted_at": a.at if a else None,
        "accepted_until": a.until if a else None, "accepted_reason": a.reason if a else None,
    }  # fmt: skip


def records(
    conn: Connection,
    systems: Collection[str] | None = None,
    statuses: Collection[Status] | None = None,
) -> list[Record]:
    """The kept records, optionally of some systems and statuses; by system, asset, package."""
    query = select(VULNS)
    if systems is not None:
        if not systems:
            return []
        query = query.where(VULNS.c.system.in_(sorted(set(systems))))
    if statuses is not None:
        query = query.where(VULNS.c.status.in_(sorted(set(statuses))))
    query = query.order_by(VULNS.c.system, VULNS.c.asset, VULNS.c.package, VULNS.c.advisory)
    return [_record(r) for r in conn.execute(query).mappings()]


def get(conn: Connection, vuln_id: int) -> Record | None:
    row = conn.execute(select(VULNS).where(VULNS.c.id == vuln_id)).mappings().first()
    return None if row is None else _record(row)


def reconcile(
    conn: Connection, evidence: Sequence[Evidence], run: int, now: dt.datetime
) -> list[Record]:
    """Bring the records in line with one scan's evidence; the records it changed."""
    observed = observe.observations(evidence)
    scanned = observe.scanned(evidence)
    systems = {o.key.system for o in observed} | {s for s, _ in scanned}
    if not systems:
        return []
    kept = records(conn, systems)
    changed = lifecycle.reconcile(kept, observed, scanned, now, run)
    save(conn, changed)
    return changed


def save(conn: Connection, changed: Iterable[Record]) -> None:
    new = [_values(r) for r in changed if r.id is None]
    if new:
        conn.execute(insert(VULNS), new)
    for r in changed:
        if r.id is not None:
            conn.execute(update(VULNS).where(VULNS.c.id == r.id).values(**_values(r)))
