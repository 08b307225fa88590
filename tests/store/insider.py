"""A database administrator rewriting the ledger's history with raw SQL: everything but the
signing key. They recompute every leaf hash, subtree node, the state row's size and root with
Custos' own hash functions, so the database agrees with itself afterwards. Checkpoints they
cannot sign are deleted (`own_key=None`), or every checkpoint is re-signed with a key of their
own that replaces the verifier key in `ledger_state` (then the database verifies against the
key it offers)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.engine import Connection

from custos.ledger import Checkpoint, LedgerEntry, parse_and_verify, sign_checkpoint
from custos.ledger.checkpoint import CheckpointError
from custos.ledger.merkle import Frontier, leaf_hash, root_of
from custos.store import Store

STAMP = "2026-11-28T04:00:00.000000Z"


def forged_entry(n: int) -> bytes:
    return LedgerEntry("event", {"n": n, "model": "forged"}, STAMP, "dba").canonical_bytes()


def entry_bytes(conn: Connection) -> list[bytes]:
    rows = conn.execute(text("SELECT seq, data FROM ledger_entries ORDER BY seq"))
    return [bytes(data) for _seq, data in rows]


def rewrite(store: Store, index: int, real_verifier: str, own_key: str | None = None) -> None:
    """(a) Replace entry `index` with a forged one."""
    with store._ledger() as conn:
        datas = entry_bytes(conn)
        datas[index] = forged_entry(index)
        rebuild(conn, datas, real_verifier, own_key)


def truncate(store: Store, size: int, real_verifier: str, own_key: str | None = None) -> None:
    """(b) Delete every entry from `size` on."""
    with store._ledger() as conn:
        rebuild(conn, entry_bytes(conn)[:size], real_verifier, own_key)


def reorder(
    store: Store, first: int, second: int, real_verifier: str, own_key: str | None = None
) -> None:
    """(c) Swap two entries."""
    with store._ledger() as conn:
        datas = entry_bytes(conn)
        datas[first], datas[second] = datas[second], datas[first]
        rebuild(conn, datas, real_verifier, own_key)


def rebuild(conn: Connection, datas: list[bytes], real_verifier: str, own_key: str | None) -> None:
    hashes = [leaf_hash(d) for d in datas]
    conn.execute(text("DELETE FROM ledger_entries"))
    conn.execute(text("DELETE FROM ledger_nodes"))
    for seq, (digest, data) in enumerate(zip(hashes, datas, strict=True)):
        conn.execute(
            text("INSERT INTO ledger_entries (seq, leaf_hash, data) VALUES (:s, :h, :d)"),
            {"s": seq, "h": digest, "d": data},
        )
    frontier, nodes = Frontier().append(hashes, from_level=4)
    for level, index, digest in nodes:
        conn.execute(
            text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :i, :h)"),
            {"l": level, "i": index, "h": digest},
        )
    origin = conn.execute(text("SELECT origin FROM ledger_state")).scalar_one()
    for size, note in conn.execute(text("SELECT size, note FROM ledger_checkpoints")).all():
        root = root_of(hashes[:size]) if size <= len(hashes) else None
        if own_key is not None and root is not None:
            forged = sign_checkpoint(Checkpoint(origin, size, root), own_key)
            conn.execute(
                text("UPDATE ledger_checkpoints SET root = :r, note = :n WHERE size = :s"),
                {"r": root, "n": forged, "s": size},
            )
        elif root is None or not _signed_for(str(note), real_verifier, root):
            conn.execute(text("DELETE FROM ledger_checkpoints WHERE size = :s"), {"s": size})
    if own_key is not None:
        from custos.ledger import verifier_of

        conn.execute(text("UPDATE ledger_state SET verifier_key = :k"), {"k": verifier_of(own_key)})
        if (
            conn.execute(
                text("SELECT count(*) FROM ledger_checkpoints WHERE size = :s"), {"s": len(hashes)}
            ).scalar_one()
            == 0
        ):
            note = sign_checkpoint(Checkpoint(origin, len(hashes), frontier.root()), own_key)
            conn.execute(
                text(
                    "INSERT INTO ledger_checkpoints (size, root, note, signed_at) "
                    "VALUES (:s, :r, :n, :t)"
                ),
                {"s": len(hashes), "r": frontier.root(), "n": note, "t": dt.datetime.now(dt.UTC)},
            )
    conn.execute(
        text("UPDATE ledger_state SET size = :s, root = :r"),
        {"s": len(hashes), "r": frontier.root()},
    )


def _signed_for(note: str, verifier: str, root: bytes) -> bool:
    try:
        return parse_and_verify(note, verifier).root == root
    except CheckpointError:
        return False
