"""Benchmark: the evidence ledger in the store, against the goals of the ledger issue.

  * durable appends per second, batches of 1000 (goal >= 100k/s): each batch is one
    transaction with its signed checkpoint, committed (fsync) before the next starts. Entry
    encoding (RFC 8785 JSON of a typical evidence payload) is timed apart, since callers may
    build entries in other threads or processes;
  * inclusion proof verification (goal <= 1 ms per proof), proofs served by the store;
  * full verification of the whole ledger (goal <= 10 s for 1M entries): every entry re-hashed,
    every checkpoint signature and root, as `custos ledger verify` does.

Run: .venv/bin/python benchmarks/ledger.py [--entries 1000000] [--db URL]
(default database: a fresh SQLite file under benchmarks/.data/)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

from custos.ledger import (
    LedgerEntry,
    generate_log_key,
    parse_and_verify,
    verifier_of,
    verify_inclusion,
)
from custos.store import Store

HERE = Path(__file__).resolve().parent
BATCH = 1000
PAYLOAD = {
    "scan": 41,
    "check": "model-file",
    "check_version": 1,
    "system": "fraud-scoring",
    "asset": "fraud-model",
    "result": "pass",
    "summary": "1 file(s) scanned, 0 finding(s) at medium or above",
    "controls": ["custos:ai:safe-model-serialization", "iso27002:2022:8.7"],
    "collected_at": "2026-11-28T04:00:00+00:00",
    "expires_at": "2027-02-26T04:00:00+00:00",
    "examined": [{"location": "models/fraud.joblib", "sha256": "ab" * 32, "size": 81234}],
    "findings": [],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    args = parser.parse_args()
    workdir = HERE / ".data" / "ledger"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    store = Store.open(args.db, workdir, environ={})
    store.ensure_current(auto_upgrade=True)
    signer, _ = generate_log_key("custos-ledger/benchmark")
    verifier = verifier_of(signer)

    encode = append = 0.0
    for start in range(0, args.entries, BATCH):
        began = time.perf_counter()
        batch = [
            LedgerEntry("evidence", {**PAYLOAD, "scan": n}, "2026-11-28T04:00:00Z", "ci")
            for n in range(start, min(start + BATCH, args.entries))
        ]
        middle = time.perf_counter()
        store.ledger_append(batch, signer)
        append += time.perf_counter() - middle
        encode += middle - began

    proofs = [store.ledger_prove(i) for i in range(0, args.entries, max(1, args.entries // 200))]
    root = parse_and_verify(proofs[0].checkpoint, verifier).root
    timings = []
    for proof in proofs:
        began = time.perf_counter()
        verify_inclusion(proof.leaf_hash, proof.index, proof.size, list(proof.path), root)
        timings.append(time.perf_counter() - began)

    began = time.perf_counter()
    result = store.ledger_audit(verifier)
    audit_seconds = time.perf_counter() - began
    assert result.ok, result.problems
    store.close()

    n = args.entries
    scale = n / 1_000_000
    rows = [
        ("durable appends/s (batches of 1000)", f"{n / append:,.0f}", ">= 100,000",
         n / append >= 100_000),
        ("  with entry encoding in the same thread", f"{n / (append + encode):,.0f}", "-", None),
        ("inclusion proof verification (median)", f"{statistics.median(timings) * 1e3:.3f} ms",
         "<= 1 ms", statistics.median(timings) <= 1e-3),
        ("inclusion proof verification (max)", f"{max(timings) * 1e3:.3f} ms", "<= 1 ms",
         max(timings) <= 1e-3),
        (f"full verification of {n:,} entries", f"{audit_seconds:.2f} s",
         f"<= {10 * scale:.1f} s", audit_seconds <= 10 * scale),
    ]  # fmt: skip
    print(f"ledger benchmark on {store.url} ({n:,} entries)")
    print(f"{'measure':<44}{'custos':>16}{'goal':>14}  met")
    for name, value, goal, met in rows:
        mark = "" if met is None else ("yes" if met else "NO")
        print(f"{name:<44}{value:>16}{goal:>14}  {mark}")


if __name__ == "__main__":
    main()
