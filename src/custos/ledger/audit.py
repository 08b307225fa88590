"""A whole-ledger audit from a stream of stored entries: what `custos ledger verify` runs.

Pure: the caller streams `(seq, stored leaf hash or None, data)` rows from a database or a
bundle and passes the checkpoints and the key it trusts. The audit recomputes every leaf hash
from the data (a changed byte names its entry), notices gaps and reordering in the sequence
numbers (a deleted or inserted entry), recomputes every signed root (`verify_log`) and, when the
caller trusted an earlier checkpoint, requires the latest one to extend it (`accept`: a
rolled-back, forked or rewritten log is refused). Checkpoints `kept` outside the database
(custos.ledger.witness) are compared with leaf hashes recomputed from the entries' bytes: they
catch a history a database administrator rewrote, truncated or reordered consistently.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from custos.ledger.checkpoint import Checkpoint, CheckpointError, parse_and_verify
from custos.ledger.merkle import leaf_hash
from custos.ledger.proofs import MemoryNodes, consistency_proof
from custos.ledger.verifier import CheckpointRefused, VerifyResult, accept, verify_log
from custos.ledger.witness import Kept, compare

_MAX_LISTED = 10


@dataclass(frozen=True)
class Audit:
    """The audit's verdict; `first_bad` is the earliest entry known or suspected to be bad."""

    ok: bool
    entries: int
    checkpoints: int
    latest: Checkpoint | None
    latest_note: str | None  # the signed note of `latest`, for the verifier to pin
    first_bad: int | None
    problems: tuple[str, ...]


def audit(
    rows: Iterable[tuple[int, bytes | None, bytes]],
    notes: Sequence[str],
    verifier: str,
    *,
    trusted: Checkpoint | None = None,
    declared_size: int | None = None,
    origin: str | None = None,
    kept: Sequence[Kept] = (),
) -> Audit:
    problems: list[str] = []
    suspects: list[int] = []
    hashes: list[bytes] = []
    recomputed: list[bytes] = []  # from the bytes alone, for the kept checkpoints
    for position, (seq, stored, data) in enumerate(rows):
        if seq != position:
            what = "missing" if seq > position else "out of order or duplicated"
            _note(problems, f"entry {position} is {what} (found sequence number {seq} there)")
            suspects.append(position)
        computed = leaf_hash(data)
        if kept:
            recomputed.append(computed)
        if stored is not None and stored != computed:
            _note(
                problems,
                f"entry {seq}: its data hashes to {computed.hex()[:16]}…, stored leaf hash is "
                f"{stored.hex()[:16]}…: the entry was changed after it was recorded",
            )
            suspects.append(position)
        hashes.append(stored if stored is not None else computed)
    if declared_size is not None and declared_size != len(hashes):
        problems.append(f"the ledger declares {declared_size} entries but holds {len(hashes)}")
        suspects.append(min(declared_size, len(hashes)))
    result = verify_log(notes, verifier, leaf_hashes=hashes, origin=origin)
    problems += result.problems
    if result.first_bad_index is not None:
        suspects.append(result.first_bad_index)
    proven = 0  # entries a kept checkpoint vouches for: no suspect lies below them
    if kept:
        found = compare(kept, recomputed, proven=min([result.covered, *suspects]))
        problems += found.problems
        suspects += [] if found.first_bad is None else [found.first_bad]
        proven = found.proven
    if result.latest is not None and result.covered < len(hashes):
        # Every append signs its batch: entries past the last signed size were added, or their
        # checkpoints deleted, behind the signer's back.
        problems.append(
            f"entry {result.covered}: entries {result.covered}..{len(hashes) - 1} are under no "
            "checkpoint signed by the trusted key"
        )
        suspects += [result.covered] if proven < len(hashes) else []
    if trusted is not None and result.latest is not None:
        _check_trust(trusted, result, hashes, problems, suspects)
    if len(problems) > _MAX_LISTED * 3:
        problems[_MAX_LISTED * 3 :] = [f"... and {len(problems) - _MAX_LISTED * 3} more"]
    return Audit(
        ok=not problems,
        entries=len(hashes),
        checkpoints=result.checkpoints,
        latest=result.latest,
        latest_note=_note_for(result.latest, notes, verifier),
        first_bad=max(min(suspects), proven) if suspects else None,
        problems=tuple(problems),
    )


def _check_trust(
    trusted: Checkpoint,
    result: VerifyResult,
    hashes: list[bytes],
    problems: list[str],
    suspects: list[int],
) -> None:
    latest = result.latest
    assert latest is not None
    proof: list[bytes] = []
    if trusted.size < latest.size <= len(hashes):
        proof = consistency_proof(MemoryNodes.from_leaf_hashes(hashes), trusted.size, latest.size)
    try:
        accept(latest, trusted, proof)
    except CheckpointRefused as exc:
        problems.append(f"{exc.kind}: {exc} (last trusted checkpoint: size {trusted.size})")
        suspects.append(min(trusted.size, latest.size))


def _note_for(latest: Checkpoint | None, notes: Sequence[str], verifier: str) -> str | None:
    if latest is None:
        return None
    for note in reversed(notes):  # stored oldest first: the newest is normally the last
        try:
            if parse_and_verify(note, verifier) == latest:
                return note
        except CheckpointError:
            continue
    return None


def _note(problems: list[str], text: str) -> None:
    if len(problems) < _MAX_LISTED:
        problems.append(text)
    elif len(problems) == _MAX_LISTED:
        problems.append("... and more entries like these")
