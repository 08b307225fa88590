"""Property: appending in any chunks gives the batch root, and stored nodes answer every proof."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from custos.ledger.merkle import Frontier, leaf_hash, root_of
from custos.ledger.proofs import (
    MemoryNodes,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

PROPERTY = settings(max_examples=120, deadline=None, derandomize=True)


@st.composite
def logs(draw: st.DrawFn) -> tuple[list[bytes], list[int]]:
    size = draw(st.integers(min_value=0, max_value=300))
    rng = draw(st.randoms(use_true_random=False))
    leaves = [rng.randbytes(rng.randrange(0, 12)) for _ in range(size)]
    chunks = draw(st.lists(st.integers(min_value=1, max_value=64), max_size=20))
    return leaves, chunks


@PROPERTY
@given(logs(), st.data())
def test_incremental_equals_batch_and_stored_nodes_prove(
    log: tuple[list[bytes], list[int]], data: st.DataObject
) -> None:
    leaves, chunks = log
    hashes = [leaf_hash(x) for x in leaves]
    stored = MemoryNodes()
    frontier, start = Frontier(), 0
    checkpoints = {0: frontier.root()}
    for chunk in [*chunks, len(hashes)]:  # the last "chunk" takes whatever is left
        frontier, nodes = frontier.append(hashes[start : start + chunk])
        stored.add(nodes)
        start = frontier.size
        checkpoints[frontier.size] = frontier.root()
    assert frontier.size == len(hashes)
    for size, root in checkpoints.items():
        assert root == root_of(hashes[:size])
    if not hashes:
        return

    size = data.draw(st.integers(min_value=1, max_value=len(hashes)), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    old = data.draw(st.integers(min_value=0, max_value=size), label="old")
    root = root_of(hashes[:size])
    verify_inclusion(hashes[index], index, size, inclusion_proof(stored, index, size), root)
    proof = consistency_proof(stored, old, size)
    verify_consistency(old, size, proof, root_of(hashes[:old]), root)
    # Rebuilding the frontier from stored nodes alone gives the same signed root.
    assert Frontier.from_reader(stored, size).root() == root
