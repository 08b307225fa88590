"""Inclusion and consistency proofs: RFC 6962 2.1.1-2.1.2, verified per RFC 9162 2.1.3-2.1.4.

An inclusion proof shows one entry is in the tree a checkpoint signs; a consistency proof shows
a later tree only appended to an earlier one. Proofs are built from a `NodeReader`: every
sibling in RFC 6962's recursion is either an aligned perfect subtree (one stored node) or the
tree's incomplete right edge, folded from at most log2(n) stored perfect subtrees, so a proof
costs O(log n) lookups and no full-tree pass.

Verification raises `ProofError` with the reason rather than returning False, so a caller can
tell an auditor *why* a proof failed; it never returns a value to forget to check.
Note that an inclusion proof alone does not bind the tree size (RFC 9162 2.1.3.2 accepts some
other sizes for the same path): always verify against a root from a signed checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from custos.errors import UserError
from custos.ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MissingNodeError,
    Node,
    NodeReader,
    decompose,
    fold_right,
    node_hash,
    pair_up,
    split_point,
)


class ProofError(UserError):
    """A proof does not verify, or its parameters are impossible; `reason` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class MemoryNodes:
    """A NodeReader over every perfect-subtree hash, one list per level (tests, offline bundles)."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Sequence[bytes]) -> MemoryNodes:
        nodes = cls()
        level = list(leaf_hashes)
        while level:
            nodes.levels.append(level)
            level = pair_up(level)
        return nodes

    @property
    def size(self) -> int:
        return len(self.levels[0]) if self.levels else 0

    def add(self, nodes: Iterable[Node]) -> None:
        """Store nodes as `Frontier.append` yields them (consecutive indexes per level)."""
        for level, index, value in nodes:
            while len(self.levels) <= level:
                self.levels.append([])
            if index != len(self.levels[level]):
                raise MissingNodeError(
                    f"node ({level}, {index}) out of order: expected index "
                    f"{len(self.levels[level])}"
                )
            self.levels[level].append(value)

    def node(self, level: int, index: int) -> bytes:
        if 0 <= level < len(self.levels) and 0 <= index < len(self.levels[level]):
            return self.levels[level][index]
        raise MissingNodeError(f"no stored node at level {level}, index {index}")


def subtree_root(reader: NodeReader, start: int, size: int) -> bytes:
    """MTH of leaves [start, start + size) from stored perfect subtrees (aligned ranges only)."""
    return fold_right([reader.node(level, index) for level, index in decompose(start, size)])


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 2.1.1, leaf-side sibling first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    top_down: list[bytes] = []
    start, m, n = 0, index, size
    while n > 1:
        k = split_point(n)
        if m < k:  # the leaf is on the left: the sibling is the (maybe incomplete) right part
            top_down.append(subtree_root(reader, start + k, n - k))
            n = k
        else:  # the leaf is on the right: the sibling is the perfect left part
            top_down.append(reader.node(k.bit_length() - 1, start // k))
            start, m, n = start + k, m - k, n - k
    return top_down[::-1]


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 6962 2.1.2; empty when old_size is 0 or equal."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == 0:
        return []
    top_down: list[bytes] = []
    start, m, n, whole = 0, old_size, new_size, True
    while m != n:
        k = split_point(n)
        if m <= k:
            top_down.append(subtree_root(reader, start + k, n - k))
            n = k
        else:
            top_down.append(reader.node(k.bit_length() - 1, start // k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:  # the old tree is not a left subtree the verifier already knows
        top_down.append(subtree_root(reader, start, m))
    return top_down[::-1]


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check `proof` puts `leaf_hash` at `index` in the tree of `size` with `root` (RFC 9162)."""
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    _check_proof(proof)
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof has more than the hashes a size {size} tree needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # skip levels where the path has no right sibling
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"inclusion proof has fewer hashes than a size {size} tree needs")
    if r != root:
        raise ProofError(
            f"entry {index}: inclusion proof gives root {_short(r)}, expected {_short(root)}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check the tree (size2, root2) extends the tree (size1, root1) (RFC 9162 2.1.4.2)."""
    _check_hash("old root", root1)
    _check_hash("new root", root2)
    _check_proof(proof)
    if not 0 <= size1 <= size2:
        raise ProofError(f"tree size went from {size1} to {size2}: a log never shrinks")
    if size1 == 0 and root1 != EMPTY_ROOT:
        raise ProofError(f"empty tree has root {_short(root1)}, expected {_short(EMPTY_ROOT)}")
    if size1 == size2 and root1 != root2:
        raise ProofError(f"two roots for size {size1}: {_short(root1)} and {_short(root2)}")
    if size1 == size2 or size1 == 0:  # nothing to prove: equal trees, or anything extends empty
        if proof:
            raise ProofError(f"consistency proof from {size1} to {size2} must be empty")
        return
    if not proof:
        raise ProofError(f"consistency proof from {size1} to {size2} is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is itself a node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof {size1}->{size2} has too many hashes")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(f"consistency proof {size1}->{size2} has too few hashes")
    if fr != root1:
        raise ProofError(
            f"consistency proof gives old root {_short(fr)} at size {size1}, "
            f"expected {_short(root1)}"
        )
    if sr != root2:
        raise ProofError(
            f"consistency proof gives new root {_short(sr)} at size {size2}, "
            f"expected {_short(root2)}"
        )


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _check_proof(proof: Sequence[bytes]) -> None:
    for position, value in enumerate(proof):
        _check_hash(f"proof hash {position}", value)


def _short(value: bytes) -> str:
    return value.hex()[:16] + "…"
