"""Inclusion and consistency proofs: published vectors, every small case, and tampering."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custos.ledger.merkle import EMPTY_ROOT, Frontier, MissingNodeError, leaf_hash, root_of
from custos.ledger.proofs import (
    MemoryNodes,
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger.vectors import CONSISTENCY, INCLUSION, LEAVES, ROOTS

HASHES = [leaf_hash(data) for data in LEAVES]
NODES = MemoryNodes.from_leaf_hashes(HASHES)
# Roots of every prefix of a 16-leaf tree whose first 8 leaves are the published ones.
EXTRA = HASHES + [leaf_hash(bytes([i])) for i in range(100, 108)]
ROOT = [root_of(EXTRA[:n]) for n in range(len(EXTRA) + 1)]
PAIRS = [(i, n) for n in range(1, 9) for i in range(n)]
SIZE_PAIRS = [(m, n) for n in range(0, 9) for m in range(0, n + 1)]


def flipped(proof: list[bytes], position: int) -> list[bytes]:
    changed = list(proof)
    changed[position] = bytes([changed[position][0] ^ 0x08]) + changed[position][1:]
    return changed


def fails(check: Callable[[], None]) -> bool:
    try:
        check()
    except ProofError:
        return True
    return False


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_published_inclusion_proofs(index: int, size: int) -> None:
    proof = inclusion_proof(NODES, index, size)
    assert [h.hex() for h in proof] == INCLUSION[(index, size)]
    verify_inclusion(HASHES[index], index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new"), sorted(CONSISTENCY))
def test_published_consistency_proofs(old: int, new: int) -> None:
    proof = consistency_proof(NODES, old, new)
    assert [h.hex() for h in proof] == CONSISTENCY[(old, new)]
    root1, root2 = bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1])
    verify_consistency(old, new, proof, root1, root2)


@pytest.mark.parametrize(("index", "size"), PAIRS)
def test_inclusion_round_trip_and_every_tampering_fails(index: int, size: int) -> None:
    proof = inclusion_proof(NODES, index, size)
    leaf, root = HASHES[index], ROOT[size]
    verify_inclusion(leaf, index, size, proof, root)

    for position in range(len(proof)):
        assert fails(
            lambda p=position: verify_inclusion(leaf, index, size, flipped(proof, p), root)
        )
    for other in range(size):
        if other != index:
            assert fails(lambda o=other: verify_inclusion(leaf, o, size, proof, root))
    assert fails(lambda: verify_inclusion(leaf, size, size, proof, root))
    # A wrong size is caught against that size's real (signed) root; RFC 9162 paths alone do
    # not bind the size, which is why proofs are only checked against checkpoint roots.
    for other in range(index + 1, len(EXTRA) + 1):
        if other != size:
            assert fails(lambda o=other: verify_inclusion(leaf, index, o, proof, ROOT[o]))
    assert fails(lambda: verify_inclusion(leaf, index, size * 2, proof, root))
    if size > 1:
        assert fails(lambda: verify_inclusion(leaf, index, size // 2, proof, root))
    if proof:
        assert fails(lambda: verify_inclusion(leaf, index, size, proof[:-1], root))
    assert fails(lambda: verify_inclusion(leaf, index, size, [*proof, root], root))
    assert fails(lambda: verify_inclusion(leaf, index, size, [root, *proof], root))
    assert fails(lambda: verify_inclusion(leaf_hash(b"other"), index, size, proof, root))
    assert fails(lambda: verify_inclusion(leaf, index, size, proof, EMPTY_ROOT))


@pytest.mark.parametrize(("old", "new"), SIZE_PAIRS)
def test_consistency_round_trip_and_every_tampering_fails(old: int, new: int) -> None:
    proof = consistency_proof(NODES, old, new)
    root1, root2 = ROOT[old], ROOT[new]
    verify_consistency(old, new, proof, root1, root2)
    if not proof:  # equal sizes or from empty: nothing to tamper with but the roots
        assert fails(lambda: verify_consistency(old, new, [root1], root1, root2))
        if old == new:
            assert fails(lambda: verify_consistency(old, new, proof, root1, leaf_hash(b"x")))
        else:
            assert fails(lambda: verify_consistency(old, new, proof, leaf_hash(b"x"), root2))
        return

    for position in range(len(proof)):
        assert fails(
            lambda p=position: verify_consistency(old, new, flipped(proof, p), root1, root2)
        )
    # Any other pair of sizes, each with its real root, is refused.
    for m in range(0, len(EXTRA) + 1):
        for n in range(m, len(EXTRA) + 1):
            if (m, n) != (old, new):
                assert fails(lambda m=m, n=n: verify_consistency(m, n, proof, ROOT[m], ROOT[n]))
    assert fails(lambda: verify_consistency(old, new * 2, proof, root1, root2))
    assert fails(lambda: verify_consistency(old, new, proof[:-1], root1, root2))
    assert fails(lambda: verify_consistency(old, new, [*proof, root1], root1, root2))
    assert fails(lambda: verify_consistency(old, new, [*proof, root2], root1, root2))
    assert fails(lambda: verify_consistency(old, new, [root1, *proof], root1, root2))
    assert fails(lambda: verify_consistency(old, new, [proof[0], *proof], root1, root2))
    assert fails(lambda: verify_consistency(old, new, [], root1, root2))
    assert fails(lambda: verify_consistency(old, new, proof, root2, root1))
    assert fails(lambda: verify_consistency(new, old, proof, root2, root1))


def test_consistency_edge_cases_follow_the_rfc() -> None:
    verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
    verify_consistency(0, 5, [], EMPTY_ROOT, ROOT[5])
    verify_consistency(3, 3, [], ROOT[3], ROOT[3])
    with pytest.raises(ProofError, match="empty tree has root"):
        verify_consistency(0, 5, [], ROOT[1], ROOT[5])
    with pytest.raises(ProofError, match="two roots for size 3"):
        verify_consistency(3, 3, [], ROOT[3], ROOT[4])
    with pytest.raises(ProofError, match="never shrinks"):
        verify_consistency(5, 4, [], ROOT[5], ROOT[4])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(3, 3, [ROOT[1]], ROOT[3], ROOT[3])


def test_malformed_inputs_are_refused_with_a_reason() -> None:
    proof = inclusion_proof(NODES, 2, 8)
    with pytest.raises(ProofError, match="proof hash 1 is 2 bytes") as info:
        verify_inclusion(HASHES[2], 2, 8, [proof[0], b"ab", proof[2]], ROOT[8])
    assert "2 bytes" in info.value.reason
    with pytest.raises(ProofError, match="root is 0 bytes"):
        verify_inclusion(HASHES[2], 2, 8, proof, b"")
    with pytest.raises(ProofError, match="outside a tree of size 0"):
        verify_inclusion(HASHES[0], 0, 0, [], EMPTY_ROOT)
    with pytest.raises(ProofError, match="outside"):
        inclusion_proof(NODES, 8, 8)
    with pytest.raises(ProofError, match="from size 5 to size 4"):
        consistency_proof(NODES, 5, 4)


def test_missing_stored_nodes_are_an_operational_error() -> None:
    with pytest.raises(MissingNodeError, match="level 0, index 8"):
        inclusion_proof(NODES, 0, 9)
    with pytest.raises(MissingNodeError, match="out of order"):
        MemoryNodes().add(Frontier().append(HASHES[:2])[1][1:])


class CountingReader:
    def __init__(self, inner: MemoryNodes) -> None:
        self.inner = inner
        self.lookups = 0

    def node(self, level: int, index: int) -> bytes:
        self.lookups += 1
        return self.inner.node(level, index)


def test_proofs_need_only_logarithmically_many_lookups() -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(5000)]
    reader = CountingReader(MemoryNodes.from_leaf_hashes(hashes))
    root = root_of(hashes)
    for index in (0, 1, 2047, 2048, 4095, 4999):
        reader.lookups = 0
        proof = inclusion_proof(reader, index, 5000)
        verify_inclusion(hashes[index], index, 5000, proof, root)
        assert reader.lookups <= 2 * 13  # 5000 < 2**13
    for old in (1, 1000, 4096, 4999):
        reader.lookups = 0
        proof = consistency_proof(reader, old, 5000)
        verify_consistency(old, 5000, proof, root_of(hashes[:old]), root)
        assert reader.lookups <= 3 * 13
