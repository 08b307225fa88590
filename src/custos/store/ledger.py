"""The evidence ledger in the database: appends, proofs from stored nodes, and reading back.

An append is one transaction: it locks the single `ledger_state` row (so appenders, in any
process, take turns), rebuilds the tree's frontier from stored subtree hashes, refuses to go on
if that frontier's root is not the last signed root (a checkpoint is never signed for a tree
inconsistent with an earlier one), writes the entries and the subtree hashes they complete,
signs a checkpoint for the new size and moves `size`. Committed means durable: SQLite's default
synchronous=FULL journal and PostgreSQL's WAL both fsync on commit, and a process killed at any
moment leaves either the whole batch or none of it.

Functions take the caller's `Connection`, so evidence and its ledger entries can share one
transaction (see `Store.save_scan`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection

from custos.errors import CustosError, UserError
from custos.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_and_verify,
    sign_checkpoint,
    verifier_of,
)
from custos.ledger.entry import LedgerEntry
from custos.ledger.merkle import Frontier, MissingNodeError, leaf_hash, root_of
from custos.ledger.proofs import consistency_proof, inclusion_proof
from custos.store.models import LedgerCheckpointRow, LedgerEntryRow, LedgerNodeRow, LedgerStateRow

STATE = cast(Table, LedgerStateRow.__table__)
ENTRIES = cast(Table, LedgerEntryRow.__table__)
NODES = cast(Table, LedgerNodeRow.__table__)
CHECKPOINTS = cast(Table, LedgerCheckpointRow.__table__)
READ_CHUNK = 20_000
# Subtree hashes are stored from this level up (one row per 2**4 leaves and above); lower ones
# are recomputed from at most 8 leaf hashes when a proof needs them. Halves the rows an append
# writes, for a proof that reads a few more leaf hashes.
STORED_FROM_LEVEL = 4
# Set in `Connection.info` by an append; the Store pops it after the commit to tell its
# witness (custos.store.ledger_witness) that a checkpoint was signed.
APPENDED = "custos.ledger.appended"


class LedgerCorrupt(CustosError):
    """The stored tree does not match its own last checkpoint: nothing more is signed."""


@dataclass(frozen=True)
class LedgerInfo:
    origin: str
    verifier_key: str
    size: int
    checkpoint: str | None  # the latest signed note


@dataclass(frozen=True)
class Appended:
    first: int  # sequence number of the first entry of the batch
    size: int  # tree size after the batch
    checkpoint: str  # the note signed for that size


@dataclass(frozen=True)
class InclusionProof:
    index: int
    size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]
    checkpoint: str


class DatabaseNodes:
    """`NodeReader` over the tables: level 0 from entries, higher levels from ledger_nodes."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def node(self, level: int, index: int) -> bytes:
        if 0 < level < STORED_FROM_LEVEL:
            first, count = index << level, 1 << level
            leaves = self._conn.execute(
                select(ENTRIES.c.leaf_hash)
                .where(ENTRIES.c.seq >= first, ENTRIES.c.seq < first + count)
                .order_by(ENTRIES.c.seq)
            ).scalars()
            hashes = [bytes(h) for h in leaves]
            if len(hashes) != count:
                raise MissingNodeError(f"ledger leaves {first}..{first + count - 1} are not stored")
            return root_of(hashes)
        if level == 0:
            query = select(ENTRIES.c.leaf_hash).where(ENTRIES.c.seq == index)
        else:
            query = select(NODES.c.hash).where(NODES.c.level == level, NODES.c.idx == index)
        value = self._conn.execute(query).scalar()
        if value is None:
            raise MissingNodeError(f"ledger node (level {level}, index {index}) is not stored")
        return bytes(value)


# Frontier per (database, origin) after the last append this process made: the next batch
# starts from it when the stored size still matches, instead of popcount(size) lookups.
_FRONTIERS: dict[tuple[str, str], Frontier] = {}


def info(conn: Connection) -> LedgerInfo | None:
    """The ledger's identity, size and latest checkpoint; None before the first append."""
    row = conn.execute(select(STATE).where(STATE.c.id == 1)).mappings().first()
    if row is None:
        return None
    note = conn.execute(
        select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size.desc()).limit(1)
    ).scalar()
    return LedgerInfo(row["origin"], row["verifier_key"], int(row["size"]), note)


def append(
    conn: Connection,
    entries: Sequence[LedgerEntry],
    signer: str,
    *,
    now: dt.datetime | None = None,
) -> Appended:
    """Append `entries` and sign a checkpoint, inside the caller's transaction."""
    if not entries:
        raise UserError("nothing to append to the ledger")
    moment = now or dt.datetime.now(dt.UTC)
    origin, size, root = _lock(conn, signer, moment)
    key = (str(conn.engine.url), origin)
    frontier = _FRONTIERS.get(key)
    if frontier is None or frontier.size != size or frontier.root() != root:
        frontier = _stored_frontier(conn, size, verifier_of(signer), origin)
    datas = [entry.canonical_bytes() for entry in entries]
    hashes = [leaf_hash(data) for data in datas]
    grown, upper = frontier.append(hashes, from_level=STORED_FROM_LEVEL)
    rows = list(zip(range(size, size + len(datas)), hashes, datas, strict=True))
    _insert_many(conn, ENTRIES, ("seq", "leaf_hash", "data"), rows)
    if upper:
        _insert_many(conn, NODES, ("level", "idx", "hash"), upper)
    note = sign_checkpoint(Checkpoint(origin, grown.size, grown.root()), signer)
    conn.execute(
        insert(CHECKPOINTS),
        {"size": grown.size, "root": grown.root(), "note": note, "signed_at": moment},
    )
    conn.execute(update(STATE).where(STATE.c.id == 1).values(size=grown.size, root=grown.root()))
    _FRONTIERS[key] = grown  # a rolled-back transaction leaves a size mismatch: rebuilt next time
    conn.info[APPENDED] = True
    return Appended(size, grown.size, note)


def _insert_many(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[object, ...]]
) -> None:
    """Bulk insert straight to the driver: a batch of 1000 entries spends most of its time in
    SQLAlchemy's per-row parameter processing otherwise. PostgreSQL gets COPY (several times
    faster than executemany); SQLite executemany. Values are always bound, never formatted."""
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([marker] * len(columns))})"  # noqa: S608 - fixed names
    conn.exec_driver_sql(sql, list(rows))


def _lock(conn: Connection, signer: str, moment: dt.datetime) -> tuple[str, int, bytes]:
    """Take the ledger's write lock (the state row) and read it in one statement, creating the
    ledger on first use: (origin, size, root)."""
    verifier = verifier_of(signer)
    row = (
        conn.execute(
            update(STATE)
            .where(STATE.c.id == 1)
            .values(size=STATE.c.size)
            .returning(STATE.c.origin, STATE.c.verifier_key, STATE.c.size, STATE.c.root)
        )
        .mappings()
        .first()
    )
    if row is None:
        origin, empty = verifier.split("+", 1)[0], Frontier().root()
        conn.execute(
            insert(STATE).values(
                id=1, origin=origin, verifier_key=verifier, size=0, root=empty, created_at=moment
            )
        )
        return origin, 0, empty
    if row["verifier_key"] != verifier:
        raise UserError(
            f"the ledger signing key is not this ledger's key (the ledger {row['origin']!r} "
            f"is verified with {row['verifier_key']})"
        )
    return str(row["origin"]), int(row["size"]), bytes(row["root"])


def _stored_frontier(conn: Connection, size: int, verifier: str, origin: str) -> Frontier:
    if size == 0:
        return Frontier()
    try:
        frontier = Frontier.from_reader(DatabaseNodes(conn), size)
    except MissingNodeError as exc:
        raise LedgerCorrupt(
            f"ledger tree is incomplete: {exc}; run `custos ledger verify`"
        ) from exc
    if _signed_root(conn, size, verifier, origin) != frontier.root():
        raise LedgerCorrupt(
            f"stored ledger tree of size {size} does not match its signed checkpoint; nothing "
            "was appended. Run `custos ledger verify` to find the altered entry"
        )
    return frontier


def _signed_root(conn: Connection, size: int, verifier: str, origin: str) -> bytes | None:
    """The root our key signed for `size`: from the signed note, never the `root` column, which
    anyone who can write to the database could set to the root of a rewritten tree (and have
    the next append sign over it)."""
    if size == 0:
        return Frontier().root()
    note = conn.execute(select(CHECKPOINTS.c.note).where(CHECKPOINTS.c.size == size)).scalar()
    try:
        return None if note is None else parse_and_verify(str(note), verifier, origin=origin).root
    except CheckpointError:
        return None


def _latest_checkpoint(conn: Connection) -> tuple[int, str]:
    """Size and signed note of the newest checkpoint."""
    row = conn.execute(
        select(CHECKPOINTS.c.size, CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size.desc()).limit(1)
    ).first()
    if row is None:
        raise UserError("the ledger is empty")
    return int(row[0]), str(row[1])


def prove_inclusion(conn: Connection, index: int) -> InclusionProof:
    """Inclusion proof of entry `index` in the tree of the latest checkpoint."""
    size, note = _latest_checkpoint(conn)
    if not 0 <= index < size:
        raise UserError(f"entry {index} is not in the ledger (it holds entries 0..{size - 1})")
    reader = DatabaseNodes(conn)
    path = inclusion_proof(reader, index, size)
    return InclusionProof(index, size, reader.node(0, index), tuple(path), note)


@dataclass(frozen=True)
class Proofs:
    """Entries (index, canonical bytes, inclusion path) proven to one signed checkpoint."""

    checkpoint: str
    size: int
    entries: tuple[tuple[int, bytes, tuple[bytes, ...]], ...]


def prove_entries(conn: Connection, indexes: Sequence[int]) -> Proofs:
    """Inclusion proofs of entries to the latest checkpoint (what `custos scan --push` sends)."""
    size, note = _latest_checkpoint(conn)
    datas: dict[int, bytes] = {}
    if indexes:  # a scan's entries are contiguous: one range read
        query = select(ENTRIES.c.seq, ENTRIES.c.data).where(
            ENTRIES.c.seq >= min(indexes), ENTRIES.c.seq <= max(indexes)
        )
        datas = {int(seq): bytes(data) for seq, data in conn.execute(query)}
    reader = _Memo(DatabaseNodes(conn))  # neighbouring proofs share most of their nodes
    found = []
    for index in indexes:
        data = datas.get(index)
        if data is None or not 0 <= index < size:
            raise UserError(f"entry {index} is not in the ledger (it holds 0..{size - 1})")
        found.append((index, data, tuple(inclusion_proof(reader, index, size))))
    return Proofs(note, size, tuple(found))


class _Memo:
    def __init__(self, reader: DatabaseNodes) -> None:
        self._reader, self._seen = reader, dict[tuple[int, int], bytes]()

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        if key not in self._seen:
            self._seen[key] = self._reader.node(level, index)
        return self._seen[key]


def prove_consistency(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    return consistency_proof(DatabaseNodes(conn), old_size, new_size)


def entry_data(conn: Connection, index: int) -> bytes | None:
    value = conn.execute(select(ENTRIES.c.data).where(ENTRIES.c.seq == index)).scalar()
    return None if value is None else bytes(value)


def checkpoints(conn: Connection) -> list[str]:
    return [
        str(n)
        for n in conn.execute(select(CHECKPOINTS.c.note).order_by(CHECKPOINTS.c.size)).scalars()
    ]


def last_seq(conn: Connection) -> int:
    """The newest entry's seq, -1 for an empty ledger."""
    found = conn.execute(select(func.max(ENTRIES.c.seq))).scalar()
    return int(found) if found is not None else -1


def stream_entries(conn: Connection, after: int = -1) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, stored leaf hash, data) of the entries past `after`, in order, read in chunks by
    key (no long-held cursor)."""
    while True:
        rows = conn.execute(
            select(ENTRIES.c.seq, ENTRIES.c.leaf_hash, ENTRIES.c.data)
            .where(ENTRIES.c.seq > after)
            .order_by(ENTRIES.c.seq)
            .limit(READ_CHUNK)
        ).all()
        if not rows:
            return
        for seq, digest, data in rows:
            yield int(seq), bytes(digest), bytes(data)
        after = int(rows[-1][0])


def proof_document(proof: InclusionProof, data: bytes) -> dict[str, Any]:
    """An inclusion proof as the JSON `custos ledger prove` prints and the API serves: the
    entry, its leaf hash, the audit path and the signed checkpoint it leads to."""
    return {
        "index": proof.index,
        "tree_size": proof.size,
        "leaf_hash": proof.leaf_hash.hex(),
        "entry": json.loads(data),
        "entry_hashes_to_leaf": leaf_hash(data) == proof.leaf_hash,
        "inclusion_proof": [h.hex() for h in proof.path],
        "checkpoint": proof.checkpoint,
    }
