"""The ledger in the store, on SQLite and PostgreSQL: appends, proofs, and every tampering the
issue names (changed byte, deleted / inserted / reordered entry, truncation, foreign key,
rollback, fork) caught by the audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import delete, select, update

from custos.errors import UserError
from custos.ledger import (
    Checkpoint,
    LedgerEntry,
    generate_log_key,
    parse_and_verify,
    sign_checkpoint,
    verifier_of,
    verify_inclusion,
)
from custos.ledger.merkle import Frontier, leaf_hash
from custos.store import Store, ledger
from custos.store.ledger import CHECKPOINTS, ENTRIES, NODES, STATE, LedgerCorrupt

SIGNER, VERIFIER = generate_log_key("custos-ledger/test")
STAMP = "2026-11-28T04:00:00.000000Z"


def entries(start: int, count: int) -> list[LedgerEntry]:
    return [
        LedgerEntry("event", {"n": i, "model": "fraud-scoring"}, STAMP, "ci")
        for i in range(start, start + count)
    ]


def filled(store: Store, batches: tuple[int, ...] = (5, 7, 20)) -> int:
    size = 0
    for count in batches:
        store.ledger_append(entries(size, count), SIGNER)
        size += count
    return size


def sql(store: Store, statement: object) -> None:
    with store._ledger() as conn:  # tests tamper below the API, as an attacker would
        conn.execute(statement)  # type: ignore[call-overload]


def test_appends_verify_and_prove(store: Store) -> None:
    size = filled(store)
    state = store.ledger_info()
    assert state is not None
    assert state.size == size == 32
    result = store.ledger_audit(VERIFIER)
    assert result.ok, result.problems
    assert (result.entries, result.checkpoints) == (32, 3)
    for index in (0, 1, 15, 16, 31):
        proof = store.ledger_prove(index)
        checkpoint = parse_and_verify(proof.checkpoint, VERIFIER)
        verify_inclusion(proof.leaf_hash, index, proof.size, list(proof.path), checkpoint.root)
        data = store.ledger_entry(index)
        assert data is not None
        assert leaf_hash(data) == proof.leaf_hash


def test_changed_byte_names_the_entry(store: Store) -> None:
    filled(store)
    with store._ledger() as conn:
        data = conn.execute(select(ENTRIES.c.data).where(ENTRIES.c.seq == 9)).scalar_one()
        changed = bytes(data).replace(b'"n":9', b'"n":8')
        conn.execute(update(ENTRIES).where(ENTRIES.c.seq == 9).values(data=changed))
    result = store.ledger_audit(VERIFIER)
    assert not result.ok
    assert result.first_bad == 9


def test_changed_entry_with_recomputed_hash_fails_its_checkpoint(store: Store) -> None:
    filled(store)
    forged = LedgerEntry("event", {"n": 999}, STAMP, "ci").canonical_bytes()
    sql(
        store,
        update(ENTRIES).where(ENTRIES.c.seq == 9).values(data=forged, leaf_hash=leaf_hash(forged)),
    )
    result = store.ledger_audit(VERIFIER)
    assert not result.ok
    assert result.first_bad is not None
    assert result.first_bad <= 9


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda: delete(ENTRIES).where(ENTRIES.c.seq == 4), id="deleted"),
        pytest.param(
            lambda: ENTRIES.insert().values(seq=32, leaf_hash=leaf_hash(b"{}"), data=b"{}"),
            id="inserted",
        ),
        pytest.param(lambda: delete(ENTRIES).where(ENTRIES.c.seq >= 30), id="truncated"),
    ],
)
def test_deleted_inserted_truncated(store: Store, tamper: Callable[[], object]) -> None:
    filled(store)
    sql(store, tamper())
    result = store.ledger_audit(VERIFIER)
    assert not result.ok, "tampering went unnoticed"
    assert result.first_bad is not None


def test_reordered_entries(store: Store) -> None:
    filled(store)
    with store._ledger() as conn:
        rows = {
            seq: (data, digest)
            for seq, data, digest in conn.execute(
                select(ENTRIES.c.seq, ENTRIES.c.data, ENTRIES.c.leaf_hash).where(
                    ENTRIES.c.seq.in_([2, 3])
                )
            )
        }
        for seq, other in ((2, 3), (3, 2)):
            data, digest = rows[other]
            conn.execute(
                update(ENTRIES).where(ENTRIES.c.seq == seq).values(data=data, leaf_hash=digest)
            )
    result = store.ledger_audit(VERIFIER)
    assert not result.ok
    assert result.first_bad is not None
    assert result.first_bad <= 2


def test_checkpoint_signed_by_another_key(store: Store) -> None:
    filled(store)
    other_signer, _ = generate_log_key("custos-ledger/test")
    state = store.ledger_info()
    assert state is not None
    latest = parse_and_verify(str(state.checkpoint), VERIFIER)
    forged = sign_checkpoint(latest, other_signer)
    sql(store, update(CHECKPOINTS).where(CHECKPOINTS.c.size == latest.size).values(note=forged))
    result = store.ledger_audit(VERIFIER)
    assert not result.ok
    assert any("checkpoint" in p for p in result.problems)


def _rewrite_history(store: Store, keep: int, new: list[LedgerEntry]) -> None:
    """What an attacker holding the signing key can do: cut the log and re-sign it."""
    with store._ledger() as conn:
        conn.execute(delete(ENTRIES).where(ENTRIES.c.seq >= keep))
        conn.execute(delete(NODES))
        conn.execute(delete(CHECKPOINTS).where(CHECKPOINTS.c.size > keep))
        hashes = [
            bytes(h)
            for h in conn.execute(select(ENTRIES.c.leaf_hash).order_by(ENTRIES.c.seq)).scalars()
        ]
        frontier, nodes = Frontier().append(hashes)
        for i, entry in enumerate(new):
            data = entry.canonical_bytes()
            conn.execute(
                ENTRIES.insert().values(
                    seq=keep + i, leaf_hash=leaf_hash(data), data=data,
                )
            )  # fmt: skip
            frontier, more = frontier.append([leaf_hash(data)])
            nodes += more
        for level, index, digest in nodes:
            if level >= 4:
                conn.execute(NODES.insert().values(level=level, idx=index, hash=digest))
        size = keep + len(new)
        if size > keep:
            note = sign_checkpoint(Checkpoint("custos-ledger/test", size, frontier.root()), SIGNER)
            conn.execute(
                CHECKPOINTS.insert().values(
                    size=size, root=frontier.root(), note=note, signed_at=_now()
                )
            )
        conn.execute(update(STATE).values(size=size, root=frontier.root()))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_rollback_is_refused_against_the_trusted_checkpoint(store: Store) -> None:
    filled(store)
    trusted = store.ledger_audit(VERIFIER).latest
    assert trusted is not None
    assert trusted.size == 32
    _rewrite_history(store, 12, [])  # back to the checkpoint at size 12: self-consistent
    assert store.ledger_audit(VERIFIER).ok  # nobody could tell without a memory...
    result = store.ledger_audit(VERIFIER, trusted)
    assert not result.ok
    assert any(p.startswith("rollback") for p in result.problems), result.problems


def test_fork_is_refused_against_the_trusted_checkpoint(store: Store) -> None:
    filled(store)
    trusted = store.ledger_audit(VERIFIER).latest
    assert trusted is not None
    _rewrite_history(store, 12, entries(100, 25))  # re-signed, longer, different history
    assert store.ledger_audit(VERIFIER).ok
    result = store.ledger_audit(VERIFIER, trusted)
    assert not result.ok
    assert any(p.startswith("inconsistent") for p in result.problems), result.problems


def test_append_refuses_to_sign_over_a_tampered_tree(store: Store) -> None:
    filled(store, (40,))
    sql(store, update(NODES).where(NODES.c.level == 5).values(hash=b"\0" * 32))
    ledger._FRONTIERS.clear()  # start from the stored tree, as a fresh process would
    with pytest.raises(LedgerCorrupt):
        store.ledger_append(entries(40, 1), SIGNER)
    state = store.ledger_info()
    assert state is not None
    assert state.size == 40


def test_append_refuses_another_key(store: Store) -> None:
    filled(store, (3,))
    other, _ = generate_log_key("custos-ledger/other")
    with pytest.raises(UserError, match="not this ledger's key"):
        store.ledger_append(entries(3, 1), other)
    assert verifier_of(SIGNER) == VERIFIER


def test_group_commit_from_many_threads(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from custos.store.ledger_writer import LedgerWriter

    with LedgerWriter(store, SIGNER, max_batch=64) as writer:

        def work(n: int) -> int:
            return writer.append(LedgerEntry("event", {"n": n}, STAMP, "thread"))

        with ThreadPoolExecutor(8) as pool:
            seqs = list(pool.map(work, range(500)))
    assert sorted(seqs) == list(range(500))  # every acknowledged entry has its own place
    result = store.ledger_audit(VERIFIER)
    assert result.ok
    assert result.entries == 500
    assert result.checkpoints < 500  # entries were grouped into fewer transactions
    for seq in (0, 250, 499):
        data = store.ledger_entry(seq)
        assert data is not None
        assert f'"n":{seqs.index(seq)}'.encode() in data


def test_group_commit_failure_reaches_every_waiter(store: Store) -> None:
    from custos.store.ledger_writer import LedgerWriter

    other, _ = generate_log_key("custos-ledger/other")
    filled(store, (2,))
    with LedgerWriter(store, other) as writer:
        future = writer.submit(LedgerEntry("event", {"n": 1}, STAMP, "x"))
        with pytest.raises(UserError, match="not this ledger's key"):
            future.result(30)
    state = store.ledger_info()
    assert state is not None
    assert state.size == 2
