"""Benchmark: the ledger core at one million entries.

Prints the time of the Merkle root of 1M leaf hashes (goal < 2 s in CPython), of appending 1M
leaves through the incremental frontier (which also yields every node a store would persist),
of generating inclusion and consistency proofs from those stored nodes, and of verifying
1000 inclusion and 1000 consistency proofs (goal <= 1 ms each), plus checkpoint signing and
verification. Each figure is the median of REPEAT runs.
Run: `.venv/bin/python benchmarks/ledger_core.py`.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

from custos.ledger.checkpoint import (
    Checkpoint,
    generate_log_key,
    parse_and_verify,
    sign_checkpoint,
)
from custos.ledger.merkle import Frontier, leaf_hash, root_of
from custos.ledger.proofs import (
    MemoryNodes,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

LEAVES = 1_000_000
PROOFS = 1000
REPEAT = 3
GOAL_ROOT = 2.0
GOAL_PROOF_US = 1000.0
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    samples, result = [], None
    for _ in range(REPEAT):
        start = time.perf_counter()
        result = work()
        samples.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(samples), result


class CountingReader:
    """Counts stored-node lookups, as a database would count queries."""

    def __init__(self, inner: MemoryNodes) -> None:
        self.inner = inner
        self.lookups = 0

    def node(self, level: int, index: int) -> bytes:
        self.lookups += 1
        return self.inner.node(level, index)


def main() -> None:
    rng = random.Random(42)
    data = [rng.randbytes(200) for _ in range(LEAVES)]
    hash_s, hashes = timed(lambda: [leaf_hash(d) for d in data])
    root_s, root = timed(lambda: root_of(hashes))

    def build() -> tuple[Frontier, MemoryNodes]:
        frontier, stored = Frontier(), MemoryNodes()
        for start in range(0, LEAVES, 10_000):  # batches, as a store would commit them
            frontier, nodes = frontier.append(hashes[start : start + 10_000])
            stored.add(nodes)
        return frontier, stored

    append_s, (frontier, stored) = timed(build)
    assert frontier.root() == root

    reader = CountingReader(stored)
    pairs = [(rng.randrange(LEAVES), LEAVES - rng.randrange(1000)) for _ in range(PROOFS)]
    pairs = [(min(i, n - 1), n) for i, n in pairs]
    roots = {n: Frontier.from_reader(stored, n).root() for _, n in pairs}
    gen_s, proofs = timed(lambda: [inclusion_proof(reader, i, n) for i, n in pairs])
    lookups = reader.lookups / (REPEAT * PROOFS)

    def verify_all() -> int:
        for (i, n), proof in zip(pairs, proofs, strict=True):
            verify_inclusion(hashes[i], i, n, proof, roots[n])
        return len(proofs)

    ver_s, _ = timed(verify_all)

    olds = [rng.randrange(1, LEAVES) for _ in range(PROOFS)]
    old_roots = {m: Frontier.from_reader(stored, m).root() for m in olds}
    reader.lookups = 0
    cgen_s, cproofs = timed(lambda: [consistency_proof(reader, m, LEAVES) for m in olds])
    clookups = reader.lookups / (REPEAT * PROOFS)

    def verify_consistency_all() -> int:
        for m, proof in zip(olds, cproofs, strict=True):
            verify_consistency(m, LEAVES, proof, old_roots[m], root)
        return len(cproofs)

    cver_s, _ = timed(verify_consistency_all)

    signer, verifier = generate_log_key("bench.example/log")
    checkpoint = Checkpoint("bench.example/log", LEAVES, root)
    sign_s, note = timed(lambda: [sign_checkpoint(checkpoint, signer) for _ in range(PROOFS)])
    open_s, _ = timed(lambda: [parse_and_verify(note[0], verifier) for _ in range(PROOFS)])

    per = 1e6 / PROOFS
    print(f"ledger core, {LEAVES:,} leaves of 200 bytes, median of {REPEAT} runs")
    print(f"{'measure':<40}{'value':>12}{'goal':>10}{'value/goal':>12}")
    rows = [
        ("leaf hashes of 1M entries (s)", hash_s, None),
        ("root of 1M leaf hashes (s)", root_s, GOAL_ROOT),
        ("frontier append 1M + store nodes (s)", append_s, None),
        ("inclusion proof generation (us)", gen_s * per, None),
        ("  stored-node lookups per proof", lookups, None),
        ("inclusion proof verification (us)", ver_s * per, GOAL_PROOF_US),
        ("consistency proof generation (us)", cgen_s * per, None),
        ("  stored-node lookups per proof", clookups, None),
        ("consistency proof verification (us)", cver_s * per, GOAL_PROOF_US),
        ("checkpoint sign (us)", sign_s * per, None),
        ("checkpoint parse + verify (us)", open_s * per, None),
    ]
    for label, value, goal in rows:
        ratio = f"{value / goal:>11.3f}x" if goal else ""
        goal_text = f"{goal:>10.1f}" if goal else f"{'':>10}"
        print(f"{label:<40}{value:>12.3f}{goal_text}{ratio}")


if __name__ == "__main__":
    main()
