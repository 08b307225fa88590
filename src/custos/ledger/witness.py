"""Checkpoints kept outside the operator's reach, and a log's history compared with them.

A database administrator can rewrite entries and recompute every stored hash, delete the tail,
or reorder entries, and leave a database that agrees with itself. They cannot sign. So an
auditor keeps signed checkpoints somewhere the administrator cannot write: `custos ledger
checkpoint --out FILE` (a CI artifact per run), or the server's witness directory. A kept
checkpoint may carry the leaf hashes of its tree, recomputed from the entries' bytes when it
was kept; then a later rewrite is pinned to the exact entry. A bare signed note only proves
the whole prefix, so the first bad entry is then bounded below by the last proven prefix.

Pure: files are bytes in and bytes out here; `compare` takes leaf hashes the caller recomputed
from the entries' bytes (never the stored ones, which the administrator rewrote as well).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass

from custos.errors import UserError
from custos.ledger.checkpoint import Checkpoint, CheckpointError, parse_and_verify
from custos.ledger.merkle import HASH_SIZE, Frontier, root_of

FORMAT = "custos-ledger-checkpoint/1"
_MAX_LISTED = 10


@dataclass(frozen=True)
class Kept:
    """A signed checkpoint kept outside the database. `leaf_hashes`, when known, reproduce its
    root; only the first `checkpoint.size` of them belong to it (witness records share one list).
    """

    checkpoint: Checkpoint
    source: str  # where it was kept, for messages: a file name
    leaf_hashes: Sequence[bytes] | None = None


@dataclass(frozen=True)
class Comparison:
    """`proven`: the longest prefix of entries a kept checkpoint vouches for (its tree holds
    exactly these bytes); `first_bad`: the first entry past it that differs or is missing."""

    first_bad: int | None
    problems: tuple[str, ...]
    proven: int


def encode_file(verifier: str, note: str, leaf_hashes: Sequence[bytes]) -> bytes:
    """The checkpoint file `custos ledger checkpoint --out` writes (one JSON object)."""
    body = {
        "format": FORMAT,
        "verifier_key": verifier,
        "checkpoint": note,
        "leaf_hashes": base64.b64encode(b"".join(leaf_hashes)).decode(),
    }
    return (json.dumps(body) + "\n").encode()


def decode_file(data: bytes, verifier: str, source: str) -> Kept:
    """A kept checkpoint from a checkpoint file, or from a bare signed note (as the server's
    /api/v1/ledger/checkpoint serves it). Raises UserError naming `source` when it is not
    signed by `verifier` or its leaf hashes do not reproduce its signed root."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{source}: not a ledger checkpoint file (not UTF-8)") from None
    if not text.lstrip().startswith("{"):
        return Kept(_verified(text, verifier, source), source)
    try:
        body = json.loads(text)
        if body.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        note, packed = str(body["checkpoint"]), str(body["leaf_hashes"])
        raw = base64.b64decode(packed, validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise UserError(f"{source}: not a ledger checkpoint file: {exc}") from None
    checkpoint = _verified(note, verifier, source)
    hashes = [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)]
    if len(raw) % HASH_SIZE or len(hashes) != checkpoint.size:
        raise UserError(
            f"{source}: holds {len(raw) / HASH_SIZE:g} leaf hashes for a checkpoint of size "
            f"{checkpoint.size}"
        )
    if root_of(hashes) != checkpoint.root:
        raise UserError(f"{source}: its leaf hashes do not reproduce its signed root")
    return Kept(checkpoint, source, hashes)


def _verified(note: str, verifier: str, source: str) -> Checkpoint:
    try:
        return parse_and_verify(note, verifier)
    except CheckpointError as exc:
        raise UserError(f"{source}: not a checkpoint signed by the trusted key: {exc}") from None


def compare(kept: Sequence[Kept], computed: Sequence[bytes], proven: int = 0) -> Comparison:
    """Where the log's history (leaf hashes recomputed from its entries' bytes) departs from
    every kept checkpoint. `proven` is a prefix size already proven intact (the caller's own
    signed checkpoints that still match), used to bound a bare note's mismatch."""
    problems: list[str] = []
    suspects: list[int] = []
    _missing(kept, len(computed), problems, suspects)
    hashed = _against_hashes(
        [k for k in kept if k.leaf_hashes is not None], computed, problems, suspects
    )
    rooted = _against_roots(
        [k for k in kept if k.leaf_hashes is None],
        computed,
        max(proven, hashed),
        problems,
        suspects,
    )
    return Comparison(min(suspects) if suspects else None, tuple(problems), max(hashed, rooted))


def _missing(kept: Sequence[Kept], size: int, problems: list[str], suspects: list[int]) -> None:
    longest = max(kept, key=lambda k: k.checkpoint.size, default=None)
    if longest is None or longest.checkpoint.size <= size:
        return
    problems.append(
        f"entry {size}: missing; checkpoint {longest.checkpoint.size} kept in {longest.source} "
        f"covers {longest.checkpoint.size} entries, the log holds {size}: entries "
        f"{size}..{longest.checkpoint.size - 1} were deleted"
    )
    suspects.append(size)


def _against_hashes(
    kept: Sequence[Kept], computed: Sequence[bytes], problems: list[str], suspects: list[int]
) -> int:
    """The longest prefix some kept tree vouches for; a problem per entry that differs."""
    proven = 0
    by_list: dict[int, list[Kept]] = {}
    for item in kept:  # witness records share one list: compare each list once
        by_list.setdefault(id(item.leaf_hashes), []).append(item)
    for group in by_list.values():
        hashes = group[0].leaf_hashes
        assert hashes is not None
        limit = min(len(computed), max(k.checkpoint.size for k in group))
        bad = [i for i in range(limit) if computed[i] != hashes[i]]
        for index in bad[:_MAX_LISTED]:
            first = min((k for k in group if k.checkpoint.size > index), key=_size)
            problems.append(
                f"entry {index}: leaf hash recomputed from its bytes {computed[index].hex()[:16]}… "
                f"does not match checkpoint {first.checkpoint.size}'s tree "
                f"({hashes[index].hex()[:16]}…, kept in {first.source})"
            )
        if len(bad) > _MAX_LISTED:
            problems.append(f"... and {len(bad) - _MAX_LISTED} more entries like these")
        suspects.extend(bad[:1])
        proven = max(proven, bad[0] if bad else limit)
    return proven


def _against_roots(
    kept: Sequence[Kept],
    computed: Sequence[bytes],
    proven: int,
    problems: list[str],
    suspects: list[int],
) -> int:
    """A bare note only proves its whole prefix: a mismatch is bounded below by `proven`."""
    frontier, matched = Frontier(), 0
    for item in sorted(kept, key=_size):
        size = item.checkpoint.size
        if size > len(computed):
            continue  # reported by _missing
        frontier = frontier.extend(computed[frontier.size : size])
        if frontier.root() == item.checkpoint.root:
            proven, matched = max(proven, size), max(matched, size)
            continue
        start = min(proven, size - 1)
        problems.append(
            f"entries {start}..{size - 1}: recomputed from their bytes they give root "
            f"{frontier.root().hex()[:16]}…, not checkpoint {size}'s root "
            f"{item.checkpoint.root.hex()[:16]}… (kept in {item.source}); an entry in that "
            "range was changed, reordered or replaced"
        )
        suspects.append(start)
    return matched


def _size(item: Kept) -> int:
    return item.checkpoint.size
