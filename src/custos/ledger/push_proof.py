"""Checking pushed evidence against the pusher's own ledger. Pure: bytes and keys in, a
`Provenance` per evidence record out.

A push is "verified" for one evidence record when all of these hold:
1. a ledger verifier key registered on the server for the evidence's system, unretired at
   the time of the push, signed the pushed checkpoint (C2SP signed note), whose origin is that
   key's name (a Custos ledger's origin is its key's name);
2. the RFC 6962 inclusion proof puts the pushed entry bytes at their index under the
   checkpoint's root;
3. the entry is an evidence entry whose payload is exactly the pushed record (canonical JSON;
   the local scan number aside).
Otherwise the record is "claimed", with the first reason that failed. What a verified push does
and does not prove is in docs/server.md, "What a push proves".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from custos.errors import UserError
from custos.ledger.canonical import canonical_json
from custos.ledger.checkpoint import Checkpoint, CheckpointError, parse_and_verify
from custos.ledger.entry import LedgerEntry
from custos.ledger.merkle import leaf_hash
from custos.ledger.proofs import ProofError, verify_inclusion
from custos.provenance import ClaimReason, Provenance

LOCAL_ONLY_KEYS = frozenset({"scan"})  # in the local entry, not in the pushed record


@dataclass(frozen=True)
class RegisteredKey:
    """A ledger verifier key registered on the server for one AI system."""

    id: int
    system: str
    verifier_key: str  # "<name>+<key id hex>+<base64 key>"
    added_at: dt.datetime
    retired_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        return self.verifier_key.split("+", 1)[0]

    @property
    def label(self) -> str:
        """The note name and key id, "<name>+<hex id>" (public, short)."""
        return "+".join(self.verifier_key.split("+", 2)[:2])

    def active_at(self, when: dt.datetime) -> bool:
        """Registered by then and not yet retired: a retired key verifies nothing later."""
        return self.added_at <= when and (self.retired_at is None or when < self.retired_at)


@dataclass(frozen=True)
class EntryProof:
    """What a push carries for one evidence record: its ledger entry as stored (canonical
    bytes), the entry's leaf index and the inclusion proof to the pushed checkpoint."""

    entry: bytes
    index: int
    path: tuple[bytes, ...]


@dataclass(frozen=True)
class Signed:
    """A checkpoint verified with a registered key of the evidence's system."""

    checkpoint: Checkpoint
    key: RegisteredKey


def _claimed(reason: ClaimReason, message: str, pushed_by: str | None) -> Provenance:
    return Provenance("claimed", reason=reason, message=message, pushed_by=pushed_by)


def check_checkpoint(
    note: str | None, system: str, keys: Sequence[RegisteredKey], when: dt.datetime
) -> Signed | tuple[ClaimReason, str]:
    """The checkpoint and the registered key of `system` that signed it, else why not."""
    mine = [k for k in keys if k.system == system and k.added_at <= when]
    if not mine:
        return "no-key", f"no ledger key is registered for system {system}"
    if note is None:
        return "no-proof", "the push carried no signed checkpoint of the pusher's ledger"
    problems: list[str] = []
    for key in sorted(mine, key=lambda k: k.active_at(when), reverse=True):
        try:
            checkpoint = parse_and_verify(note, key.verifier_key, origin=key.name)
        except CheckpointError as exc:
            problems.append(str(exc))
            continue
        if not key.active_at(when):
            return "retired-key", (
                f"the checkpoint is signed by key {key.id} ({key.label}), retired on "
                f"{key.retired_at:%Y-%m-%d %H:%M} UTC"
            )
        return Signed(checkpoint, key)
    # A signature line naming a registered key that does not verify says more than "not signed".
    named = [p for p in problems if "does not match" in p or "origin" in p]
    detail = named[0] if named else "no registered key of the system signed it"
    return "bad-signature", f"checkpoint refused: {detail}"


def verify_record(
    expected: Mapping[str, Any],
    proof: EntryProof | None,
    signed: Signed | tuple[ClaimReason, str],
    pushed_by: str | None,
) -> Provenance:
    """The provenance of one pushed record (`expected`: the record as `evidence_to_dict` gives
    it), given its proof and the outcome of `check_checkpoint` for its system."""
    if isinstance(signed, tuple):
        return _claimed(signed[0], signed[1], pushed_by)
    if proof is None:
        return _claimed("no-proof", "the push carried no ledger entry for this record", pushed_by)
    checkpoint, key = signed.checkpoint, signed.key
    try:
        verify_inclusion(
            leaf_hash(proof.entry), proof.index, checkpoint.size, proof.path, checkpoint.root
        )
    except ProofError as exc:
        return _claimed("bad-proof", exc.reason, pushed_by)
    try:
        entry = LedgerEntry.from_canonical(proof.entry)
    except UserError as exc:
        return _claimed("payload-mismatch", f"not a Custos ledger entry: {exc}", pushed_by)
    recorded = {k: v for k, v in entry.payload.items() if k not in LOCAL_ONLY_KEYS}
    if entry.kind != "evidence" or not _same(recorded, expected):
        return _claimed(
            "payload-mismatch",
            f"ledger entry {proof.index} does not record this result as pushed",
            pushed_by,
        )
    return Provenance(
        "verified",
        message=f"entry {proof.index} of ledger {checkpoint.origin}, signed by key {key.id}",
        key_id=key.id,
        key_name=key.label,
        origin=checkpoint.origin,
        size=checkpoint.size,
        root=checkpoint.root.hex(),
        index=proof.index,
        pushed_by=pushed_by,
    )


def _same(recorded: Mapping[str, Any], expected: Mapping[str, Any]) -> bool:
    try:
        return canonical_json(dict(recorded)) == canonical_json(dict(expected))
    except UserError:
        return False


def verify_push(
    records: Sequence[tuple[Mapping[str, Any], EntryProof | None]],
    note: str | None,
    keys: Sequence[RegisteredKey],
    when: dt.datetime,
    pushed_by: str | None,
) -> list[Provenance]:
    """The provenance of every pushed record, in order; the checkpoint is checked once per
    system. `records` pairs each record (its `system` names whose keys apply) with its proof."""
    by_system: dict[str, Signed | tuple[ClaimReason, str]] = {}
    found = []
    for expected, proof in records:
        system = str(expected.get("system"))
        if system not in by_system:
            by_system[system] = check_checkpoint(note, system, keys, when)
        found.append(verify_record(expected, proof, by_system[system], pushed_by))
    return found
