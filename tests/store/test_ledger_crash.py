"""Kill -9 during appends, 50 times per backend: after every kill the ledger verifies and holds
every batch the appender was told was durable."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

from custos.ledger import LedgerEntry, generate_log_key
from custos.store import Store

SIGNER, VERIFIER = generate_log_key("custos-ledger/crash")
KILLS = 50


def appender(url: str, base: str, acks: Connection) -> None:
    """Append batches forever; report each acknowledged (committed) size."""
    store = Store.open(url, Path(base), environ={})
    n = 0
    while True:
        batch = [
            LedgerEntry("event", {"n": n + i}, "2026-11-28T04:00:00Z", "crash-test")
            for i in range(random.randint(1, 300))
        ]
        appended = store.ledger_append(batch, SIGNER)
        n = appended.size
        acks.send(appended.size)


def test_kill_minus_nine_loop(store: Store, tmp_path: Path) -> None:
    url = store.url if "sqlite" not in store.url else f"sqlite:///{tmp_path / 'store.db'}"
    store.close()
    context = multiprocessing.get_context("fork")  # no re-import: a kill can land anywhere
    rng = random.Random(1234)
    acknowledged = 0
    for kill in range(KILLS):
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=appender, args=(url, str(tmp_path), send), daemon=True)
        child.start()
        send.close()
        time.sleep(rng.uniform(0.01, 0.25))
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        while receive.poll():
            try:
                acknowledged = max(acknowledged, receive.recv())
            except EOFError:
                break
        receive.close()
        checker = Store.open(url, tmp_path, environ={})
        try:
            result = checker.ledger_audit(VERIFIER)
            state = checker.ledger_info()
        finally:
            checker.close()
        if state is None:  # killed before its first commit: nothing was written, nor promised
            assert acknowledged == 0, f"after kill {kill}: acknowledged {acknowledged}, kept none"
            continue
        assert result.ok, f"after kill {kill}: {result.problems}"
        held = state.size if state else 0
        assert held >= acknowledged, f"after kill {kill}: acknowledged {acknowledged}, kept {held}"
    assert acknowledged > 0, "the appender never committed: the test killed nothing mid-write"
