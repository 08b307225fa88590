"""RFC 6962 / RFC 9162 Merkle tree hashing, batch and incremental.

The ledger is a Merkle tree so that an auditor can check any entry, and that the log only grew,
with a few hashes instead of the whole log. Hashing is domain-separated (0x00 for leaves, 0x01
for interior nodes) so a leaf can never pass for a node. The tree over n leaves splits at the
largest power of two below n (RFC 6962 section 2.1); computed bottom-up, that is "pair the
nodes of each level, carry a lone last node up unchanged", which is how `root_of` runs.

`Frontier` is the incremental form: the roots of the perfect subtrees that make up the tree
(one per set bit of its size). Appending leaves yields the new perfect-subtree nodes, which a
store persists so that `proofs` can build any proof from O(log n) stored nodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias

from custos.errors import CustosError, UserError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


class MissingNodeError(CustosError):
    """A NodeReader was asked for a node it does not hold (a store is incomplete)."""


# (level, index, hash): the hash of the perfect subtree of 2**level leaves starting at leaf
# index * 2**level. A plain tuple, because a store appends two of these per leaf.
Node: TypeAlias = tuple[int, int, bytes]


class NodeReader(Protocol):
    """Where proofs read perfect-subtree hashes from (a store table, or memory)."""

    def node(self, level: int, index: int) -> bytes:
        """Hash of the perfect subtree at (level, index); level 0 are the leaf hashes."""
        ...


_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly below `size` (size >= 2), where RFC 6962 splits."""
    return 1 << ((size - 1).bit_length() - 1)


def pair_up(level: Sequence[bytes]) -> list[bytes]:
    """The parents of complete pairs on one level; a lone last node is the caller's concern."""
    pairs = iter(level)
    # zip over one iterator walks the level two at a time without slicing copies.
    return [
        _sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
    ]


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash (MTH) over leaf hashes; the empty tree hashes to SHA-256("")."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    _check_hashes(level)
    while len(level) > 1:
        parents = pair_up(level)
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
    return level[0]


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree roots, largest first, into the root of the range they cover."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def decompose(start: int, size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees covering leaves [start, start + size), largest first.

    `start` must be a multiple of the largest power of two <= size, which holds for every range
    RFC 6962's recursion produces; each piece is then an aligned, storable subtree.
    """
    pieces = []
    pos = start
    for level in reversed(range(size.bit_length())):
        if size >> level & 1:
            if pos % (1 << level):
                raise ValueError(f"range [{start}, {start + size}) is not aligned at {pos}")
            pieces.append((level, pos >> level))
            pos += 1 << level
    return pieces


@dataclass(frozen=True)
class Frontier:
    """The compact range [0, size): roots of its perfect subtrees, largest (leftmost) first."""

    size: int = 0
    roots: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.roots) != self.size.bit_count():
            raise UserError(
                f"frontier of size {self.size} needs {max(self.size, 0).bit_count()} "
                f"subtree roots, got {len(self.roots)}"
            )
        _check_hashes(self.roots)

    @classmethod
    def from_reader(cls, reader: NodeReader, size: int) -> Frontier:
        """Rebuild the frontier of a stored tree of `size` leaves: popcount(size) lookups."""
        return cls(size, tuple(reader.node(lv, ix) for lv, ix in decompose(0, size)))

    def root(self) -> bytes:
        return fold_right(self.roots) if self.roots else EMPTY_ROOT

    def append(
        self, leaf_hashes: Iterable[bytes], from_level: int = 0
    ) -> tuple[Frontier, list[Node]]:
        """The frontier after appending, and every perfect-subtree node the leaves completed
        at `from_level` and above (a store that keeps only upper levels asks for those).

        Nodes come bottom-up per leaf, lowest level first, so within each level the indexes
        are consecutive: a store can append them to per-level tables.
        """
        new: list[Node] = []
        return self._absorb(leaf_hashes, new, from_level), new

    def extend(self, leaf_hashes: Iterable[bytes]) -> Frontier:
        """The frontier after appending, when the completed nodes are not wanted (verifiers)."""
        return self._absorb(leaf_hashes, None, 0)

    def _absorb(
        self, leaf_hashes: Iterable[bytes], sink: list[Node] | None, from_level: int
    ) -> Frontier:
        # The ledger's hot loop (every append, every audit): names bound locally on purpose.
        stack = list(self.roots)
        push, pop, sha256 = stack.append, stack.pop, hashlib.sha256
        emit = sink.append if sink is not None else None
        size = self.size
        for leaf in leaf_hashes:
            if len(leaf) != HASH_SIZE:
                raise UserError(f"leaf hash {size} is {len(leaf)} bytes, expected {HASH_SIZE}")
            if emit is not None and from_level == 0:
                emit((0, size, leaf))
            current, level, position = leaf, 0, size
            # Each trailing 1 bit of the old size is a same-sized subtree this leaf completes.
            while position & 1:
                current = sha256(_NODE_PREFIX + pop() + current).digest()
                level += 1
                position >>= 1
                if emit is not None and level >= from_level:
                    emit((level, position, current))
            push(current)
            size += 1
        return Frontier(size, tuple(stack))


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for position, value in enumerate(hashes):
        if len(value) != HASH_SIZE:
            raise UserError(f"hash {position} is {len(value)} bytes, expected {HASH_SIZE}")
