"""A ledger read sees one state of the ledger from its first statement to its last, on both
backends: an append another process commits in between is not half-seen. (On PostgreSQL's
default isolation each statement saw the newest commit, and the kill -9 test caught an audit
reporting a healthy ledger as broken: "declares N entries but holds M".)"""

from __future__ import annotations

from pathlib import Path

from custos.ledger import LedgerEntry, generate_log_key
from custos.store import Store, ledger

SIGNER, VERIFIER = generate_log_key("custos-ledger/snapshot")


def _batch(start: int, count: int) -> list[LedgerEntry]:
    return [
        LedgerEntry("event", {"n": start + i}, "2026-11-28T04:00:00Z", "snapshot-test")
        for i in range(count)
    ]


def test_a_read_does_not_see_an_append_committed_during_it(store: Store, tmp_path: Path) -> None:
    store.ledger_append(_batch(0, 5), SIGNER)
    other = Store.open(store.url, tmp_path, environ={})
    try:
        with store.ledger_snapshot() as conn:
            declared = ledger.info(conn)
            assert declared is not None
            other.ledger_append(_batch(5, 3), SIGNER)  # committed while the read is open
            held = sum(1 for _ in ledger.stream_entries(conn))
            assert held == declared.size == 5
        assert store.ledger_audit(VERIFIER).ok
        info = store.ledger_info()
        assert info is not None
        assert info.size == 8
    finally:
        other.close()
