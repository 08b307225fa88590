"""Red team, "history rewritten by a database administrator", on SQLite and PostgreSQL: an
insider with write access to the database (not to the signing key) rewrites an entry, deletes
the tail, or reorders entries, recomputing every stored hash so the database agrees with
itself. Checks that only look at the database may pass; verification against a checkpoint
kept outside it fails and names the first bad entry. The signing key is never in the database.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select, text

from custos.ledger import LedgerEntry, generate_log_key, sign_checkpoint
from custos.ledger.merkle import leaf_hash
from custos.ledger.witness import Kept, decode_file, encode_file
from custos.store import Store, ledger
from custos.store.ledger import LedgerCorrupt
from custos.store.ledger_witness import snapshot
from tests.store import insider
from tests.store.insider import STAMP

SIGNER, VERIFIER = generate_log_key("custos-ledger/insider")
DBA_KEY, _ = generate_log_key("custos-ledger/insider")  # same name: only the key differs


def filled(store: Store, batches: tuple[int, ...] = (5, 7, 20)) -> None:
    size = 0
    for count in batches:
        store.ledger_append(
            [LedgerEntry("event", {"n": i}, STAMP, "ci") for i in range(size, size + count)],
            SIGNER,
        )
        size += count


def kept_now(store: Store, source: str = "run-41.checkpoint") -> Kept:
    """What `custos ledger checkpoint --out` keeps, read back as `verify --checkpoint` does."""
    note, hashes = snapshot(store, VERIFIER)
    return decode_file(encode_file(VERIFIER, note, hashes), VERIFIER, source)


def self_check(store: Store) -> bool:
    """What a check that trusts the database does: its own key, its own checkpoints."""
    info = store.ledger_info()
    assert info is not None
    return store.ledger_audit(info.verifier_key, origin=info.origin).ok


Rewrite = Callable[[Store, str | None], None]
REWRITES: list[tuple[str, Rewrite, int]] = [
    ("rewritten", lambda s, key: insider.rewrite(s, 9, VERIFIER, key), 9),
    ("truncated", lambda s, key: insider.truncate(s, 12, VERIFIER, key), 12),
    ("reordered", lambda s, key: insider.reorder(s, 14, 22, VERIFIER, key), 14),
]
CASES = [pytest.param(rewrite, bad, id=name) for name, rewrite, bad in REWRITES]


def test_an_honest_ledger_matches_its_kept_checkpoints(store: Store) -> None:
    filled(store, (5, 7))
    early = kept_now(store, "early")
    filled(store, (3,))
    result = store.ledger_audit(VERIFIER, kept=[early, kept_now(store, "late")])
    assert result.ok, result.problems
    assert result.first_bad is None


@pytest.mark.parametrize(("rewrite", "first_bad"), CASES)
def test_a_self_consistent_rewrite_fails_against_the_kept_checkpoint(
    store: Store, rewrite: Rewrite, first_bad: int
) -> None:
    filled(store)
    kept = kept_now(store)
    rewrite(store, DBA_KEY)  # every checkpoint re-signed by the DBA's key, which the DB offers
    assert self_check(store), "the database agrees with itself"
    result = store.ledger_audit(VERIFIER, kept=[kept])
    assert not result.ok
    assert result.first_bad == first_bad, result.problems
    assert any(p.startswith(f"entry {first_bad}:") for p in result.problems), result.problems
    assert any("run-41.checkpoint" in p for p in result.problems)


@pytest.mark.parametrize(("rewrite", "first_bad"), CASES)
def test_a_rewrite_keeping_the_real_signatures_fails_against_the_kept_checkpoint(
    store: Store, rewrite: Rewrite, first_bad: int
) -> None:
    filled(store)
    kept = kept_now(store)
    rewrite(store, None)  # checkpoints that no longer match are deleted, the rest kept
    result = store.ledger_audit(VERIFIER, kept=[kept])
    assert not result.ok
    assert result.first_bad == first_bad, result.problems


def test_a_truncation_to_a_signed_size_passes_every_check_but_the_kept_one(store: Store) -> None:
    filled(store)
    kept = kept_now(store)
    insider.truncate(store, 12, VERIFIER)
    assert store.ledger_audit(VERIFIER).ok  # real key, real signatures: all self-consistent
    result = store.ledger_audit(VERIFIER, kept=[kept])
    assert not result.ok
    assert result.first_bad == 12
    assert "entries 12..31 were deleted" in " ".join(result.problems)


def test_the_message_says_what_differs(store: Store) -> None:
    filled(store)
    kept = kept_now(store)
    insider.rewrite(store, 9, VERIFIER, DBA_KEY)
    result = store.ledger_audit(VERIFIER, kept=[kept])
    forged = leaf_hash(insider.forged_entry(9)).hex()[:16]
    expected = (
        f"entry 9: leaf hash recomputed from its bytes {forged}… does not match checkpoint "
        "32's tree"
    )
    assert any(p.startswith(expected) for p in result.problems), result.problems


def test_a_bare_signed_note_bounds_the_first_bad_entry(store: Store) -> None:
    filled(store, (5, 7, 1, 19))
    info = store.ledger_info()
    assert info is not None
    assert info.checkpoint is not None
    bare = decode_file(info.checkpoint.encode(), VERIFIER, "note.txt")
    assert bare.leaf_hashes is None
    insider.rewrite(store, 20, VERIFIER)  # keeps the real checkpoints at 5, 12 and 13
    result = store.ledger_audit(VERIFIER, kept=[bare])
    assert not result.ok
    assert result.first_bad == 13  # the last size still proven; entry 20 is somewhere past it
    assert any("entries 13..31" in p and "note.txt" in p for p in result.problems)


def test_the_next_append_refuses_a_tree_whose_root_column_was_forged(store: Store) -> None:
    """The DBA also writes the rewritten tree's root into the checkpoint row's `root` column,
    hoping the next append signs over it: the append trusts only the signed note."""
    filled(store)
    insider.rewrite(store, 9, VERIFIER)
    with store._ledger() as conn:
        conn.execute(text("UPDATE ledger_checkpoints SET root = :r"), {"r": b"\0" * 32})
        root = conn.execute(text("SELECT root FROM ledger_state")).scalar_one()
        conn.execute(
            text("INSERT INTO ledger_checkpoints (size, root, note, signed_at) "
                 "VALUES (32, :r, :n, CURRENT_TIMESTAMP)"),
            {"r": root, "n": "not a signed note"},
        )  # fmt: skip
    ledger._FRONTIERS.clear()  # a fresh process: the tree comes from the database
    with pytest.raises(LedgerCorrupt):
        store.ledger_append([LedgerEntry("event", {"n": 32}, STAMP, "ci")], SIGNER)


def test_the_signing_key_is_never_in_the_database(
    store: Store, empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custos.store.ledger_writer import LedgerWriter
    from custos.workspace import record_entries

    filled(store)
    with LedgerWriter(store, SIGNER) as writer:
        writer.append(LedgerEntry("event", {"n": "writer"}, STAMP, "ci"))
    monkeypatch.setenv("CUSTOS_LEDGER_KEY", SIGNER)  # as `custos ledger append` in CI reads it
    record_entries(tmp_path, empty_url, [("event", {"n": "cli"})], "ci")
    private = SIGNER.split("+", 4)[4]  # PRIVATE+KEY+<name>+<key id>+<base64 of 0x01 || seed>
    seed = base64.b64decode(private)[1:]
    assert len(seed) == 32
    needles = [SIGNER, private, seed.hex(), base64.b64encode(seed).decode()]
    found = _every_value(store)
    assert VERIFIER in found  # the dump did read the ledger's tables
    assert any(isinstance(v, bytes) and b'"cli"' in v for v in found)
    for value in found:
        raw = value if isinstance(value, bytes) else str(value).encode()
        assert seed not in raw
        for needle in needles:
            assert needle.encode() not in raw


def _every_value(store: Store) -> list[object]:
    values: list[object] = []
    with store._ledger() as conn:
        tables = MetaData()
        tables.reflect(conn)
        for table in tables.sorted_tables:
            for row in conn.execute(select(table)):
                values += [v for v in row if isinstance(v, str | bytes | memoryview)]
    return [bytes(v) if isinstance(v, memoryview) else v for v in values]


def test_a_forged_signature_does_not_count_as_a_real_checkpoint(store: Store) -> None:
    filled(store)
    kept = kept_now(store)
    note = sign_checkpoint(kept.checkpoint, DBA_KEY)
    with pytest.raises(Exception, match="not a checkpoint signed by the trusted key"):
        decode_file(note.encode(), VERIFIER, "forged.txt")
