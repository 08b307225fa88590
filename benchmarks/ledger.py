"""Benchmark: the evidence ledger in the store, against the goals of issue 14.

Every figure is in-process wall time (time.perf_counter) unless it says "whole process".

  * "ledger appends incl. entry encoding, batch 1000, SQLite" (entries/s, goal >= 100k/s):
    building each `LedgerEntry` (RFC 8785 JSON of a typical ~600-byte evidence payload, which
    is where an entry is encoded) plus `Store.ledger_append` of the batch: one transaction
    with its signed checkpoint, committed (SQLite WAL, synchronous=FULL: an fsync) before the
    next batch starts. This is what a caller building entries on one thread gets.
  * "... excluding entry encoding" (no goal): `Store.ledger_append` alone, for callers that
    encode in other threads or processes.
  * "verify N entries" (s, goal <= 2 s for 1M): `Store.ledger_audit`, which `custos ledger
    verify` runs: every entry read back and re-hashed, the tree rebuilt, every checkpoint's
    signature and root checked. The SQLite file was just written, so it is in the OS page
    cache. The same run as a whole process (`custos ledger verify`, start-up included) is
    printed beside it without a goal.
  * "one inclusion proof" (ms, goal <= 0.05 ms): what an offline verifier does per entry, the
    leaf hash of the entry's bytes and `verify_inclusion` against the checkpoint's root (the
    checkpoint signature is checked once, outside the timing); the mean over every proof,
    each verified several times. The store serving one proof (`Store.ledger_prove`, a few
    indexed reads) is printed beside it without a goal. A proof for a wrong leaf must be
    refused, so a verifier that accepts anything cannot pass.
  * PostgreSQL (no goal): the same appends incl. encoding on a throwaway database created on
    the server given by `--postgres URL` (a maintenance database URL; default: try
    postgresql://postgres@127.0.0.1:5432/postgres) and dropped afterwards. Skipped, with a line
    on stderr, when no server answers.

Goals are stated for 1M entries; for any other size the labels say the size used and
`met` is None.

Run: .venv/bin/python benchmarks/ledger.py [--entries 1000000] [--quick] [--json]
     [--postgres URL | --no-postgres]
(--quick: 3,000 entries, a few seconds. The SQLite file lives under benchmarks/.data/, on
disk, not /tmp, which may be a tmpfs where an fsync costs nothing.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# `python benchmarks/ledger.py` puts this folder first on sys.path: the shared contract.
from figures import Figure, at_least, at_most, emit, log, report

from custos.ledger import (
    LedgerEntry,
    ProofError,
    generate_log_key,
    leaf_hash,
    parse_and_verify,
    verifier_of,
    verify_inclusion,
)
from custos.store import Store

BENCHMARK = "ledger"
HERE = Path(__file__).resolve().parent
BATCH = 1000
GOAL_SIZE = 1_000_000  # the goals are stated for a ledger of this many entries
QUICK_ENTRIES = 3_000
GOAL_APPENDS = 100_000  # entries/s
GOAL_VERIFY_S = 2.0
GOAL_PROOF_MS = 0.05
PROOFS = 200  # spread over the ledger
PROOF_PASSES = 5  # each proof verified this many times: a mean over 1,000 verifications
ORIGIN = "custos-ledger/benchmark"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
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


@dataclass(frozen=True)
class Appends:
    entries: int
    encode_s: float  # building the LedgerEntry objects (the RFC 8785 encoding)
    append_s: float  # Store.ledger_append: hashing, tree, rows, checkpoint, commit

    @property
    def with_encoding(self) -> float:
        return self.entries / (self.encode_s + self.append_s)

    @property
    def without_encoding(self) -> float:
        return self.entries / self.append_s


def append_all(store: Store, signer: str, entries: int, what: str) -> Appends:
    encode = append = 0.0
    for start in range(0, entries, BATCH):
        began = time.perf_counter()
        batch = [
            LedgerEntry("evidence", {**PAYLOAD, "scan": n}, "2026-11-28T04:00:00Z", "ci")
            for n in range(start, min(start + BATCH, entries))
        ]
        middle = time.perf_counter()
        store.ledger_append(batch, signer)
        append += time.perf_counter() - middle
        encode += middle - began
        if start and start % 100_000 == 0:
            log(f"  {what}: {start:,} entries appended")
    return Appends(entries, encode, append)


@dataclass(frozen=True)
class Proofs:
    verify_ms: float  # mean per proof, leaf hash + verify_inclusion
    serve_ms: float  # mean per Store.ledger_prove call
    count: int
    wrong_leaf_refused: bool


def proofs(store: Store, verifier: str, entries: int) -> Proofs:
    indexes = list(range(0, entries, max(1, entries // PROOFS)))
    began = time.perf_counter()
    served = [store.ledger_prove(i) for i in indexes]
    serve_s = time.perf_counter() - began
    datas = [store.ledger_entry(i) for i in indexes]
    checkpoint = parse_and_verify(served[0].checkpoint, verifier)
    root = checkpoint.root
    items = []
    for proof, data in zip(served, datas, strict=True):
        # every proof is to the latest checkpoint, and the bytes are the ones the store hashed
        assert data is not None
        assert proof.size == checkpoint.size
        assert proof.checkpoint == served[0].checkpoint
        assert leaf_hash(data) == proof.leaf_hash
        items.append((data, proof.index, proof.size, proof.path))
    began = time.perf_counter()
    for _ in range(PROOF_PASSES):
        for data, index, size, path in items:
            verify_inclusion(leaf_hash(data), index, size, path, root)
    verify_s = time.perf_counter() - began
    data, index, size, path = items[len(items) // 2]
    try:
        verify_inclusion(leaf_hash(data + b" "), index, size, path, root)
        refused = False
    except ProofError:
        refused = True
    return Proofs(
        verify_s * 1e3 / (PROOF_PASSES * len(items)),
        serve_s * 1e3 / len(indexes),
        len(items),
        refused,
    )


def cli_verify(store_url: str, workdir: Path, verifier: str) -> float:
    """`custos ledger verify` as a user runs it, whole process wall. The trust file goes to the
    work directory, so nothing is written to the user's state directory."""
    custos = Path(sys.executable).parent / "custos"
    args = [str(custos), "ledger", "verify", str(workdir), "--db", store_url, "--key", verifier,
            "--trust", str(workdir / "trust.json"), "--format", "json"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",)}
    env.pop("CUSTOS_DATABASE_URL", None)
    began = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - began
    try:
        ok = done.returncode == 0 and json.loads(done.stdout).get("ok") is True
    except ValueError:
        ok = False
    if not ok:  # Custos failing its own check is a broken benchmark, not a slow figure
        raise SystemExit(f"custos ledger verify failed (exit {done.returncode}):\n{done.stderr}")
    return seconds


def filesystem_of(path: Path) -> str:
    """The filesystem type the SQLite file sits on (tmpfs would make the fsyncs free)."""
    best, kind = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best):
                best, kind = fields[1], fields[2]
    except OSError:
        pass
    return kind


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A fresh database on `server`, dropped afterwards; yields its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"custos_bench_ledger_{os.getpid()}"
    with psycopg.connect(_libpq(server), autocommit=True, connect_timeout=3) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(server), autocommit=True, connect_timeout=3) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _libpq(url: str) -> str:
    """psycopg takes postgresql:// URLs, not SQLAlchemy's postgresql+psycopg://."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_reachable(server: str) -> str | None:
    """None when a server answers at `server`, else why not (one line)."""
    try:
        import psycopg

        with psycopg.connect(_libpq(server), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure means: no PostgreSQL to measure
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def postgres_version(server: str) -> str:
    import psycopg

    with psycopg.connect(_libpq(server), connect_timeout=3) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def postgres_appends(server: str, entries: int) -> Appends:
    with postgres_database(server) as url:
        store = Store.open(url, HERE, environ={})
        try:
            store.ensure_current(auto_upgrade=True)
            signer, _ = generate_log_key(ORIGIN)
            return append_all(store, signer, entries, "PostgreSQL")
        finally:
            store.close()


def size_label(n: int) -> str:
    return "1M" if n == GOAL_SIZE else f"{n:,}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--entries", type=int, help=f"default {GOAL_SIZE:,} ({QUICK_ENTRIES:,} with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="a run of a few seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help=f"PostgreSQL server to also measure appends on (default: {POSTGRES} if it "
        "answers); a throwaway database is created there and dropped",
    )
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    n = args.entries or (QUICK_ENTRIES if args.quick else GOAL_SIZE)
    judged = n == GOAL_SIZE  # the goals are for 1M entries: other sizes are not judged
    # PostgreSQL is looked for first: an unreachable --postgres fails before minutes of SQLite.
    server: str | None = None
    postgres_skipped = "--no-postgres" if args.no_postgres else ""
    if not args.no_postgres:
        why = postgres_reachable(args.postgres or POSTGRES)
        if why is not None and args.postgres:
            raise SystemExit(f"PostgreSQL at {args.postgres} not reachable: {why}")
        if why is None:
            server = args.postgres or POSTGRES
        else:
            postgres_skipped = f"no PostgreSQL at {POSTGRES} ({why})"
            log(f"skipping PostgreSQL: {postgres_skipped}; pass --postgres URL to measure it")

    (HERE / ".data").mkdir(exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="ledger-", dir=HERE / ".data"))
    try:
        store = Store.open(f"sqlite:///{workdir / 'ledger.db'}", workdir, environ={})
        store.ensure_current(auto_upgrade=True)
        signer, _ = generate_log_key(ORIGIN)
        verifier = verifier_of(signer)
        log(f"SQLite: appending {n:,} entries in batches of {BATCH}")
        sqlite = append_all(store, signer, n, "SQLite")
        log("SQLite: inclusion proofs")
        proven = proofs(store, verifier, n)
        log("SQLite: verifying the whole ledger in-process")
        began = time.perf_counter()
        audit = store.ledger_audit(verifier, origin=ORIGIN)
        audit_s = time.perf_counter() - began
        if not audit.ok or audit.entries != n:
            raise SystemExit(f"the ledger did not verify: {audit.problems}")
        store_url = store.url
        store.close()
        log("SQLite: `custos ledger verify` as a whole process")
        cli_s = cli_verify(store_url, workdir, verifier)
        filesystem = filesystem_of(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not proven.wrong_leaf_refused:
        raise SystemExit("verify_inclusion accepted a proof for a changed entry")

    postgres: Appends | None = None
    if server is not None:
        log(f"PostgreSQL: appending {n:,} entries in a throwaway database")
        postgres = postgres_appends(server, n)

    size = size_label(n)
    figures = [
        Figure(
            f"ledger appends incl. entry encoding, batch {BATCH}, SQLite (WAL, fsync per batch), "
            f"{size} entries, in-process wall",
            round(sqlite.with_encoding),
            "entries/s",
            goal=f">= {GOAL_APPENDS // 1000}k/s",
            met=at_least(sqlite.with_encoding, GOAL_APPENDS) if judged else None,
        ),
        Figure(
            f"ledger appends excluding entry encoding, batch {BATCH}, SQLite, {size} entries, "
            "in-process wall",
            round(sqlite.without_encoding),
            "entries/s",
        ),
        Figure(
            f"verify {size} entries (re-hash every entry, rebuild the tree, check every "
            "checkpoint), SQLite, in-process wall",
            round(audit_s, 3),
            "s",
            goal=f"<= {GOAL_VERIFY_S:g} s for 1M",
            met=at_most(audit_s, GOAL_VERIFY_S) if judged else None,
        ),
        Figure(
            f"verify {size} entries, `custos ledger verify` whole process wall",
            round(cli_s, 3),
            "s",
        ),
        Figure(
            f"one inclusion proof (leaf hash + path to the checkpoint root), in-process, mean "
            f"of {proven.count * PROOF_PASSES:,}",
            round(proven.verify_ms, 4),
            "ms",
            goal=f"<= {GOAL_PROOF_MS:g} ms",
            met=at_most(proven.verify_ms, GOAL_PROOF_MS) if judged else None,
        ),
        Figure(
            f"one inclusion proof served by the store (Store.ledger_prove, SQLite), in-process, "
            f"mean of {proven.count}",
            round(proven.serve_ms, 3),
            "ms",
        ),
    ]
    if postgres is not None:
        figures.append(
            Figure(
                f"ledger appends incl. entry encoding, batch {BATCH}, PostgreSQL (loopback), "
                f"{size} entries, in-process wall",
                round(postgres.with_encoding),
                "entries/s",
            )
        )
    extra: dict[str, Any] = {
        "entries": n,
        "batch": BATCH,
        "sqlite_filesystem": filesystem,
        "checkpoints_verified": audit.checkpoints,
        "wrong_leaf_refused": proven.wrong_leaf_refused,
        "postgres": None if postgres is None else {"entries": n, "encode_s": postgres.encode_s,
                                                   "append_s": postgres.append_s},
        "postgres_skipped": postgres_skipped or None,
        "sqlite": {"encode_s": sqlite.encode_s, "append_s": sqlite.append_s},
    }  # fmt: skip
    versions = {"sqlite": sqlite3.sqlite_version}
    if server is not None:
        versions["postgresql"] = postgres_version(server)
    result = report(BENCHMARK, figures, quick=args.quick, versions=versions, **extra)
    if args.json:
        emit(result)
        return
    print(f"ledger benchmark, {n:,} entries of about 600 bytes; " + ", ".join(
        f"{name} {v}" for name, v in result["versions"].items()
    ) + f"; the SQLite file on {filesystem}")  # fmt: skip
    print_table(figures)
    print(f"checkpoints verified: {audit.checkpoints:,}; a proof for a changed entry: refused")
    if postgres_skipped:
        print(f"PostgreSQL: skipped ({postgres_skipped})")
    if not judged:
        print(f"(goals are for {GOAL_SIZE:,} entries: not judged at {n:,})")


def print_table(figures: list[Figure]) -> None:
    width = max(len(f.figure) for f in figures)
    print(f"{'figure':<{width}}  {'custos':>12} {'unit':<9}  {'goal':<16}  met")
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        if f.custos is None:
            value = "-"
        else:
            value = f"{f.custos:,.4g}" if f.unit in ("ms", "s") else f"{f.custos:,.0f}"
        print(f"{f.figure:<{width}}  {value:>12} {f.unit:<9}  {f.goal or '-':<16}  {met}")


if __name__ == "__main__":
    main()
