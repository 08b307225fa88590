"""A witness of the ledger outside the database: every checkpoint the server's key signed, with
the leaf hashes of the entries it added, appended to a file a database administrator cannot
rewrite (settings `ledger_witness`, `custos serve --ledger-witness DIR`).

After each commit that signed a checkpoint the Store calls `Witness.catch_up`: it reads the
checkpoints past the witnessed size, checks each one's signature with the server's own key (not
the database's copy of it) and that the entries' bytes extend the witnessed tree to its root,
and only then appends it. So the file only ever holds history the key signed and the bytes
reproduced, and `kept` gives it back to the audit (custos.ledger.witness.compare), which then
names the first entry a rewrite, truncation or reordering changed.

One file per ledger origin: `<dir>/<origin>.witness.jsonl`, one JSON object per line:
`{"checkpoint": signed note, "first": index, "leaf_hashes": base64 of the 32-byte hashes of
entries first..size-1}`. Processes sharing the directory take turns under an flock.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import select

from custos.errors import CustosError, UserError
from custos.ledger.checkpoint import Checkpoint, CheckpointError, parse_and_verify
from custos.ledger.merkle import HASH_SIZE, Frontier, leaf_hash
from custos.ledger.witness import Kept
from custos.store import ledger
from custos.store.store import Store

log = logging.getLogger(__name__)


class WitnessCorrupt(CustosError):
    """The witness file itself does not verify: someone wrote to it."""


class Witness:
    def __init__(self, directory: Path, verifier: str) -> None:
        self.verifier = verifier
        self.origin = verifier.split("+", 1)[0]
        self.path = directory / (re.sub(r"[^A-Za-z0-9._-]+", "_", self.origin) + ".witness.jsonl")
        self._lock = threading.Lock()
        self._frontier = Frontier()
        self._offset = 0  # bytes of the file already folded into _frontier

    def kept(self) -> list[Kept]:
        """Every witnessed checkpoint, sharing one list of leaf hashes (read from the file)."""
        hashes: list[bytes] = []
        found: list[Kept] = []
        if not self.path.exists():
            return found
        with self.path.open("rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)  # no half-written last line
            frontier = Frontier()
            for number, line in enumerate(handle, 1):
                checkpoint, added = self._record(line, number, frontier.size)
                frontier = self._extended(frontier, added, checkpoint, number)
                hashes += added
                found.append(Kept(checkpoint, f"{self.path}:{number}", hashes))
        return found

    def catch_up(self, store: Store) -> None:
        """Witness what the database signed since the last call; never raises for the caller,
        whose transaction is committed already (a witness that cannot write is logged)."""
        try:
            with self._lock, self._locked() as handle:
                self._read_new(handle)
                for line in self._new_records(store):
                    handle.write(line)
                    handle.flush()
                    self._offset += len(line)
                os.fsync(handle.fileno())
        except (OSError, CustosError) as exc:
            log.error("ledger witness %s not updated: %s", self.path, exc)

    @contextmanager
    def _locked(self) -> Iterator[IO[bytes]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield handle

    def _read_new(self, handle: IO[bytes]) -> None:
        """Fold in what other processes appended since this one last looked."""
        handle.seek(self._offset)
        for line in handle.readlines():
            checkpoint, added = self._record(line, -1, self._frontier.size)
            self._frontier = self._extended(self._frontier, added, checkpoint, -1)
            self._offset += len(line)

    def _new_records(self, store: Store) -> Iterator[bytes]:
        size = self._frontier.size
        with store._ledger() as conn:  # the Store's own unit of work, as auth_store uses
            notes = conn.execute(
                select(ledger.CHECKPOINTS.c.note)
                .where(ledger.CHECKPOINTS.c.size > size)
                .order_by(ledger.CHECKPOINTS.c.size)
            ).scalars()
            opened = [self._open(str(n)) for n in notes]
            signed = [c for c in opened if c is not None]
            if len(signed) < len(opened):
                log.error(
                    "ledger witness: %d checkpoints in the database are not signed by our key",
                    len(opened) - len(signed),
                )
            if not signed:
                return
            hashes: list[bytes] = []
            for seq, _stored, data in ledger.stream_entries(conn, after=size - 1):
                if seq != size + len(hashes) or seq >= signed[-1][0].size:
                    break
                hashes.append(leaf_hash(data))  # from the bytes, not the stored hash
        for checkpoint, note in signed:
            count = checkpoint.size - self._frontier.size
            added = hashes[:count]
            grown = self._frontier.extend(added)
            if len(added) < count or grown.root() != checkpoint.root:
                raise WitnessCorrupt(
                    f"checkpoint {checkpoint.size} in the database does not extend the witnessed "
                    f"history of size {self._frontier.size} from the entries' bytes"
                )
            record = {
                "checkpoint": note,
                "first": self._frontier.size,
                "leaf_hashes": base64.b64encode(b"".join(added)).decode(),
            }
            yield (json.dumps(record) + "\n").encode()
            self._frontier, hashes = grown, hashes[count:]

    def _open(self, note: str) -> tuple[Checkpoint, str] | None:
        try:
            return parse_and_verify(note, self.verifier, origin=self.origin), note
        except CheckpointError:
            return None

    def _record(self, line: bytes, number: int, size: int) -> tuple[Checkpoint, list[bytes]]:
        where = f"{self.path}" + (f":{number}" if number > 0 else "")
        try:
            body = json.loads(line)
            note, first = str(body["checkpoint"]), int(body["first"])
            raw = base64.b64decode(str(body["leaf_hashes"]), validate=True)
            checkpoint = parse_and_verify(note, self.verifier, origin=self.origin)
        except (ValueError, KeyError, TypeError, binascii.Error, CheckpointError) as exc:
            raise WitnessCorrupt(f"{where}: not a witness record: {exc}") from None
        if first != size or len(raw) != HASH_SIZE * (checkpoint.size - size):
            raise WitnessCorrupt(f"{where}: does not continue the records before it")
        return checkpoint, [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]

    def _extended(
        self, frontier: Frontier, added: list[bytes], checkpoint: Checkpoint, number: int
    ) -> Frontier:
        grown = frontier.extend(added)
        if grown.root() != checkpoint.root:
            where = f"{self.path}" + (f":{number}" if number > 0 else "")
            raise WitnessCorrupt(f"{where}: its leaf hashes do not reproduce its signed root")
        return grown


def snapshot(store: Store, verifier: str) -> tuple[str, list[bytes]]:
    """The latest checkpoint signed by `verifier` and its tree's leaf hashes recomputed from the
    entries' bytes (what `custos ledger checkpoint --out` keeps); UserError when the bytes do
    not reproduce its root."""
    with store._ledger() as conn:
        info = ledger.info(conn)
        if info is None or info.checkpoint is None:
            raise UserError("the ledger is empty: no checkpoint to keep")
        try:
            checkpoint = parse_and_verify(info.checkpoint, verifier)
        except CheckpointError as exc:
            raise UserError(
                f"the latest checkpoint is not signed by the key given: {exc}"
            ) from None
        hashes: list[bytes] = []
        for seq, _stored, data in ledger.stream_entries(conn):
            if seq >= checkpoint.size or seq != len(hashes):
                break
            hashes.append(leaf_hash(data))
    if len(hashes) != checkpoint.size or Frontier().extend(hashes).root() != checkpoint.root:
        raise UserError(
            f"the stored entries do not reproduce checkpoint {checkpoint.size}'s root: run "
            "`custos ledger verify`"
        )
    return info.checkpoint, hashes
