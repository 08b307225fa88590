"""Benchmark: the ledger's pure core (custos.ledger: Merkle tree, proofs, checkpoints) at one
million leaves, no database. A separate script from benchmarks/ledger.py, which measures the
store; this one shows what the core costs on its own.

Every figure is in-process wall time (time.perf_counter), the median of 3 runs, on 1M random
200-byte leaves held in memory:

  * leaf hashes of every entry (no goal);
  * "Merkle root of 1M leaf hashes" (`root_of`, goal <= 2 s);
  * the incremental frontier appending every leaf in batches of 10,000, collecting every node
    a store would persist (no goal);
  * inclusion and consistency proof generation from those stored nodes (per proof, with the
    node lookups a database would answer; no goal);
  * "one inclusion proof verification" (`verify_inclusion` with the leaf hash given, mean of
    1,000 proofs, goal <= 0.05 ms as in issue 14) and one consistency proof verification (mean
    of 1,000, goal <= 1 ms, the ledger issue's);
  * checkpoint signing and parse + signature check (per checkpoint; no goal).

Goals are stated for 1M leaves; `--quick` (20,000 leaves, 200 proofs, one run) says the size in
each label and leaves `met` None.

Run: .venv/bin/python benchmarks/ledger_core.py [--quick] [--json]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from typing import TypeVar

# `python benchmarks/ledger_core.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_most, emit, log, report

from custos.ledger.checkpoint import (
    Checkpoint,
    generate_log_key,
    parse_and_verify,
    sign_checkpoint,
)
from custos.ledger.merkle import Frontier, leaf_hash, root_of
from custos.ledger.proofs import (
    MemoryNodes,
    ProofError,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

BENCHMARK = "ledger-core"
GOAL_SIZE = 1_000_000
QUICK_LEAVES = 20_000
GOAL_ROOT_S = 2.0
GOAL_INCLUSION_MS = 0.05
GOAL_CONSISTENCY_MS = 1.0
FRONTIER_BATCH = 10_000  # as a store would commit them
T = TypeVar("T")


def timed(repeat: int, work: Callable[[], T]) -> tuple[float, T]:
    """Median seconds of `repeat` runs, and the last result."""
    samples, result = [], None
    for _ in range(repeat):
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a run of a few seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    leaves = QUICK_LEAVES if args.quick else GOAL_SIZE
    count = 200 if args.quick else 1000  # proofs and checkpoints per measure
    repeat = 1 if args.quick else 3
    judged = leaves == GOAL_SIZE

    rng = random.Random(42)
    log(f"{leaves:,} leaves of 200 bytes")
    data = [rng.randbytes(200) for _ in range(leaves)]
    hash_s, hashes = timed(repeat, lambda: [leaf_hash(d) for d in data])
    root_s, root = timed(repeat, lambda: root_of(hashes))

    def build() -> tuple[Frontier, MemoryNodes]:
        frontier, stored = Frontier(), MemoryNodes()
        for start in range(0, leaves, FRONTIER_BATCH):
            frontier, nodes = frontier.append(hashes[start : start + FRONTIER_BATCH])
            stored.add(nodes)
        return frontier, stored

    log("frontier")
    append_s, (frontier, stored) = timed(repeat, build)
    assert frontier.root() == root  # the two ways to the root agree, or nothing here means much

    log("inclusion proofs")
    reader = CountingReader(stored)
    pairs = [
        (rng.randrange(leaves), leaves - rng.randrange(min(1000, leaves))) for _ in range(count)
    ]
    pairs = [(min(i, n - 1), n) for i, n in pairs]
    roots = {n: Frontier.from_reader(stored, n).root() for _, n in pairs}
    gen_s, proofs = timed(repeat, lambda: [inclusion_proof(reader, i, n) for i, n in pairs])
    lookups = reader.lookups / (repeat * count)

    def verify_all() -> int:
        for (i, n), proof in zip(pairs, proofs, strict=True):
            verify_inclusion(hashes[i], i, n, proof, roots[n])
        return len(proofs)

    ver_s, _ = timed(repeat, verify_all)
    i, n = pairs[0]
    try:  # a verifier that accepts anything would be fast: it must refuse a wrong leaf
        verify_inclusion(leaf_hash(b"not the entry"), i, n, proofs[0], roots[n])
        raise SystemExit("verify_inclusion accepted a proof for a wrong leaf")
    except ProofError:
        pass

    log("consistency proofs")
    olds = [rng.randrange(1, leaves) for _ in range(count)]
    old_roots = {m: Frontier.from_reader(stored, m).root() for m in olds}
    reader.lookups = 0
    cgen_s, cproofs = timed(repeat, lambda: [consistency_proof(reader, m, leaves) for m in olds])
    clookups = reader.lookups / (repeat * count)

    def verify_consistency_all() -> int:
        for m, proof in zip(olds, cproofs, strict=True):
            verify_consistency(m, leaves, proof, old_roots[m], root)
        return len(cproofs)

    cver_s, _ = timed(repeat, verify_consistency_all)

    log("checkpoints")
    signer, verifier = generate_log_key("bench.example/log")
    checkpoint = Checkpoint("bench.example/log", leaves, root)
    sign_s, notes = timed(
        repeat, lambda: [sign_checkpoint(checkpoint, signer) for _ in range(count)]
    )
    open_s, _ = timed(repeat, lambda: [parse_and_verify(notes[0], verifier) for _ in range(count)])

    size = "1M" if judged else f"{leaves:,}"
    how = f"in-process, median of {repeat}" if repeat > 1 else "in-process, one run"
    per = 1e3 / count  # seconds for `count` operations -> ms for one
    figures = [
        Figure(f"leaf hashes of {size} 200-byte entries, {how}", round(hash_s, 3), "s"),
        Figure(
            f"Merkle root of {size} leaf hashes (root_of), {how}",
            round(root_s, 3),
            "s",
            goal=f"<= {GOAL_ROOT_S:g} s for 1M",
            met=at_most(root_s, GOAL_ROOT_S) if judged else None,
        ),
        Figure(
            f"frontier append of {size} leaves in batches of {FRONTIER_BATCH:,}, nodes kept, {how}",
            round(append_s, 3),
            "s",
        ),
        Figure(
            f"one inclusion proof generated from stored nodes, tree of {size}, mean of {count}, "
            f"{how}",
            round(gen_s * per, 4),
            "ms",
        ),
        Figure(
            f"stored-node lookups per inclusion proof, tree of {size}", round(lookups, 2), "lookups"
        ),
        Figure(
            f"one inclusion proof verification (verify_inclusion, leaf hash given), tree of "
            f"{size}, mean of {count}, {how}",
            round(ver_s * per, 4),
            "ms",
            goal=f"<= {GOAL_INCLUSION_MS:g} ms",
            met=at_most(ver_s * per, GOAL_INCLUSION_MS) if judged else None,
        ),
        Figure(
            f"one consistency proof generated from stored nodes, tree of {size}, mean of "
            f"{count}, {how}",
            round(cgen_s * per, 4),
            "ms",
        ),
        Figure(
            f"stored-node lookups per consistency proof, tree of {size}",
            round(clookups, 2),
            "lookups",
        ),
        Figure(
            f"one consistency proof verification, tree of {size}, mean of {count}, {how}",
            round(cver_s * per, 4),
            "ms",
            goal=f"<= {GOAL_CONSISTENCY_MS:g} ms",
            met=at_most(cver_s * per, GOAL_CONSISTENCY_MS) if judged else None,
        ),
        Figure(f"checkpoint sign (Ed25519), mean of {count}, {how}", round(sign_s * per, 4), "ms"),
        Figure(
            f"checkpoint parse + signature check, mean of {count}, {how}",
            round(open_s * per, 4),
            "ms",
        ),
    ]
    result = report(
        BENCHMARK,
        figures,
        quick=args.quick,
        leaves=leaves,
        proofs=count,
        repeat=repeat,
        wrong_leaf_refused=True,
    )
    if args.json:
        emit(result)
        return
    print(f"ledger core, {leaves:,} leaves of 200 bytes")
    print_table(figures)
    if not judged:
        print(f"(goals are for {GOAL_SIZE:,} leaves: not judged at {leaves:,})")


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.figure) for f in figures)
    print(f"{'figure':<{width}}  {'custos':>10} {'unit':<8}  {'goal':<14}  met")
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        value = "-" if f.custos is None else f"{f.custos:,.4g}"
        print(f"{f.figure:<{width}}  {value:>10} {f.unit:<8}  {f.goal or '-':<14}  {met}")


if __name__ == "__main__":
    main()
