"""The life of a tracked vulnerability: opened by the scan that first finds it, accepted by a
person for a stated reason until a date, fixed when a later scan of the same repository no
longer finds it, and opened again if it comes back. Remediation is due a number of days after
opening that depends on severity (the SLA); past that date an open vulnerability is overdue.
No I/O here: the store keeps the records, these functions decide what they become.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence

from custos.findings import Severity
from custos.vulns.model import (
    DEFAULT_SLA_DAYS,
    MAX_ACCEPTANCE_DAYS,
    Acceptance,
    Observation,
    Record,
    State,
    VulnKey,
)

Sla = Mapping[str, int]


def reconcile(
    records: Iterable[Record],
    observed: Sequence[Observation],
    scanned: Collection[tuple[str, str]],
    now: dt.datetime,
    run: int | None,
) -> list[Record]:
    """The records a scan changes or creates: new sightings open, repeated ones are refreshed
    (an acceptance stays), fixed ones seen again reopen with a new clock, and open or accepted
    ones on a repository the scan read without seeing them are fixed by that scan."""
    known = {r.key: r for r in records}
    changed: list[Record] = []
    seen: set[VulnKey] = set()
    for obs in observed:
        seen.add(obs.key)
        old = known.get(obs.key)
        if old is None:
            fresh = Record(
                key=obs.key, status="open", severity=obs.severity, versions=obs.versions,
                fixed_in=obs.fixed_in, aliases=obs.aliases, summary=obs.summary,
                locations=obs.locations, first_seen=now, opened_at=now, last_seen=now,
                last_run=run,
            )  # fmt: skip
            changed.append(fresh)
        elif old.status == "fixed":
            back = dataclasses.replace(
                old, status="open", opened_at=now, fixed_at=None, fixed_run=None, acceptance=None
            )
            changed.append(_seen(back, obs, now, run))
        else:
            changed.append(_seen(old, obs, now, run))
    for key, old in known.items():
        if key in seen or old.status == "fixed" or (key.system, key.asset) not in scanned:
            continue
        changed.append(dataclasses.replace(old, status="fixed", fixed_at=now, fixed_run=run))
    return changed


def _seen(record: Record, obs: Observation, now: dt.datetime, run: int | None) -> Record:
    """The record with what this scan saw (an acceptance and the clock stay)."""
    return dataclasses.replace(
        record, severity=obs.severity, versions=obs.versions, fixed_in=obs.fixed_in,
        aliases=obs.aliases, summary=obs.summary, locations=obs.locations, last_seen=now,
        last_run=run,
    )  # fmt: skip


def sla_days(severity: Severity, sla: Sla | None = None) -> int | None:
    """Days allowed to remediate at this severity; None for informational findings."""
    table = {**DEFAULT_SLA_DAYS, **(sla or {})}
    return table.get(severity.name)


def due(record: Record, sla: Sla | None = None) -> dt.date | None:
    days = sla_days(record.severity, sla)
    return None if days is None else record.opened_at.date() + dt.timedelta(days=days)


def state(record: Record, now: dt.datetime, sla: Sla | None = None) -> State:
    """The status as of `now`: an acceptance past its date is expired, and an open (or
    expired) vulnerability past its due date is overdue."""
    if record.status == "fixed":
        return "fixed"
    today = now.date()
    if record.status == "accepted" and record.acceptance is not None:
        if record.acceptance.until >= today:
            return "accepted"
        when = due(record, sla)
        return "overdue" if when is not None and when < today else "expired"
    when = due(record, sla)
    return "overdue" if when is not None and when < today else "open"


def accept(record: Record, by: str, reason: str, until: dt.date, now: dt.datetime) -> Record:
    """The record accepted; ValueError names what is wrong (a fixed vulnerability, an
    empty reason, a date that is past or more than a year away)."""
    if record.status == "fixed":
        raise ValueError(f"{record.key.label} is fixed: there is nothing to accept")
    reason = " ".join(reason.split())
    if len(reason) < 10:
        raise ValueError("reason: say why the risk is accepted (at least 10 characters)")
    if until <= now.date():
        raise ValueError(f"expires: {until.isoformat()} is not in the future")
    if until > now.date() + dt.timedelta(days=MAX_ACCEPTANCE_DAYS):
        raise ValueError(
            f"expires: an acceptance lasts at most {MAX_ACCEPTANCE_DAYS} days; review it then"
        )
    return dataclasses.replace(
        record, status="accepted", acceptance=Acceptance(by, now, until, reason)
    )


def reopen(record: Record) -> Record:
    """An acceptance withdrawn: open again, on the clock it had (withdrawing does not buy
    time)."""
    if record.status != "accepted":
        raise ValueError(f"{record.key.label} is {record.status}, not accepted")
    return dataclasses.replace(record, status="open", acceptance=None)
