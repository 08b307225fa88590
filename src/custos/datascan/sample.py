"""Reservoir sampling over a stream (Li's Algorithm L): every item has the same chance to be
kept whatever its place, so a file sorted by customer or date is not judged by its head. The
skips between kept items are drawn, not walked item by item in Python, so a million rows cost
little more than reading them. Seeded: the same file gives the same sample."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
SEED = 27002


def reservoir(items: Iterable[T], k: int | None, seed: int = SEED) -> tuple[list[T], int]:
    """(up to `k` items chosen uniformly, in their original order; how many items there were).
    `k` None keeps every item."""
    if k is None:
        everything = list(items)
        return everything, len(everything)
    numbered = enumerate(items)
    kept = list(islice(numbered, k))
    if len(kept) < k:
        return [item for _, item in kept], len(kept)
    rng = random.Random(seed)  # noqa: S311 (a uniform, repeatable sample; not a secret)
    total = k
    w = math.exp(math.log(rng.random() or 1e-300) / k)
    while True:
        skip = math.floor(math.log(rng.random() or 1e-300) / math.log(1 - w)) if w < 1 else 0
        passed = deque(islice(numbered, skip), maxlen=1)  # skipped in C, the last one kept
        if passed:
            total = passed[0][0] + 1
        following = next(numbered, None)
        if following is None:
            break
        total = following[0] + 1
        kept[rng.randrange(k)] = following
        w *= math.exp(math.log(rng.random() or 1e-300) / k)
    kept.sort(key=lambda pair: pair[0])
    return [item for _, item in kept], total
