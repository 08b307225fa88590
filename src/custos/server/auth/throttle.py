"""Login throttling: after too many failures within a window, a username (or a client address)
is locked until the window has passed since its latest failure.

The counts come from the `login_attempts` table, so every app process sees the same lockout.
Counting per username stops guessing one account from many addresses; per client address stops
spraying one password over many accounts. A success clears nothing: the window expires alone,
so an attacker cannot reset it by logging into an account of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ThrottlePolicy:
    window: dt.timedelta = dt.timedelta(minutes=15)
    max_per_username: int = 5
    max_per_client: int = 20


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
