"""Advisories indexed by package for fast matching of pinned dependencies.

Build (`Index(advisories)`), in three passes:

 1. group the advisories' affected entries by (ecosystem, normalised name) and gather every
    version string the ranges and explicit `versions` lists name, per ordering;
 2. parse each distinct string once, sort the versions, and give version number i the rank
    2i+1 (equal versions, "1.0" and "1.0.0", share one); the even ranks stand for the gaps
    between known versions, where a dependency's version that no advisory names falls;
 3. compile every range with `custos.intel.versions.compile_range` over those ranks (integers
    order exactly as the versions do, so the intervals are the same) and store each package's
    intervals contiguously, sorted by lower rank, in flat integer arrays; an explicit version
    that parses is one more interval, [rank, rank + 1).

Match: a dependency's version is ranked once (a dict hit, or one bisection of the sorted
versions) and tested only against its own package's intervals that start at or below it (one
bisection), in integer comparisons. Flat arrays of integers also keep the index out of the
cyclic garbage collector's way: a few arrays instead of hundreds of thousands of small objects
that every collection after the build would rescan.

The answers are those of `custos.intel.versions.affected` (tests/intel holds them equal).
Withdrawn advisories are left out; of two records with one id, the later `modified` wins. Only
dependencies with an exact `version` are matched: the caller reports unpinned ones. No I/O.
"""

from __future__ import annotations

import gc
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from custos.findings import Severity
from custos.intel.osv import Advisory, Affected, normalise_name
from custos.intel.versions import (
    BOTTOM,
    ECOSYSTEM_ORDERING,
    ORDERINGS,
    TOP,
    Comparable,
    Ordering,
    compile_range,
    ordering,
    parse_version,
    sort_range,
)

if TYPE_CHECKING:  # an annotation only: custos.repo.scan imports this module, not the reverse
    from custos.repo.model import Dependency


@dataclass(frozen=True, slots=True)
class Match:
    """One advisory affecting one pinned dependency."""

    dependency: Dependency
    advisory: str  # the OSV id, e.g. "GHSA-53q9-r3pm-6pq6"
    aliases: tuple[str, ...]  # e.g. ("CVE-2025-32434", "PYSEC-2025-41")
    severity: Severity
    summary: str
    fixed_in: str | None  # the smallest fixed version above the dependency's, if any


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What an index holds."""

    advisories: int  # indexed (withdrawn and superseded duplicates left out)
    withdrawn: int
    packages: int  # distinct (ecosystem, name)
    ecosystems: tuple[str, ...]
    newest_modified: datetime | None  # how fresh the data is
    unevaluated_ranges: int  # GIT ranges, unknown orderings, bounds that do not parse


class _Table:
    """One ordering: its known versions ranked, and every package's intervals and fixes in
    flat arrays (a package's share is a contiguous slice, see `Index._packages`)."""

    __slots__ = ("ats", "ends", "fix_ats", "fix_ranks", "fix_texts", "lows", "of", "order",
                 "sorted", "text", "top")  # fmt: skip

    def __init__(self, order: Ordering, texts: set[str]) -> None:
        self.order = order
        parsed = {text: parse_version(order, text) for text in texts}
        # a set first: equal versions are one key and share a rank
        self.sorted: list[Comparable] = sorted({k for k in parsed.values() if k is not None})
        self.of: dict[Comparable, int] = {key: 2 * i + 1 for i, key in enumerate(self.sorted)}
        self.top = 2 * len(self.sorted) + 1  # above the gap above the last known version
        # version string -> rank (None: not a version here): what pass 3 compiles with
        self.text: dict[str, int | None] = {
            text: None if key is None else self.of[key] for text, key in parsed.items()
        }
        self.lows = array("q")  # interval i: ranks lows[i] <= r < ends[i], advisory ats[i]
        self.ends = array("q")
        self.ats = array("q")  # indexes into Index._advisories
        self.fix_ranks = array("q")  # fixed events; a package's slice sorted by rank
        self.fix_ats = array("q")
        self.fix_texts: list[str] = []

    def rank(self, version: str) -> int | None:
        """A version's rank (a known string's, an equal version's, or its gap's); None when
        it is not a version in this ordering."""
        if version in self.text:
            return self.text[version]
        key = parse_version(self.order, version)
        if key is None:
            return None
        equal = self.of.get(key)
        return equal if equal is not None else 2 * bisect_left(self.sorted, key)

    def add(self, spans: list[tuple[int, int, int]], fixes: list[tuple[int, int, str, int]]
            ) -> tuple[int, int, int, int]:  # fmt: skip
        """Append one package's intervals and fixes, sorted; their slices."""
        start, fix_start = len(self.lows), len(self.fix_ranks)
        if spans:
            spans.sort()
            lows, ends, ats = zip(*spans, strict=True)  # columns, appended at C speed
            self.lows.extend(lows)
            self.ends.extend(ends)
            self.ats.extend(ats)
        if fixes:
            fixes.sort()
            ranks, _, texts, fix_ats = zip(*fixes, strict=True)
            self.fix_ranks.extend(ranks)
            self.fix_texts.extend(texts)
            self.fix_ats.extend(fix_ats)
        return start, len(self.lows), fix_start, len(self.fix_ranks)


_Group = list[tuple[int, Affected]]  # (advisory index, entry) of one package


class Index:
    """Advisories by package; `match` finds those affecting pinned dependencies."""

    def __init__(self, advisories: Iterable[Advisory]) -> None:
        latest: dict[str, Advisory] = {}
        for advisory in advisories:
            seen = latest.get(advisory.id)
            if seen is None or advisory.modified > seen.modified:
                latest[advisory.id] = advisory
        self._advisories: list[Advisory] = []
        self._withdrawn = 0
        self._unevaluated = 0
        self._newest: datetime | None = None
        # per package: its advisories (indexes into _advisories), and per ordering (in the
        # order of ORDERINGS) four numbers: the slice of its intervals and of its fixes
        self._packages: dict[tuple[str, str], tuple[tuple[int, ...], tuple[int, ...]]] = {}
        # explicit versions that are no version in the ecosystem's ordering: string equality
        self._listed: dict[tuple[str, str, str], tuple[int, ...]] = {}
        collecting = gc.isenabled()
        # the build makes and drops a few hundred thousand small acyclic objects: the cyclic
        # collector would rescan the whole heap several times meanwhile, finding nothing
        gc.disable()
        try:
            groups, texts = self._group(latest.values())
            self._tables = {order: _Table(order, texts[order]) for order in ORDERINGS}
            for name, group in groups.items():
                self._packages[name] = self._compile(name, group)
        finally:
            if collecting:
                gc.enable()

    def _group(self, advisories: Iterable[Advisory]
               ) -> tuple[dict[tuple[str, str], _Group], dict[Ordering, set[str]]]:  # fmt: skip
        """Pass 1: entries by package, and the version strings of each ordering."""
        groups: dict[tuple[str, str], _Group] = {}
        texts: dict[Ordering, set[str]] = {order: set() for order in ORDERINGS}
        for advisory in advisories:
            if advisory.withdrawn is not None:
                self._withdrawn += 1
                continue
            if self._newest is None or advisory.modified > self._newest:
                self._newest = advisory.modified
            at = len(self._advisories)
            self._advisories.append(advisory)
            for entry in advisory.affected:
                name = (entry.ecosystem, entry.name)
                group = groups.get(name)
                if group is None:
                    group = groups[name] = []
                group.append((at, entry))
                listed_order = ECOSYSTEM_ORDERING.get(entry.ecosystem)
                if entry.versions and listed_order is not None:
                    texts[listed_order].update(entry.versions)
                for range_ in entry.ranges:
                    order = ordering(range_.type, entry.ecosystem)
                    if order is not None:
                        texts[order].update([event.version for event in range_.events])
        return groups, texts

    def _compile(self, name: tuple[str, str], group: _Group
                 ) -> tuple[tuple[int, ...], tuple[int, ...]]:  # fmt: skip
        """Pass 3: one package's intervals and fixes into the tables; where they are."""
        spans: dict[Ordering, list[tuple[int, int, int]]] = {order: [] for order in ORDERINGS}
        fixes: dict[Ordering, list[tuple[int, int, str, int]]] = {o: [] for o in ORDERINGS}
        ats: dict[int, None] = {}  # the package's advisories, once each, in order
        for at, entry in group:
            ats[at] = None
            if entry.versions:
                self._add_listed(name, entry, at, spans)
            for range_ in entry.ranges:
                order = ordering(range_.type, entry.ecosystem)
                if order is None:
                    self._unevaluated += 1  # GIT, or an ecosystem without an ordering here
                    continue
                table = self._tables[order]
                # ranks in place of versions: every string is in table.text, nothing parses
                ready = sort_range(range_, table.text.__getitem__)
                if ready is None:
                    self._unevaluated += 1
                    continue
                out = spans[order]
                for low, high, inclusive in compile_range(ready):
                    # ints but for the extremes; an inclusive high ends one rank later
                    end = table.top if high is TOP else cast(int, high) + inclusive
                    out.append((-1 if low is BOTTOM else cast(int, low), end, at))
                found = fixes[order]
                for rank, _, kind, text in ready.events:
                    if kind == "fixed":
                        # equal fixes ("1" and "1.0") keep record order, as versions.py does
                        found.append((cast(int, rank), len(found), text, at))
        slices: list[int] = []
        for order in ORDERINGS:
            slices += self._tables[order].add(spans[order], fixes[order])
        return tuple(ats), tuple(slices)

    def _add_listed(self, name: tuple[str, str], entry: Affected, at: int,
                    spans: dict[Ordering, list[tuple[int, int, int]]]) -> None:  # fmt: skip
        """The schema's IncludedInVersions: a version that parses is the interval of its rank
        (so "1.0" also matches "1.0.0"), any other is compared as a string."""
        order = ECOSYSTEM_ORDERING.get(entry.ecosystem)
        ranks = {} if order is None else self._tables[order].text
        for text in entry.versions:
            rank = ranks.get(text)
            if rank is None or order is None:
                key = (*name, text)
                self._listed[key] = (*self._listed.get(key, ()), at)
            else:
                spans[order].append((rank, rank + 1, at))

    def match(self, deps: Iterable[Dependency]) -> list[Match]:
        """The advisories affecting each dependency that has an exact version, in dependency
        order, then by advisory id."""
        out: list[Match] = []
        for dep in deps:
            if not dep.version:
                continue  # unpinned: the caller reports these separately
            name = (dep.ecosystem, normalise_name(dep.ecosystem, dep.name))
            package = self._packages.get(name)
            if package is None:
                continue
            hits = self._hits(name, package[1], dep.version)
            for at in sorted(hits, key=lambda i: self._advisories[i].id):
                advisory = self._advisories[at]
                fixed_in = self._fix_after(package[1], at, hits[at])
                out.append(Match(dep, advisory.id, advisory.aliases, advisory.severity,
                                 advisory.summary, fixed_in))  # fmt: skip
        return out

    def _hits(self, name: tuple[str, str], slices: tuple[int, ...], version: str
              ) -> dict[int, dict[Ordering, int]]:  # fmt: skip
        """The advisories affecting `version`, each with the version's rank per ordering."""
        ranks: dict[Ordering, int] = {}
        hits: dict[int, dict[Ordering, int]] = {}
        for at in self._listed.get((*name, version), ()):
            hits[at] = ranks
        for n, order in enumerate(ORDERINGS):
            start, stop, fix_start, fix_stop = slices[4 * n : 4 * n + 4]
            if start == stop and fix_start == fix_stop:
                continue
            table = self._tables[order]
            rank = table.rank(version)
            if rank is None:
                continue  # not a version in this ordering: the string lists alone decide
            ranks[order] = rank
            lows, ends, ats = table.lows, table.ends, table.ats
            # only intervals whose low is <= rank can hold it; their ends decide
            for i in range(start, bisect_right(lows, rank, start, stop)):
                if rank < ends[i]:
                    hits[ats[i]] = ranks
        return hits

    def _fix_after(self, slices: tuple[int, ...], at: int, ranks: dict[Ordering, int]
                   ) -> str | None:  # fmt: skip
        """The smallest fixed version of advisory `at` above the dependency's."""
        for n, order in enumerate(ORDERINGS):
            rank = ranks.get(order)
            if rank is None:
                continue
            table = self._tables[order]
            _, _, fix_start, fix_stop = slices[4 * n : 4 * n + 4]
            for i in range(bisect_right(table.fix_ranks, rank, fix_start, fix_stop), fix_stop):
                if table.fix_ats[i] == at:
                    return table.fix_texts[i]
        return None

    def advisories_for(self, ecosystem: str, name: str) -> tuple[Advisory, ...]:
        """Every indexed advisory naming a package, whatever the version."""
        package = self._packages.get((ecosystem, normalise_name(ecosystem, name)))
        return () if package is None else tuple(self._advisories[at] for at in package[0])

    def stats(self) -> IndexStats:
        return IndexStats(
            advisories=len(self._advisories),
            withdrawn=self._withdrawn,
            packages=len(self._packages),
            ecosystems=tuple(sorted({ecosystem for ecosystem, _ in self._packages})),
            newest_modified=self._newest,
            unevaluated_ranges=self._unevaluated,
        )

    def __len__(self) -> int:
        return len(self._advisories)
