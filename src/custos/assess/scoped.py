"""Manifest entries that cover every system or the systems they list, indexed for look-up.

Attestations and exclusions each name a control and, optionally, the systems they cover (none:
every system). Scanning them for each (system, control) the assessment asks about is quadratic
once an organisation has an entry per system (1,000 systems, each attesting a control), so they
are indexed once, keeping what a scan in manifest order would find.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from operator import itemgetter
from typing import Generic, TypeVar

T = TypeVar("T")


class Scoped(Generic[T]):
    """Entries added in manifest order, looked up by (system, control)."""

    def __init__(self) -> None:
        self._count = 0  # entries added so far: the manifest position of the next one
        self._everywhere: dict[str, list[tuple[int, T]]] = defaultdict(list)
        self._named: dict[tuple[str, str], list[tuple[int, T]]] = defaultdict(list)
        self._controls_named: dict[str, set[str]] = defaultdict(set)

    def add(self, control: str, systems: Sequence[str], item: T) -> None:
        position = self._count
        self._count += 1
        if not systems:
            self._everywhere[control].append((position, item))
        for system in dict.fromkeys(systems):  # a system listed twice is still covered once
            self._named[(system, control)].append((position, item))
            self._controls_named[system].add(control)

    def get(self, system: str, control: str) -> list[T]:
        """Every entry of the control covering the system, in manifest order."""
        everywhere = self._everywhere.get(control)
        named = self._named.get((system, control))
        if named is None or everywhere is None:
            return [item for _, item in named or everywhere or ()]
        # Positions are unique (an entry is in one list or the other), so items never compare.
        return [item for _, item in sorted([*everywhere, *named], key=itemgetter(0))]

    def first(self, system: str, control: str) -> T | None:
        """The first entry of the control covering the system in manifest order, if any."""
        everywhere = self._everywhere.get(control)
        named = self._named.get((system, control))
        if named is None or everywhere is None:
            found = named or everywhere
            return found[0][1] if found else None
        return min(everywhere[0], named[0], key=itemgetter(0))[1]

    def controls(self, system: str) -> set[str]:
        """The controls that have an entry covering the system."""
        return {*self._everywhere, *self._controls_named.get(system, ())}
