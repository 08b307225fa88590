"""Registered ledger keys (custos.store.ledger_keys) and evidence provenance in the store, on
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt

from custos.ledger.checkpoint import generate_log_key
from custos.provenance import LOCAL, Provenance
from custos.store import Store, auth_store, ledger_keys
from tests.store import samples
from tests.store.samples import T0

VERIFIED = Provenance(
    "verified", message="entry 4 of ledger ci", key_id=3, key_name="ci+0a1b2c3d", origin="ci",
    size=9, root="ab" * 32, index=4, pushed_by="ci-bot",
)  # fmt: skip
CLAIMED = Provenance("claimed", reason="payload-mismatch", message="differs", pushed_by="x")


def test_keys_are_added_listed_and_retired_never_deleted(store: Store) -> None:
    _signer, verifier = generate_log_key("ci")
    later = T0 + dt.timedelta(days=1)
    with auth_store.transaction(store) as conn:
        first = ledger_keys.add(conn, "fraud-scoring", verifier, "CI", "admin", T0)
        second = ledger_keys.add(conn, "fraud-scoring", verifier, "CI 2", "admin", T0)
        ledger_keys.add(conn, "other", verifier, "", "admin", T0)
    with auth_store.transaction(store) as conn:
        done = ledger_keys.retire(conn, "fraud-scoring", first.key.id, "officer", later)
        again = ledger_keys.retire(conn, "fraud-scoring", first.key.id, "root", later)
        wrong_system = ledger_keys.retire(conn, "other", first.key.id, "officer", later)
        listed = ledger_keys.of_system(conn, "fraud-scoring")
        keys = ledger_keys.of_systems(conn, ["fraud-scoring"])
    assert done is not None
    assert done[1] is True
    assert again is not None
    assert again[1] is False
    assert again[0].retired_by == "officer"
    assert wrong_system is None
    assert [(k.key.id, k.label, k.key.retired_at) for k in listed] == [
        (first.key.id, "CI", later),
        (second.key.id, "CI 2", None),
    ]
    assert {k.id: k.active_at(later) for k in keys} == {first.key.id: False, second.key.id: True}


def test_evidence_keeps_its_provenance(store: Store) -> None:
    review = samples.evidence("risk-review", "fraud-scoring", None)
    card = samples.evidence("model-card", "chargeback-bot", "bot")
    saved = [
        samples.evidence(),
        dataclasses.replace(review, provenance=VERIFIED),
        dataclasses.replace(card, provenance=CLAIMED),
    ]
    store.save_scan(
        saved, started_at=T0, finished_at=T0, manifest_path="push", manifest_sha256=samples.SHA
    )
    loaded = {e.key: e.provenance for e in store.latest_evidence()}
    assert loaded == {e.key: e.provenance for e in saved}
    assert loaded[saved[0].key] is LOCAL


def test_a_newer_claimed_pass_does_not_replace_a_stored_failure(store: Store) -> None:
    failing = dataclasses.replace(samples.evidence(), provenance=VERIFIED)
    assert failing.result == "fail"
    later = T0 + dt.timedelta(hours=1)
    claim = dataclasses.replace(
        failing, result="pass", findings=(), collected_at=later, provenance=CLAIMED
    )
    for batch in ([failing], [claim]):
        store.save_scan(
            batch, started_at=T0, finished_at=later, manifest_path="p", manifest_sha256=samples.SHA
        )
    assert store.latest_evidence() == [failing, claim]
    fixed = dataclasses.replace(failing, result="pass", findings=(), collected_at=later)
    store.save_scan(
        [fixed], started_at=T0, finished_at=later, manifest_path="p", manifest_sha256=samples.SHA
    )
    assert store.latest_evidence() == [fixed]  # a trusted pass as new as the claim: alone
