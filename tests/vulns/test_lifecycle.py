"""The vulnerability lifecycle, pure: what a scan's evidence says (parsed back from the
scanner's own messages), how records open, stay, get fixed and reopen, when they are due and
overdue under an SLA, what accepting and reopening allow, and how the decisions change the
evidence an assessment weighs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from custos.checks.model import Finding
from custos.findings import Severity
from custos.vulns import lifecycle, observe
from custos.vulns.apply import OVERDUE_RULE, apply
from custos.vulns.model import Record
from tests.vulns.samples import T0, match, repository

DAY = dt.timedelta(days=1)


def scan(records: list[Record], *evidence: object, at: dt.datetime, run: int) -> list[Record]:
    items = list(evidence)
    changed = lifecycle.reconcile(
        records,
        observe.observations(items),
        observe.scanned(items),
        at,
        run,  # type: ignore[arg-type]
    )
    by_key = {r.key: r for r in records}
    by_key.update({r.key: r for r in changed})
    return sorted(by_key.values(), key=lambda r: r.key)


def test_the_scanner_message_parses_back_with_every_part() -> None:
    ev = repository(match(), match("pyyaml", "5.3", "PYSEC-2021-142", Severity.high, None, ()))
    parsed = [observe.parse(f.message) for f in ev.findings]
    assert parsed[0] is not None
    assert parsed[1] is not None
    yaml, torch = sorted(parsed, key=lambda p: p.package)  # type: ignore[union-attr]
    assert (yaml.package, yaml.version, yaml.advisory, yaml.aliases, yaml.fixed_in) == (
        "pyyaml", "5.3", "PYSEC-2021-142", (), None)  # fmt: skip
    assert (torch.advisory, torch.aliases, torch.fixed_in) == (
        "GHSA-53q9-r3pm-6pq6", ("CVE-2025-32434",), "2.6.0")  # fmt: skip
    assert torch.summary == "RCE: torch.load (weights_only)"
    assert observe.parse("torch.load without weights_only") is None


def test_one_vulnerability_over_two_files_is_one_observation() -> None:
    ev = repository(match(), match(file="poetry.lock", version="2.5.0"))
    (seen,) = observe.observations([ev])
    assert seen.versions == ("2.5.0", "2.5.1")
    assert seen.locations == ("serving/poetry.lock:3", "serving/requirements.txt:3")
    assert seen.severity == Severity.critical


def test_open_then_fixed_by_a_scan_that_looked_then_reopened() -> None:
    kept = scan([], repository(match()), at=T0, run=1)
    assert [(r.status, r.first_seen, r.opened_at) for r in kept] == [("open", T0, T0)]
    # a claimed push and a scan without advisories say nothing about a fix
    no_intel = repository(extra=(Finding("intel/none", Severity.medium, "none", "serving"),))
    for blind in (repository(claimed=True, result="pass"), no_intel,
                  repository(result="error")):  # fmt: skip
        assert scan(kept, blind, at=T0 + DAY, run=2)[0].status == "open"
    # another asset's scan does not fix this one
    assert scan(kept, repository(asset="other", result="pass"), at=T0 + DAY, run=2)[0].status == (
        "open")  # fmt: skip
    fixed = scan(kept, repository(result="pass"), at=T0 + 2 * DAY, run=3)
    assert [(r.status, r.fixed_at, r.fixed_run) for r in fixed] == [("fixed", T0 + 2 * DAY, 3)]
    back = scan(fixed, repository(match()), at=T0 + 9 * DAY, run=4)
    assert [(r.status, r.first_seen, r.opened_at, r.fixed_at) for r in back] == [
        ("open", T0, T0 + 9 * DAY, None)]  # fmt: skip


def test_due_dates_follow_the_sla_and_pass_into_overdue() -> None:
    (record,) = scan([], repository(match()), at=T0, run=1)  # critical
    assert lifecycle.due(record) == T0.date() + 15 * DAY
    assert lifecycle.due(record, {"critical": 3}) == T0.date() + 3 * DAY
    assert lifecycle.state(record, T0 + 15 * DAY) == "open"
    assert lifecycle.state(record, T0 + 16 * DAY) == "overdue"
    info = dataclasses.replace(record, severity=Severity.info)
    assert lifecycle.due(info) is None
    assert lifecycle.state(info, T0 + 999 * DAY) == "open"


def test_accepting_needs_a_reason_and_a_date_within_a_year_and_lapses() -> None:
    (record,) = scan([], repository(match()), at=T0, run=1)
    with pytest.raises(ValueError, match="reason"):
        lifecycle.accept(record, "ann", "  too   short ", T0.date() + 9 * DAY, T0)
    with pytest.raises(ValueError, match="not in the future"):
        lifecycle.accept(record, "ann", "offline batch job only", T0.date(), T0)
    with pytest.raises(ValueError, match="at most 366 days"):
        lifecycle.accept(record, "ann", "offline batch job only", T0.date() + 400 * DAY, T0)
    ok = lifecycle.accept(record, "ann", "offline  batch job only", T0.date() + 30 * DAY, T0)
    assert ok.status == "accepted"
    assert ok.acceptance is not None
    assert ok.acceptance.reason == "offline batch job only"
    assert lifecycle.state(ok, T0 + 30 * DAY) == "accepted"
    assert lifecycle.state(ok, T0 + 31 * DAY) == "overdue"  # lapsed, and past its 15 days
    assert lifecycle.state(ok, T0 + 31 * DAY, {"critical": 60}) == "expired"
    # a later scan keeps the acceptance; withdrawing it keeps the clock
    again = scan([ok], repository(match()), at=T0 + 5 * DAY, run=2)[0]
    assert again.status == "accepted"
    assert again.acceptance == ok.acceptance
    reopened = lifecycle.reopen(again)
    assert (reopened.status, reopened.opened_at, reopened.acceptance) == ("open", T0, None)
    with pytest.raises(ValueError, match="not accepted"):
        lifecycle.reopen(reopened)
    fixed = scan([reopened], repository(result="pass"), at=T0 + 6 * DAY, run=3)[0]
    with pytest.raises(ValueError, match="is fixed"):
        lifecycle.accept(fixed, "ann", "offline batch job only", T0.date() + 30 * DAY, T0)


def test_decisions_change_the_evidence_the_assessment_weighs() -> None:
    ev = repository(match(), match("pyyaml", "5.3", "PYSEC-2021-142", Severity.high, None, ()))
    kept = scan([], ev, at=T0, run=1)
    torch = next(r for r in kept if r.key.package == "torch")
    accepted = lifecycle.accept(torch, "ann", "offline batch job only", T0.date() + 60 * DAY, T0)
    records = [accepted if r.key == torch.key else r for r in kept]
    # day 10: torch accepted (informational), pyyaml open and within 30 days: still failing
    (now,) = apply([ev], records, T0 + 10 * DAY, None)
    assert now.result == "fail"
    sev = {observe.parse(f.message).package: f.severity for f in now.findings}  # type: ignore[union-attr]
    assert sev == {"torch": Severity.info, "pyyaml": Severity.high}
    assert "accepted by ann until" in next(f.message for f in now.findings if "torch" in f.message)
    assert not [f for f in now.findings if f.rule == OVERDUE_RULE]
    # day 40: pyyaml overdue (30 days for high): one overdue finding of its own, against 8.8
    (late,) = apply([ev], records, T0 + 40 * DAY, None)
    overdue = [f for f in late.findings if f.rule == OVERDUE_RULE]
    assert len(overdue) == 1
    assert "pyyaml PYSEC-2021-142" in overdue[0].message
    assert "iso27002:2022:8.8" in overdue[0].controls
    assert overdue[0].severity == Severity.high
    assert "1 accepted, 1 overdue" in late.summary
    # with pyyaml accepted too, nothing blocks: the check passes
    yaml = next(r for r in records if r.key.package == "pyyaml")
    both = [
        accepted,
        lifecycle.accept(yaml, "ann", "not reachable from input", T0.date() + 60 * DAY, T0),
    ]
    (clean,) = apply([ev], both, T0 + 40 * DAY, None)
    assert clean.result == "pass"
    assert all(f.severity == Severity.info for f in clean.findings)
    # day 70: both acceptances lapsed, both overdue, and the messages say the acceptance expired
    (lapsed,) = apply([ev], both, T0 + 70 * DAY, None)
    assert lapsed.result == "fail"
    assert sum(f.rule == OVERDUE_RULE for f in lapsed.findings) == 2
    assert all("acceptance expired on" in f.message for f in lapsed.findings
               if f.rule == observe.RULE)  # fmt: skip
    # other checks and other systems' records are untouched
    assert apply([ev], [], T0, None) == [ev]
