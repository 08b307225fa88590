"""Group commit for the ledger: many threads append, one thread commits them in batches.

A server handling many requests should not pay one transaction and one signed checkpoint per
event. Each `append` waits until its entry is in a committed batch (durable), so an
acknowledged entry is never lost; while one batch commits, the next one collects. A failed batch
fails every entry in it, and nothing of it is stored.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import Self

from custos.errors import CustosError
from custos.ledger.entry import LedgerEntry
from custos.store.store import Store

_STOP = None


class LedgerWriter:
    def __init__(self, store: Store, signer: str, *, max_batch: int = 1000) -> None:
        self._store, self._signer, self._max_batch = store, signer, max_batch
        self._queue: queue.SimpleQueue[tuple[LedgerEntry, Future[int]] | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def submit(self, entry: LedgerEntry) -> Future[int]:
        """Queue an entry; the future gives its sequence number once it is committed."""
        if self._closed:
            raise CustosError("the ledger writer is closed")
        done: Future[int] = Future()
        self._queue.put((entry, done))
        return done

    def append(self, entry: LedgerEntry, timeout: float | None = 60) -> int:
        """Append and wait until durable; returns the entry's sequence number."""
        return self.submit(entry).result(timeout)

    def close(self) -> None:
        """Commit what is queued, then stop."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._commit([item for item in batch if item is not None])

    def _commit(self, batch: list[tuple[LedgerEntry, Future[int]]]) -> None:
        try:
            appended = self._store.ledger_append([entry for entry, _ in batch], self._signer)
        except BaseException as exc:  # every waiter learns why; the writer keeps serving
            for _, done in batch:
                done.set_exception(exc)
            return
        for offset, (_, done) in enumerate(batch):
            done.set_result(appended.first + offset)
