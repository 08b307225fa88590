"""Tracked vulnerabilities in the store, on SQLite and PostgreSQL: reconciled in the scan's own
transaction (opened, kept, fixed, reopened), decided with a ledger entry in the same
transaction, and a refused decision leaving both the record and the ledger as they were."""

from __future__ import annotations

import datetime as dt

import pytest

from custos import ledger_records as records
from custos.ledger.checkpoint import generate_log_key
from custos.store import Store
from custos.vulns import lifecycle
from custos.vulns.model import Record
from tests.vulns.samples import T0, match, repository

DAY = dt.timedelta(days=1)


def save(store: Store, *evidence: object, at: dt.datetime) -> int:
    return store.save_scan(
        list(evidence), started_at=at, finished_at=at, manifest_path="custos.yaml",  # type: ignore[arg-type]
        manifest_sha256="0" * 64,
    )  # fmt: skip


def accept(until: dt.date) -> object:
    return lambda r: lifecycle.accept(r, "ann", "offline batch job only", until, T0)


def entry(event: str) -> object:
    return lambda r: records.event_entry(records.vulnerability_event(r, event), T0, "ann")


def test_scans_open_keep_fix_and_reopen(store: Store) -> None:
    first = save(store, repository(match(), system="a"), repository(match(), system="b"), at=T0)
    kept = store.vulnerabilities()
    assert [(r.key.system, r.status, r.last_run) for r in kept] == [("a", "open", first),
                                                                  ("b", "open", first)]  # fmt: skip
    assert kept[0].first_seen == T0
    assert kept[0].versions == ("2.5.1",)
    second = save(store, repository(system="a", result="pass"), at=T0 + DAY)
    a, b = store.vulnerabilities()
    assert (a.status, a.fixed_run, a.fixed_at) == ("fixed", second, T0 + DAY)
    assert b.status == "open"  # system b was not scanned
    assert store.vulnerabilities(["b"], ["open"]) == [b]
    save(store, repository(match(version="2.5.2"), system="a"), at=T0 + 3 * DAY)
    (a,) = store.vulnerabilities(["a"])
    assert (a.status, a.opened_at, a.first_seen, a.versions) == (
        "open", T0 + 3 * DAY, T0, ("2.5.2",))  # fmt: skip


def test_a_decision_and_its_ledger_entry_commit_together(store: Store) -> None:
    signer, _verifier = generate_log_key("test-ledger")
    save(store, repository(match()), at=T0)
    (record,) = store.vulnerabilities()
    assert record.id is not None
    before = store.ledger_info()
    with pytest.raises(ValueError, match="not in the future"):
        store.decide_vulnerability(record.id, accept(T0.date()), entry("x"), signer)  # type: ignore[arg-type]
    assert store.vulnerabilities() == [record]
    assert store.ledger_info() == before  # nothing appended
    decided: Record = store.decide_vulnerability(
        record.id, accept(T0.date() + 30 * DAY), entry("vulnerability-accepted"), signer,  # type: ignore[arg-type]
    )  # fmt: skip
    (kept,) = store.vulnerabilities()
    assert kept == decided
    assert kept.acceptance is not None
    assert kept.acceptance.until == T0.date() + 30 * DAY
    events = store.ledger_matching(b'"event":"vulnerability-accepted"')
    assert len(events) == 1
    assert b'"reason":"offline batch job only"' in events[0][1]
    # a later scan that still finds it keeps the acceptance
    save(store, repository(match()), at=T0 + DAY)
    assert store.vulnerabilities()[0].acceptance == kept.acceptance
    with pytest.raises(KeyError):
        store.decide_vulnerability(999_999, lifecycle.reopen, entry("x"), signer)  # type: ignore[arg-type]
