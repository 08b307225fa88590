"""Tracked vulnerabilities as the CLI, the API and the web page show them: one JSON object per
record (a contract), filters, and finding a record by its id or an advisory id. No I/O here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from custos.vulns.exposure import Suggestion
from custos.vulns.lifecycle import Sla, due, state
from custos.vulns.model import Record, State

# Most pressing first: overdue, then open, expired acceptances, accepted, fixed.
_ORDER: dict[State, int] = {"overdue": 0, "expired": 1, "open": 2, "accepted": 3, "fixed": 4}


def to_json(
    record: Record, now: dt.datetime, sla: Sla | None, exposes: Sequence[str] = ()
) -> dict[str, Any]:
    when = due(record, sla)
    a = record.acceptance
    return {
        "id": record.id,
        "system": record.key.system,
        "asset": record.key.asset,
        "package": record.key.package,
        "advisory": record.key.advisory,
        "aliases": list(record.aliases),
        "severity": record.severity.name,
        "status": record.status,
        "state": state(record, now, sla),
        "versions": list(record.versions),
        "fixed_in": record.fixed_in,
        "summary": record.summary,
        "locations": list(record.locations),
        "first_seen": record.first_seen.isoformat(),
        "opened_at": record.opened_at.isoformat(),
        "due": when.isoformat() if when and record.status != "fixed" else None,
        "last_seen": record.last_seen.isoformat(),
        "fixed_at": record.fixed_at.isoformat() if record.fixed_at else None,
        "fixed_run": record.fixed_run,
        "accepted": None if a is None else {
            "by": a.by, "at": a.at.isoformat(), "until": a.until.isoformat(), "reason": a.reason,
        },
        "exposes": list(exposes),
    }  # fmt: skip


def suggestion_json(s: Suggestion) -> dict[str, Any]:
    return {
        "risk": s.risk, "likelihood": s.likelihood, "suggested": s.suggested,
        "because": list(s.because), "techniques": list(s.techniques),
    }  # fmt: skip


def ordered(
    records: Iterable[Record], now: dt.datetime, sla: Sla | None, states: Iterable[State] = ()
) -> list[Record]:
    """The records in the given states (all when none), most pressing first."""
    wanted = set(states)
    kept = [(state(r, now, sla), r) for r in records]
    kept = [(s, r) for s, r in kept if not wanted or s in wanted]
    kept.sort(key=lambda sr: (_ORDER[sr[0]], -int(sr[1].severity), sr[1].key))
    return [r for _s, r in kept]


def counts(records: Iterable[Record], now: dt.datetime, sla: Sla | None) -> dict[str, int]:
    out: dict[str, int] = dict.fromkeys(_ORDER, 0)
    for r in records:
        out[state(r, now, sla)] += 1
    return out


def find(records: Sequence[Record], ident: str, system: str | None = None) -> list[Record]:
    """The records `ident` names: a numeric id, or an advisory id or alias (case-insensitive),
    of `system` when given; fixed records only by numeric id."""
    if ident.isdigit():
        return [r for r in records if r.id == int(ident)]
    wanted = ident.strip().upper()
    return [
        r
        for r in records
        if r.status != "fixed"
        and (system is None or r.key.system == system)
        and wanted in {i.upper() for i in r.ids}
    ]


def exposes_of(exposure: Mapping[int | None, list[str]], record: Record) -> list[str]:
    return exposure.get(record.id, [record.key.asset])
