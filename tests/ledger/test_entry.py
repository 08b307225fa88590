"""Ledger entries: their exact bytes, the leaf hash, validation, and the round trip."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from custos.errors import UserError
from custos.ledger.entry import DIGEST_NAME, KINDS, LedgerEntry, format_recorded_at

WHEN = "2026-03-01T09:30:00.250000Z"


def evidence() -> LedgerEntry:
    payload = {"check": "model-file", "result": "pass", "sha256": "ab" * 32, "score": 0.5}
    return LedgerEntry("evidence", payload, WHEN, actor="ci@example.org")


def test_canonical_bytes_are_the_sorted_versioned_envelope() -> None:
    expected = (
        '{"actor":"ci@example.org","kind":"evidence","payload":{"check":"model-file",'
        '"result":"pass","score":0.5,"sha256":"' + "ab" * 32 + '"},'
        '"recorded_at":"2026-03-01T09:30:00.250000Z","v":1}'
    )
    assert evidence().canonical_bytes() == expected.encode()
    assert DIGEST_NAME.startswith("sha256/rfc6962-leaf/")


def test_leaf_hash_is_rfc6962_over_the_canonical_bytes() -> None:
    entry = evidence()
    assert entry.leaf_hash() == hashlib.sha256(b"\x00" + entry.canonical_bytes()).digest()


def test_absent_actor_is_recorded_as_null() -> None:
    entry = LedgerEntry("event", {"action": "deploy"}, "2026-03-01T09:30:00Z")
    assert b'"actor":null' in entry.canonical_bytes()


def test_round_trip_through_bytes_gives_an_equal_entry() -> None:
    entry = LedgerEntry("soa-decision", {"control": "iso27002:2022:8.24", "n": 2.0}, WHEN)
    assert entry.payload == {"control": "iso27002:2022:8.24", "n": 2}
    assert LedgerEntry.from_canonical(entry.canonical_bytes()) == entry


def test_payload_is_copied_so_later_mutation_cannot_change_the_record() -> None:
    payload = {"files": ["a.bin"]}
    entry = LedgerEntry("attestation", payload, WHEN)
    before = entry.canonical_bytes()
    payload["files"].append("b.bin")
    assert entry.canonical_bytes() == before


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_accepted(kind: str) -> None:
    assert LedgerEntry(kind, {}, WHEN).kind == kind


@pytest.mark.parametrize(
    ("kind", "payload", "recorded_at", "actor", "message"),
    [
        ("note", {}, WHEN, None, "kind 'note' is not one of"),
        ("event", {"x": float("nan")}, WHEN, None, r"payload\.x: nan"),
        ("event", [], WHEN, None, "must be a JSON object"),
        ("event", {}, "2026-03-01T09:30:00+00:00", None, "not an RFC 3339 UTC time"),
        ("event", {}, "2026-03-01 09:30:00Z", None, "not an RFC 3339 UTC time"),
        ("event", {}, "2026-02-30T09:30:00Z", None, "not a real date"),
        ("event", {}, WHEN, "  ", "actor must be a non-empty string"),
    ],
)
def test_invalid_entries_are_refused(
    kind: str, payload: object, recorded_at: str, actor: str | None, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        LedgerEntry(kind, payload, recorded_at, actor)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"kind":"event","payload":{},"recorded_at":"2026-03-01T09:30:00Z","v":1}', "keys"),
        (
            b'{"actor":null,"kind":"event","payload":{},"recorded_at":"2026-03-01T09:30:00Z",'
            b'"v":2}',
            "version 2 is not supported",
        ),
        (
            b'{"actor":null,"kind":"event","payload":[],"recorded_at":"2026-03-01T09:30:00Z",'
            b'"v":1}',
            "payload must be an object",
        ),
        (b'{"actor": null}', "canonical form"),
    ],
)
def test_foreign_entry_bytes_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(UserError, match=message):
        LedgerEntry.from_canonical(data)


def test_format_recorded_at_normalises_to_utc() -> None:
    moment = dt.datetime(2026, 3, 1, 10, 30, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert format_recorded_at(moment) == WHEN
    LedgerEntry("event", {}, format_recorded_at(moment))
    with pytest.raises(UserError, match="timezone-aware"):
        format_recorded_at(dt.datetime(2026, 3, 1))
