"""RFC 6962 tree hashing: published roots, a textbook reference, and the incremental frontier."""

from __future__ import annotations

import hashlib
import random

import pytest

from custos.errors import UserError
from custos.ledger.merkle import (
    EMPTY_ROOT,
    Frontier,
    decompose,
    leaf_hash,
    node_hash,
    root_of,
)
from custos.ledger.proofs import MemoryNodes
from tests.ledger.vectors import EMPTY_ROOT as EMPTY_HEX
from tests.ledger.vectors import LEAVES, ROOTS

HASHES = [leaf_hash(data) for data in LEAVES]


def reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1 read literally: recursion with the split at the largest 2**k < n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_mth(leaves[:k]) + reference_mth(leaves[k:])).digest()


def random_leaves(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.randrange(0, 40)) for _ in range(count)]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == EMPTY_HEX
    assert root_of([]) == EMPTY_ROOT
    assert Frontier().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_published_roots(size: int) -> None:
    assert root_of(HASHES[:size]).hex() == ROOTS[size - 1]


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    left, right = HASHES[1], HASHES[2]
    assert node_hash(left, right) != leaf_hash(left + right)
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize("size", [*range(0, 40), 63, 64, 65, 127, 128, 129, 300])
def test_batch_root_matches_the_textbook_recursion(size: int) -> None:
    leaves = random_leaves(size, seed=size)
    assert root_of([leaf_hash(x) for x in leaves]) == reference_mth(leaves)


def test_frontier_root_matches_batch_root_after_every_append() -> None:
    hashes = [leaf_hash(x) for x in random_leaves(70, seed=7)]
    frontier = Frontier()
    for size in range(1, len(hashes) + 1):
        frontier, _ = frontier.append([hashes[size - 1]])
        assert frontier.size == size
        assert len(frontier.roots) == size.bit_count()
        assert frontier.root() == root_of(hashes[:size])


def test_appended_nodes_are_exactly_the_perfect_subtrees() -> None:
    hashes = [leaf_hash(x) for x in random_leaves(45, seed=3)]
    full = MemoryNodes.from_leaf_hashes(hashes)
    frontier, first = Frontier().append(hashes[:13])
    frontier, second = frontier.append(hashes[13:])
    nodes = first + second
    expected = {
        (level, index): value
        for level, row in enumerate(full.levels)
        for index, value in enumerate(row)
    }
    assert {(level, index): value for level, index, value in nodes} == expected
    assert len(nodes) == 2 * 45 - (45).bit_count()  # no node emitted twice
    for level, index, value in nodes:  # each is the root of its 2**level leaves
        start = index << level
        assert value == root_of(hashes[start : start + (1 << level)])


def test_frontier_rebuilt_from_stored_nodes_continues_identically() -> None:
    hashes = [leaf_hash(x) for x in random_leaves(50, seed=11)]
    stored = MemoryNodes()
    frontier, nodes = Frontier().append(hashes[:37])
    stored.add(nodes)
    rebuilt = Frontier.from_reader(stored, 37)
    assert rebuilt == frontier
    assert rebuilt.extend(hashes[37:]).root() == root_of(hashes)


def test_decompose_covers_a_range_with_aligned_perfect_subtrees() -> None:
    assert decompose(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert decompose(8, 5) == [(2, 2), (0, 12)]
    assert decompose(0, 0) == []
    with pytest.raises(ValueError, match="not aligned"):
        decompose(2, 4)


def test_wrong_sized_hashes_are_refused() -> None:
    with pytest.raises(UserError, match="leaf hash 0 is 31 bytes"):
        Frontier().append([b"x" * 31])
    with pytest.raises(UserError, match="hash 1 is 3 bytes"):
        root_of([HASHES[0], b"abc"])
    with pytest.raises(UserError, match="needs 2 subtree roots"):
        Frontier(3, (HASHES[0],))


@pytest.mark.parametrize("from_level", [0, 1, 4])
def test_append_from_level_keeps_only_upper_nodes(from_level: int) -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(37)]
    start, _ = Frontier().append(hashes[:5])
    everything = start.append(hashes[5:])[1]
    grown, upper = start.append(hashes[5:], from_level=from_level)
    assert upper == [node for node in everything if node[0] >= from_level]
    assert grown == start.extend(hashes[5:])
