"""Inventory list pages as sent, kept per process while the inventory is unchanged.

A list page is a function of the inventory, the caller's visible systems and the query; the
inventory's write counter (store.inventory_store.generation, raised in the same transaction as
every write) says in one indexed read whether a kept page still holds. So a page is never
stale, on any process, and a page asked for again costs that one read instead of reading,
decoding, validating and serialising its rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

MAX_PAGES = 512


class ListCache:
    def __init__(self, size: int = MAX_PAGES) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._generation = -1
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, generation: int, key: Hashable, build: Callable[[], bytes]) -> bytes:
        """The page `key` at inventory `generation`, built when not kept. `build` must read
        the inventory in the transaction `generation` was read in (or a later one)."""
        with self._lock:
            if generation == self._generation and key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        body = build()
        with self._lock:
            if generation != self._generation:  # newer, or another database altogether
                self._generation = generation
                self._pages.clear()
            if generation == self._generation:
                self._pages[key] = body
                while len(self._pages) > self.size:
                    self._pages.popitem(last=False)
        return body

    def __len__(self) -> int:
        return len(self._pages)
