"""Token buckets per key, in process: `rate` tokens a second refill up to `burst`; a request
takes one. The same maths runs in Redis for several replicas (`redis_bucket`)."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Taken:
    allowed: bool
    retry_after: float  # seconds until one token is back (0 when allowed)


def refill(tokens: float, last: float, now: float, rate: float, burst: float) -> float:
    """Tokens at `now`, from `tokens` at `last`: never above the burst, never back in time."""
    return min(burst, tokens + max(0.0, now - last) * rate)


def take(tokens: float, rate: float, cost: float = 1.0) -> tuple[Taken, float]:
    """(the decision, the tokens left) for a request of `cost` tokens."""
    if tokens >= cost:
        return Taken(True, 0.0), tokens - cost
    return Taken(False, (cost - tokens) / rate if rate > 0 else float("inf")), tokens


class MemoryBuckets:
    """One bucket per key in this process (the event loop is single-threaded: no lock)."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, burst: float, now: float | None = None) -> Taken:
        now = time.monotonic() if now is None else now
        tokens, last = self._state.get(key, (burst, now))
        decision, left = take(refill(tokens, last, now, rate, burst), rate)
        self._state[key] = (left, now)
        return decision
