"""Password hashing with argon2id (argon2-cffi), and the minimum a password must meet.

argon2-cffi's defaults follow RFC 9106's second recommended option (argon2id, t=3, m=64 MiB,
p=4). A hash made with older parameters is re-hashed on the next successful login.

Hashing is deliberately slow and memory hungry, and it runs in the request thread pool. So that
a flood of sign-ins cannot take every core, 64 MiB per attempt and every pool thread, each
process hashes at most `SLOTS.size` passwords at a time; a few more callers may wait briefly
for a slot, and anyone beyond that is turned away at once with `Busy` (answered 503).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 accepts more, but hashing megabytes on request is a denial of service

# One hash per core keeps the cores busy without oversubscribing them (argon2 releases the GIL).
CONCURRENT = max(2, os.cpu_count() or 2)
# Hashing (running or waiting) may hold at most this many request threads: half of the thread
# pool FastAPI runs sync routes in (anyio's default is 40), so other pages stay served.
HELD_MAX = max(CONCURRENT, 20)
WAIT_SECONDS = 10.0  # a queued caller waits for a slot this long at most (a slow host)

_HASHER = PasswordHasher(type=Type.ID)
# Verified when the username does not exist, so an unknown user costs as much as a wrong password.
_DUMMY = _HASHER.hash("custos-dummy-password-for-timing")

T = TypeVar("T")


class Busy(Exception):
    """Every hashing slot is taken and the queue is full (or the wait ran out): try later."""


class Slots:
    """At most `size` callers inside at once; up to `waiting` more wait, each `wait` seconds at
    most. `peak` is the most that were ever inside together (for tests and diagnosis)."""

    def __init__(self, size: int, waiting: int, wait: float) -> None:
        self.size = size
        self.waiting = waiting
        self.wait = wait
        self.peak = 0
        self._free = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._queued = 0
        self._inside = 0

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._free.acquire(blocking=False):
            self._queue()
        with self._lock:
            self._inside += 1
            self.peak = max(self.peak, self._inside)
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1
            self._free.release()

    def _queue(self) -> None:
        with self._lock:
            if self._queued >= self.waiting:
                raise Busy
            self._queued += 1
        try:
            acquired = self._free.acquire(timeout=self.wait)
        finally:
            with self._lock:
                self._queued -= 1
        if not acquired:
            raise Busy

    def run(self, work: Callable[[], T]) -> T:
        with self.held():
            return work()


SLOTS = Slots(CONCURRENT, HELD_MAX - CONCURRENT, WAIT_SECONDS)


def problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"the password must have at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password must have at most {MAX_LENGTH} characters"
    if not password.strip():
        return "the password must not be only spaces"
    return None


def hash_password(password: str) -> str:
    """The argon2id hash; raises Busy when the process is already hashing all it may."""
    return SLOTS.run(lambda: _HASHER.hash(password))


def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; with no stored hash, spends the same time and
    returns False. Raises Busy (before any work) when the process is hashing all it may."""
    if len(password) > MAX_LENGTH:
        return False
    return SLOTS.run(lambda: _verify(stored, password))


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored if stored is not None else _DUMMY, password) and (
            stored is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)
