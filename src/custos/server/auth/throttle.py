"""Login throttling: after too many failures within a window, a username (or a client address)
is locked until the window has passed since its latest failure.

The counts come from the `login_attempts` table, so every app process sees the same lockout.
Counting per username stops guessing one account from many addresses; per client address stops
spraying one password over many accounts. A success clears nothing: the window expires alone,
so an attacker cannot reset it by logging into an account of their own.

Starting a single sign-on (`/login/oidc`) is anonymous and stores a sign-in in flight, so it is
limited too: per client address in each process (`Bursts`, nothing written per request), and
in total by `oidc_pending_max` sign-ins in flight in the database, whatever the addresses.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    window: dt.timedelta = dt.timedelta(minutes=15)
    max_per_username: int = 5
    max_per_client: int = 20
    # Single sign-on starts per client address and process within `oidc_start_window`; a
    # person needs a few, and a flood from one address stops here.
    oidc_starts_per_client: int = 30
    oidc_start_window: dt.timedelta = dt.timedelta(minutes=10)
    # Sign-ins in flight (all addresses, all processes): bounds the table a flood could grow.
    oidc_pending_max: int = 10_000


@dataclass(frozen=True)
class Failures:
    """Failed attempts inside the window, and the latest one, per username and per client."""

    username_count: int
    username_last: dt.datetime | None
    client_count: int
    client_last: dt.datetime | None


def locked_until(failures: Failures, policy: ThrottlePolicy) -> dt.datetime | None:
    """When login is possible again, or None when it is possible now."""
    until: list[dt.datetime] = []
    if failures.username_count >= policy.max_per_username and failures.username_last:
        until.append(failures.username_last + policy.window)
    if failures.client_count >= policy.max_per_client and failures.client_last:
        until.append(failures.client_last + policy.window)
    return max(until) if until else None


class Bursts:
    """How often each key (a client address) acted within a window, in this process. Refused
    events are not counted, so a key holds at most `limit` timestamps; the least recently seen
    keys are forgotten beyond `keys`, so the memory stays bounded too."""

    def __init__(self, keys: int = 10_000) -> None:
        self.keys = keys
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, deque[dt.datetime]] = OrderedDict()

    def allow(self, key: str, now: dt.datetime, limit: int, window: dt.timedelta) -> bool:
        """Count one event for `key` and True, or False when `limit` are already in the window."""
        with self._lock:
            times = self._seen.setdefault(key, deque())
            self._seen.move_to_end(key)
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(now)
            while len(self._seen) > self.keys:
                self._seen.popitem(last=False)
            return True
