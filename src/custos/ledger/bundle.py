"""The audit bundle: a ledger an auditor verifies on another machine, with no database.

JSON Lines, one record per line: a header `{"format": "custos-ledger-bundle/1", "origin",
"verifier_key", "size", "checkpoints"}`, then that many `{"checkpoint": <signed note>}` lines,
then `size` entry lines, each the entry's canonical bytes exactly as hashed into the tree
(canonical JSON never contains a raw newline). The verifier key in the header is a convenience:
an auditor should pin the key they were given out of band (`--key`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from custos.errors import UserError

FORMAT = "custos-ledger-bundle/1"


@dataclass(frozen=True)
class BundleHeader:
    origin: str
    verifier_key: str
    size: int
    checkpoints: int


def write_lines(
    header: BundleHeader, notes: Iterable[str], entries: Iterable[bytes]
) -> Iterator[bytes]:
    """The bundle's bytes, line by line."""
    head = {
        "format": FORMAT,
        "origin": header.origin,
        "verifier_key": header.verifier_key,
        "size": header.size,
        "checkpoints": header.checkpoints,
    }
    yield json.dumps(head, sort_keys=True).encode() + b"\n"
    for note in notes:
        yield json.dumps({"checkpoint": note}).encode() + b"\n"
    for data in entries:
        if b"\n" in data:
            raise UserError("a ledger entry holds a raw newline: it is not canonical JSON")
        yield data + b"\n"


def read(lines: Iterator[bytes], source: str) -> tuple[BundleHeader, list[str], Iterator[bytes]]:
    """Parse a bundle: header, checkpoint notes, and an iterator over entry bytes (which
    raises UserError naming the line when the bundle is cut short)."""
    first = next(lines, None)
    if first is None:
        raise UserError(f"{source}: empty file, not a ledger bundle")
    try:
        head = json.loads(first)
    except ValueError:
        raise UserError(f"{source}:1: not a ledger bundle (the first line is not JSON)") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise UserError(f"{source}:1: not a ledger bundle (expected format {FORMAT})")
    try:
        header = BundleHeader(
            str(head["origin"]), str(head["verifier_key"]), int(head["size"]),
            int(head["checkpoints"]),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{source}:1: bundle header is incomplete: {exc}") from None
    notes: list[str] = []
    for number in range(header.checkpoints):
        line = next(lines, None)
        try:
            note = json.loads(line)["checkpoint"] if line is not None else None
        except (ValueError, TypeError, KeyError):
            note = None
        if not isinstance(note, str):
            raise UserError(f"{source}:{number + 2}: expected a checkpoint line")
        notes.append(note)
    return header, notes, _entries(lines, source)


def _entries(lines: Iterator[bytes], source: str) -> Iterator[bytes]:
    for line in lines:
        if not line.endswith(b"\n"):
            raise UserError(f"{source}: the last line is cut short (no newline)")
        yield line[:-1]
