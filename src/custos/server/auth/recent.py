"""Who a credential belonged to a moment ago, so a burst of requests with one API token or
session does not read the same three rows for each request.

An entry lives `ttl` seconds of real time and as long on the app's clock (tests move that
clock to expire sessions and tokens). Each process forgets everything after any
state-changing request it serves (revoking a token, logging out, changing a password or a
binding), so a change is seen at once by the process that made it and within `ttl` by the
others. Keys are the credential's SHA-256, never the secret.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict

TTL_SECONDS = 1.0
MAX_ENTRIES = 4096


class Recent:
    def __init__(self, ttl: float = TTL_SECONDS, size: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.size = size
        self._lock = threading.Lock()
        self._held: OrderedDict[bytes, tuple[float, dt.datetime, object]] = OrderedDict()

    def get(self, key: bytes, now: dt.datetime) -> object | None:
        if self.ttl <= 0:
            return None
        with self._lock:
            found = self._held.get(key)
            if found is None:
                return None
            at, app_at, value = found
            age = dt.timedelta(seconds=self.ttl)
            if time.monotonic() - at < self.ttl and app_at <= now < app_at + age:
                return value
            del self._held[key]
            return None

    def put(self, key: bytes, now: dt.datetime, value: object) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._held[key] = (time.monotonic(), now, value)
            self._held.move_to_end(key)
            while len(self._held) > self.size:
                self._held.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()

    def __len__(self) -> int:
        return len(self._held)
