"""Verifier policy: which checkpoints a client trusts, and an offline audit of a whole log.

`accept` is what a client (CI job, auditor, witness) runs each time it sees a new checkpoint:
it keeps the last trusted one and only moves forward along a proven append-only history, so a
log that rolls back, forks (two roots for one size) or rewrites history is caught.
`verify_log` recomputes every signed root from the entries themselves and says where the log
first differs from what was signed. Both are pure: the caller passes data, nothing is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from custos.errors import UserError
from custos.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_and_verify,
    parse_verifier_key,
)
from custos.ledger.merkle import Frontier, leaf_hash
from custos.ledger.proofs import ProofError, verify_consistency

Refusal = Literal["origin", "rollback", "fork", "inconsistent"]
_MAX_LISTED = 10


class CheckpointRefused(CheckpointError):
    """A validly signed checkpoint that contradicts the trusted one; `kind` says how."""

    def __init__(self, kind: Refusal, message: str) -> None:
        self.kind = kind
        super().__init__(message)


def accept(
    new: Checkpoint, trusted: Checkpoint | None, consistency_proof: Sequence[bytes]
) -> Checkpoint:
    """The checkpoint to trust from now on, or CheckpointRefused.

    `new` must come from `parse_and_verify` (its signature checked); with no trusted checkpoint
    yet it is trusted on first use. The proof goes from `trusted.size` to `new.size`.
    """
    if trusted is None:
        return new
    if new.origin != trusted.origin:
        raise CheckpointRefused(
            "origin", f"checkpoint is for log {new.origin!r}, trusted log is {trusted.origin!r}"
        )
    if new.size < trusted.size:
        raise CheckpointRefused(
            "rollback", f"log went back from size {trusted.size} to size {new.size}"
        )
    if new.size == trusted.size:
        if new.root != trusted.root:
            raise CheckpointRefused(
                "fork",
                f"two roots for size {new.size}: trusted {trusted.root.hex()[:16]}…, "
                f"new {new.root.hex()[:16]}…",
            )
        return new
    try:
        verify_consistency(trusted.size, new.size, consistency_proof, trusted.root, new.root)
    except ProofError as exc:
        raise CheckpointRefused(
            "inconsistent",
            f"size {new.size} is not proven to extend trusted size {trusted.size}: {exc.reason}",
        ) from exc
    return new


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of an offline log audit.

    `first_bad_index` is the earliest entry that is, or may be, altered or missing: exact when
    an entry's data no longer matches its stored leaf hash; otherwise the start of `bad_range`,
    the entries between the last checkpoint that still matches and the first that does not.
    `covered` counts entries under a verified checkpoint; later ones are not yet signed.
    """

    ok: bool
    entries: int
    checkpoints: int
    covered: int
    latest: Checkpoint | None
    first_bad_index: int | None
    bad_range: tuple[int, int] | None
    problems: tuple[str, ...]


def verify_log(
    checkpoints: Sequence[str],
    verifier: str,
    *,
    leaf_data: Sequence[bytes] | None = None,
    leaf_hashes: Sequence[bytes] | None = None,
    origin: str | None = None,
) -> VerifyResult:
    """Recompute the log from entry bytes and/or stored leaf hashes and check every checkpoint.

    Roots are recomputed from `leaf_hashes` when given, else from `leaf_data`. With both, each
    entry's data is also checked against its stored hash: when the stored hashes match the
    checkpoints they are authentic, and a mismatch pins a changed entry exactly.
    """
    if leaf_data is None and leaf_hashes is None:
        raise UserError("verify_log needs the entries' data, their stored leaf hashes, or both")
    parse_verifier_key(verifier)  # a bad key is the caller's error, not a problem of the log
    problems: list[str] = []
    suspects: list[int] = []
    hashes: Sequence[bytes]
    if leaf_hashes is not None:
        hashes = leaf_hashes
        if leaf_data is not None:
            suspects += _compare_hashes([leaf_hash(d) for d in leaf_data], leaf_hashes, problems)
    else:
        assert leaf_data is not None
        hashes = [leaf_hash(data) for data in leaf_data]

    signed = _open_checkpoints(checkpoints, verifier, origin, problems)
    frontier = Frontier()
    good, bad_range = 0, None
    for checkpoint in signed:
        if checkpoint.size > len(hashes):
            problems.append(
                f"checkpoint at size {checkpoint.size}: the log has only {len(hashes)} entries; "
                f"entries {len(hashes)}..{checkpoint.size - 1} are missing"
            )
            bad_range = bad_range or (len(hashes), checkpoint.size)
            continue
        frontier = frontier.extend(hashes[frontier.size : checkpoint.size])
        if frontier.root() == checkpoint.root:
            good = max(good, checkpoint.size)
            continue
        problems.append(
            f"checkpoint at size {checkpoint.size}: expected root {checkpoint.root.hex()[:16]}…, "
            f"recomputed {frontier.root().hex()[:16]}…; an entry in {good}..{checkpoint.size - 1} "
            "differs from what was signed"
        )
        bad_range = bad_range or (good, checkpoint.size)
    if bad_range is not None:
        suspects.append(bad_range[0])
    if not signed:
        problems.append("no checkpoint signed by the trusted key")
    return VerifyResult(
        ok=not problems,
        entries=len(hashes),
        checkpoints=len(signed),
        covered=min(max((c.size for c in signed), default=0), len(hashes)),
        latest=signed[-1] if signed else None,
        first_bad_index=min(suspects) if suspects else None,
        bad_range=bad_range,
        problems=tuple(problems),
    )


def _compare_hashes(
    computed: Sequence[bytes], stored: Sequence[bytes], problems: list[str]
) -> list[int]:
    mismatched = [i for i, (a, b) in enumerate(zip(computed, stored, strict=False)) if a != b]
    for i in mismatched[:_MAX_LISTED]:
        problems.append(
            f"entry {i}: data hashes to {computed[i].hex()[:16]}…, "
            f"stored leaf hash is {stored[i].hex()[:16]}…"
        )
    if len(mismatched) > _MAX_LISTED:
        problems.append(f"... and {len(mismatched) - _MAX_LISTED} more entries like these")
    if len(computed) != len(stored):
        shorter = min(len(computed), len(stored))
        problems.append(f"{len(computed)} entries but {len(stored)} stored leaf hashes")
        mismatched.append(shorter)
    return mismatched


def _open_checkpoints(
    notes: Sequence[str], verifier: str, origin: str | None, problems: list[str]
) -> list[Checkpoint]:
    """Verified checkpoints sorted by size; bad ones become problems, not exceptions."""
    opened: list[Checkpoint] = []
    for number, note in enumerate(notes):
        try:
            checkpoint = parse_and_verify(note, verifier, origin=origin)
        except CheckpointError as exc:
            problems.append(f"checkpoint {number}: {exc}")
            continue
        if opened and checkpoint.origin != opened[0].origin:
            problems.append(
                f"checkpoint {number}: origin {checkpoint.origin!r} is not "
                f"{opened[0].origin!r} like the others"
            )
            continue
        opened.append(checkpoint)
    return sorted(opened, key=lambda c: c.size)
