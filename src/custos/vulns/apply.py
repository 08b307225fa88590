"""The lifecycle read into the evidence an assessment weighs: the stored evidence says what a
scan observed; this says what the organisation decided about it since. An accepted
vulnerability (until its date) is informational, not a gap; an overdue one is a finding of its
own against vulnerability management (ISO/IEC 27002 8.8). The stored evidence is never changed,
so a verified push stays verified; each assessment applies the decisions anew. No I/O here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from custos.checks.model import Evidence, Finding
from custos.findings import Severity
from custos.vulns.lifecycle import Sla, due, sla_days, state
from custos.vulns.model import Record, VulnKey
from custos.vulns.observe import CHECK, key_of

OVERDUE_RULE = "vuln/overdue"
OVERDUE_CONTROLS = ("custos:ai:vulnerability-management", "iso27002:2022:8.8")


def apply(
    evidence: Sequence[Evidence], records: Iterable[Record], now: dt.datetime, sla: Sla | None
) -> list[Evidence]:
    by_key = {r.key: r for r in records}
    if not by_key:
        return list(evidence)
    return [_applied(item, by_key, now, sla) if item.check == CHECK else item for item in evidence]


def _applied(
    item: Evidence, by_key: Mapping[VulnKey, Record], now: dt.datetime, sla: Sla | None
) -> Evidence:
    findings: list[Finding] = []
    accepted = overdue = 0
    flagged: set[VulnKey] = set()
    for finding in item.findings:
        key = key_of(item, finding)
        record: Record | None = by_key.get(key) if key is not None else None
        if record is None:
            findings.append(finding)
            continue
        now_state = state(record, now, sla)
        if now_state == "accepted" and record.acceptance is not None:
            a = record.acceptance
            accepted += 1
            findings.append(dataclasses.replace(
                finding, severity=Severity.info,
                message=f"{finding.message} [accepted by {a.by} until {a.until.isoformat()}: "
                        f"{a.reason}]",
            ))  # fmt: skip
            continue
        if now_state in ("expired", "overdue") and record.acceptance is not None:
            expired = record.acceptance.until.isoformat()
            finding = dataclasses.replace(
                finding, message=f"{finding.message} [acceptance expired on {expired}]"
            )
        findings.append(finding)
        if now_state == "overdue" and record.key not in flagged:
            flagged.add(record.key)
            overdue += 1
            findings.append(_overdue(record, finding.location, now, sla))
    if not accepted and not overdue:
        return item
    result = item.result
    blocking = any(f.severity >= Severity.medium for f in findings)
    if result in ("pass", "fail"):
        result = "fail" if blocking else "pass"
    notes = [f"{accepted} accepted" if accepted else "", f"{overdue} overdue" if overdue else ""]
    summary = f"{item.summary}; vulnerabilities: {', '.join(n for n in notes if n)}"
    return dataclasses.replace(item, findings=tuple(findings), result=result, summary=summary)


def _overdue(record: Record, location: str, now: dt.datetime, sla: Sla | None) -> Finding:
    when = due(record, sla)
    assert when is not None  # overdue implies a due date
    late = (now.date() - when).days
    return Finding(
        OVERDUE_RULE,
        max(record.severity, Severity.medium),
        f"{record.key.package} {record.key.advisory}: open since "
        f"{record.opened_at.date().isoformat()}, remediation was due {when.isoformat()} "
        f"({sla_days(record.severity, sla)} days for {record.severity.name}), {late} day(s) "
        "overdue: upgrade, or accept the risk with a reason and an expiry",
        location,
        OVERDUE_CONTROLS,
    )
