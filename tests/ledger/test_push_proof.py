"""Checking pushed evidence against the pusher's ledger (custos.ledger.push_proof): only an
entry proven into a checkpoint signed by an unretired registered key of the evidence's system,
recording exactly the pushed result, is verified; every forgery is claimed, with its reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from custos import ledger_records as records
from custos.checks.model import Evidence, Examined, Finding, Severity
from custos.ledger.checkpoint import Checkpoint, generate_log_key, sign_checkpoint
from custos.ledger.merkle import root_of
from custos.ledger.proofs import MemoryNodes, inclusion_proof
from custos.ledger.push_proof import EntryProof, RegisteredKey, verify_push
from custos.reports.json_schema import evidence_to_dict

T0 = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)
SIGNER, VERIFIER = generate_log_key("custos-ledger/ci")
OTHER_SIGNER, OTHER_VERIFIER = generate_log_key("custos-ledger/other")
KEY = RegisteredKey(7, "sys", VERIFIER, T0 - dt.timedelta(days=1))


def _evidence(result: str, asset: str) -> Evidence:
    return Evidence(
        check="model-card", check_version=1, system="sys", asset=asset, result=result,  # type: ignore[arg-type]
        summary="s", controls=("custos:ai:model-documentation",), collected_at=T0,
        expires_at=None,
        findings=(Finding("r", Severity.high, "m", "loc"),),
        examined=(Examined("models/x.bin", "ab" * 32, 10),),
    )  # fmt: skip


def _ledger(
    evidence: list[Evidence], signer: str = SIGNER
) -> tuple[str, list[EntryProof], list[dict[str, Any]]]:
    """A local ledger holding one event then the scan's entries; its checkpoint and proofs."""
    entries = [
        records.event_entry({"x": 1}, T0, "me"),
        *records.evidence_entries(3, evidence, T0, "me"),
    ]
    datas = [e.canonical_bytes() for e in entries]
    hashes = [e.leaf_hash() for e in entries]
    nodes = MemoryNodes.from_leaf_hashes(hashes)
    origin = signer.split("+")[2]
    note = sign_checkpoint(Checkpoint(origin, len(hashes), root_of(hashes)), signer)
    proofs = [
        EntryProof(datas[i], i, tuple(inclusion_proof(nodes, i, len(hashes))))
        for i in range(1, len(entries))
    ]
    return note, proofs, [evidence_to_dict(e) for e in evidence]


def _verify(
    note: str | None,
    proofs: list[EntryProof | None],
    pushed: list[dict[str, Any]],
    keys: list[RegisteredKey] | None = None,
) -> list[tuple[str, str | None]]:
    found = verify_push(list(zip(pushed, proofs, strict=True)), note, keys or [KEY], T0, "ci")
    return [(p.kind, p.reason) for p in found]


def test_an_honest_push_is_verified_with_where_it_came_from() -> None:
    note, proofs, pushed = _ledger([_evidence("fail", "a"), _evidence("pass", "b")])
    found = verify_push(list(zip(pushed, proofs, strict=True)), note, [KEY], T0, "ci")
    assert [p.kind for p in found] == ["verified", "verified"]
    first = found[0]
    assert (first.key_id, first.origin, first.size, first.index) == (7, "custos-ledger/ci", 3, 1)
    assert first.key_name is not None
    assert VERIFIER.startswith(first.key_name)
    assert first.pushed_by == "ci"
    assert first.root is not None
    assert len(first.root) == 64


def test_no_key_and_no_proof_are_claimed() -> None:
    note, proofs, pushed = _ledger([_evidence("pass", "a")])
    other = dataclasses.replace(KEY, system="another")
    assert _verify(note, list(proofs), pushed, [other]) == [("claimed", "no-key")]
    assert _verify(None, list(proofs), pushed) == [("claimed", "no-proof")]
    assert _verify(note, [None], pushed) == [("claimed", "no-proof")]


def test_a_result_flipped_after_signing_is_a_payload_mismatch() -> None:
    note, proofs, pushed = _ledger([_evidence("fail", "a")])
    flipped = [{**pushed[0], "result": "pass", "findings": []}]
    assert _verify(note, list(proofs), flipped) == [("claimed", "payload-mismatch")]
    # Rewriting the entry to match breaks the proof instead.
    forged_entry = records.evidence_entries(3, [_evidence("pass", "a")], T0, "me")[0]
    forged = dataclasses.replace(proofs[0], entry=forged_entry.canonical_bytes())
    assert _verify(note, [forged], [evidence_to_dict(_evidence("pass", "a"))]) == [
        ("claimed", "bad-proof")
    ]


def test_a_proof_for_another_entry_is_refused() -> None:
    note, proofs, pushed = _ledger([_evidence("fail", "a"), _evidence("pass", "b")])
    # The pass entry's bytes and proof, under the failing record.
    assert _verify(note, [proofs[1]], [pushed[0]]) == [("claimed", "payload-mismatch")]
    # The pass entry's bytes with the fail entry's proof.
    swapped = dataclasses.replace(proofs[0], entry=proofs[1].entry)
    assert _verify(note, [swapped], [pushed[1]]) == [("claimed", "bad-proof")]


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    note, proofs, pushed = _ledger([_evidence("pass", "a")], OTHER_SIGNER)
    assert _verify(note, list(proofs), pushed) == [("claimed", "bad-signature")]
    # A checkpoint of the right key, altered after signing.
    honest_note, honest, honest_pushed = _ledger([_evidence("pass", "a")])
    tampered = honest_note.replace("custos-ledger/ci\n2\n", "custos-ledger/ci\n3\n", 1)
    assert tampered != honest_note
    assert _verify(tampered, list(honest), honest_pushed) == [("claimed", "bad-signature")]


def test_a_retired_key_verifies_nothing_after_its_retirement() -> None:
    note, proofs, pushed = _ledger([_evidence("pass", "a")])
    retired = dataclasses.replace(KEY, retired_at=T0)
    assert _verify(note, list(proofs), pushed, [retired]) == [("claimed", "retired-key")]
    later = dataclasses.replace(KEY, retired_at=T0 + dt.timedelta(seconds=1))
    assert _verify(note, list(proofs), pushed, [later]) == [("verified", None)]
    # A rotated-in key beside the retired one verifies its own checkpoints.
    note2, proofs2, pushed2 = _ledger([_evidence("pass", "a")], OTHER_SIGNER)
    rotated = RegisteredKey(8, "sys", OTHER_VERIFIER, T0)
    assert _verify(note2, list(proofs2), pushed2, [retired, rotated]) == [("verified", None)]


@pytest.mark.parametrize("field", ["system", "asset", "collected_at", "examined", "check"])
def test_any_changed_field_is_a_mismatch(field: str) -> None:
    note, proofs, pushed = _ledger([_evidence("pass", "a")])
    changed = {
        "system": "other", "asset": "b", "collected_at": "2026-06-02T09:00:00+00:00",
        "examined": [{"location": "models/x.bin", "sha256": "cd" * 32, "size": 10}],
        "check": "model-signature",
    }[field]  # fmt: skip
    record = {**pushed[0], field: changed}
    # Another system's record: that system's keys (none here) would have to have signed.
    expected = ("claimed", "no-key" if field == "system" else "payload-mismatch")
    assert _verify(note, list(proofs), [record]) == [expected]
