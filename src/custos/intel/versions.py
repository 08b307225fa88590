"""Version ordering and OSV range evaluation (the schema's "Evaluation" section).

Orderings: ECOSYSTEM ranges of PyPI use PEP 440 (`packaging.version.Version`: pre-, post- and
dev-releases, epochs, local versions); SEMVER ranges, and ECOSYSTEM ranges of the SemVer
ecosystems (npm, crates.io), use the small SemVer 2.0 comparator below (pre-release precedence
per section 11, build metadata ignored). GIT ranges need the repository's commit graph and are
ignored, as are ECOSYSTEM ranges of ecosystems without an ordering here; for those only the
explicit `versions` list counts. A version that does not parse in a range's ordering is
matched against the `versions` list only; a range whose own bounds do not parse is skipped.

Two forms of one rule: `in_range` walks a range's sorted events exactly as the schema's
pseudocode does (the reference), and `compile_range` turns a range into sorted intervals once,
for `custos.intel.index` to test many versions cheaply; tests/intel holds them equal.

Events at the same version sort introduced, fixed, last_affected, limit: an introduced and a
fixed at one version make an empty range, an introduced and a last_affected at one version
affect that version alone. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from operator import itemgetter
from typing import Any, Literal, NamedTuple, Protocol

from packaging.version import InvalidVersion, Version

from custos.intel.osv import Advisory, Affected, EventKind, Range, normalise_name

Ordering = Literal["pep440", "semver"]
ORDERINGS: tuple[Ordering, ...] = ("pep440", "semver")  # the order fixes are preferred in

# ECOSYSTEM ranges are in the ecosystem's own ordering; these are the ones known here. npm and
# crates.io are SemVer by rule. GitHub Actions tags ("v4") move, so they get no ordering.
ECOSYSTEM_ORDERING: dict[str, Ordering] = {"PyPI": "pep440", "npm": "semver",
                                           "crates.io": "semver"}  # fmt: skip
_RANK: dict[EventKind, int] = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


class Comparable(Protocol):
    """A parsed version, or one of the two extremes: totally ordered within one ordering."""

    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __gt__(self, other: Any, /) -> bool: ...
    def __ge__(self, other: Any, /) -> bool: ...


class _Extreme:
    """Below (or above) every version: `introduced: "0"` and a limit of "*". The reflected
    comparison makes `Version(...) < TOP` work, since Version defers to it."""

    __slots__ = ("_sign",)

    def __init__(self, sign: int) -> None:
        self._sign = sign

    def __lt__(self, other: Any, /) -> bool:
        return self._sign < 0 and other is not self

    def __le__(self, other: Any, /) -> bool:
        return self._sign < 0 or other is self

    def __gt__(self, other: Any, /) -> bool:
        return self._sign > 0 and other is not self

    def __ge__(self, other: Any, /) -> bool:
        return self._sign > 0 or other is self

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return hash(self._sign)

    def __repr__(self) -> str:
        return "BOTTOM" if self._sign < 0 else "TOP"


BOTTOM: Comparable = _Extreme(-1)
TOP: Comparable = _Extreme(1)

# SemVer 2.0 with two leniencies seen in advisories and lockfiles: a leading "v" and missing
# minor/patch ("1", "1.2" as 1.0.0, 1.2.0). Pre-release and build identifiers as the spec's.
_SEMVER = re.compile(
    r"v?(?P<major>[0-9]+)(?:\.(?P<minor>[0-9]+)(?:\.(?P<patch>[0-9]+))?)?"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


class SemVer:
    """A SemVer 2.0 version, ordered and equal by precedence (build metadata ignored)."""

    __slots__ = ("key", "text")

    def __init__(self, key: tuple[Any, ...], text: str) -> None:
        self.key = key  # (major, minor, patch, (1,) or (0, pre-release identifiers))
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    # NotImplemented lets BOTTOM and TOP answer through their reflected comparisons
    def __lt__(self, other: Any, /) -> bool:
        return self.key < other.key if isinstance(other, SemVer) else NotImplemented

    def __le__(self, other: Any, /) -> bool:
        return self.key <= other.key if isinstance(other, SemVer) else NotImplemented

    def __gt__(self, other: Any, /) -> bool:
        return self.key > other.key if isinstance(other, SemVer) else NotImplemented

    def __ge__(self, other: Any, /) -> bool:
        return self.key >= other.key if isinstance(other, SemVer) else NotImplemented

    def __repr__(self) -> str:
        return f"SemVer({self.text!r})"


def parse_semver(text: str) -> SemVer:
    """A SemVer 2.0 version; ValueError when it is not one."""
    found = _SEMVER.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a SemVer version: {text!r}")
    pre = found["pre"]
    # section 11: a pre-release sorts before its release; numeric identifiers compare as
    # numbers and below alphanumeric ones; a longer identifier list wins on an equal prefix
    # (tuples compare exactly so: (0, ids) < (1,), and (0, 1) < (1, "a")).
    if pre is None:
        tail: tuple[Any, ...] = (1,)
    else:
        ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
        tail = (0, ids)
    key = (int(found["major"]), int(found["minor"] or 0), int(found["patch"] or 0), tail)
    return SemVer(key, text)


def ordering(range_type: str, ecosystem: str) -> Ordering | None:
    """The ordering a range is evaluated in, or None when it cannot be evaluated here."""
    if range_type == "SEMVER":
        return "semver"
    if range_type == "ECOSYSTEM":
        return ECOSYSTEM_ORDERING.get(ecosystem)
    return None  # GIT, and types this schema version does not define


def parse_version(order: Ordering, text: str) -> Comparable | None:
    """`text` in an ordering, or None when it is not a version there."""
    try:
        if order == "pep440":
            return Version(text)
        return parse_semver(text)
    except (InvalidVersion, ValueError):
        return None


_BY_VERSION_THEN_RANK = itemgetter(0, 1)


class SortedRange(NamedTuple):
    """A range's events parsed once and sorted (version, then the rank above); its limits."""

    events: list[tuple[Comparable, int, EventKind, str]]  # (key, rank, kind, as written)
    limits: list[Comparable]


def sort_range(range_: Range, key: Callable[[str], Comparable | None]) -> SortedRange | None:
    """The range ready to evaluate, or None when one of its versions has no `key` (does not
    parse). `key` is the ordering's parser, or anything ordered as it is: the index passes
    integer ranks of pre-sorted versions."""
    events: list[tuple[Comparable, int, EventKind, str]] = []
    limits: list[Comparable] = []
    for event in range_.events:
        kind, text = event.kind, event.version
        if kind == "introduced" and text == "0":
            bound: Comparable | None = BOTTOM  # the schema's "sorts before any other version"
        elif kind == "limit" and "*" in text:
            bound = TOP  # the schema's infinity
        else:
            bound = key(text)
        if bound is None:
            return None
        if kind == "limit":
            limits.append(bound)
        else:
            events.append((bound, _RANK[kind], kind, text))
    if len(events) == 2:  # the usual introduced/fixed pair: one comparison, not a sort
        first, second = events
        if _BY_VERSION_THEN_RANK(second) < _BY_VERSION_THEN_RANK(first):
            events.reverse()
    elif len(events) > 2:
        events.sort(key=_BY_VERSION_THEN_RANK)
    return SortedRange(events, limits)


def parser(order: Ordering) -> Callable[[str], Comparable | None]:
    """`parse_version` in one ordering, as `sort_range` takes it."""
    return partial(parse_version, order)


def in_range(version: Comparable, sorted_range: SortedRange) -> bool:
    """The schema's IncludedInRanges for one range, step by step."""
    # BeforeLimits: no limit events means an implicit "*"
    if sorted_range.limits and not any(version < limit for limit in sorted_range.limits):
        return False
    vulnerable = False
    for key, _, kind, _text in sorted_range.events:
        if kind == "introduced" and version >= key:
            vulnerable = True
        elif kind == "fixed" and version >= key:  # noqa: SIM114 (the schema's own shape)
            vulnerable = False
        elif kind == "last_affected" and version > key:
            vulnerable = False
    return vulnerable


class Interval(NamedTuple):
    """Affected versions from `low` (inclusive; BOTTOM: no lower bound) to `high` (TOP: no
    upper bound), `high` itself included after a last_affected, excluded after a fixed.
    A named tuple: an index compiles a few hundred thousand of them."""

    low: Comparable
    high: Comparable
    high_inclusive: bool

    def holds(self, version: Comparable) -> bool:
        if version < self.low:
            return False
        return version <= self.high if self.high_inclusive else version < self.high


def compile_range(sorted_range: SortedRange) -> tuple[Interval, ...]:
    """The versions `in_range` calls affected, as disjoint intervals sorted by `low`.

    The walk leaves `vulnerable` as set by the last event (in sorted order) whose test passes,
    and the tests only change at event versions, so it is enough to know the state just before
    each distinct version X, at X, and just after X. At X the introduced and fixed events of X
    pass and its last_affected do not; just after X all of X's events pass, so the state is
    that of X's last event. A state that is false at X is false just after it, so intervals
    open only at an X itself (lows are inclusive)."""
    events = sorted_range.events
    out = _one_pair(events) if len(events) <= 2 else None
    if out is None:
        out = _walk(events)
    if sorted_range.limits:
        limit = max(sorted_range.limits)  # BeforeLimits: v < some limit, i.e. v < the largest
        out = [_clip(interval, limit) for interval in out if interval.low < limit]
    return tuple(out)


def _one_pair(events: list[tuple[Comparable, int, EventKind, str]]) -> list[Interval] | None:
    """The shapes of nearly every record (introduced, then fixed or last_affected, or
    introduced alone), without the general walk; None for any other shape."""
    if not events or events[0][2] != "introduced":
        return None
    low = events[0][0]
    if len(events) == 1:
        return [Interval(low, TOP, False)]
    high, kind = events[1][0], events[1][2]  # sorted: low <= high
    if kind == "fixed":
        return [] if low == high else [Interval(low, high, False)]  # equal: fixed wins
    if kind == "last_affected":
        return [Interval(low, high, True)]
    return None


def _walk(events: list[tuple[Comparable, int, EventKind, str]]) -> list[Interval]:
    state = any(kind == "introduced" and key is BOTTOM for key, _, kind, _t in events)
    low: Comparable = BOTTOM
    out: list[Interval] = []
    i = 0
    while i < len(events):
        key = events[i][0]
        if key is BOTTOM:
            i += 1
            continue
        j = i
        at = state
        while j < len(events) and events[j][0] == key:
            kind = events[j][2]
            if kind in ("introduced", "fixed"):
                at = kind == "introduced"
            j += 1
        after = events[j - 1][2] == "introduced"
        if not state and at:
            low = key
        elif state and not at:
            out.append(Interval(low, key, False))
        if at and not after:
            out.append(Interval(low, key, True))
        state = after
        i = j
    if state:
        out.append(Interval(low, TOP, False))
    return out


def _clip(interval: Interval, limit: Comparable) -> Interval:
    if interval.high < limit or (interval.high_inclusive is False and interval.high <= limit):
        return interval
    return Interval(interval.low, limit, False)


def in_intervals(version: Comparable, intervals: Sequence[Interval]) -> bool:
    """Whether a version is in one of `compile_range`'s intervals."""
    return any(interval.holds(version) for interval in intervals)


def _entries(advisory: Advisory, ecosystem: str, name: str) -> Iterable[Affected]:
    wanted = normalise_name(ecosystem, name)
    return (a for a in advisory.affected if a.ecosystem == ecosystem and a.name == wanted)


def in_versions(version: str, versions: Iterable[str], ecosystem: str) -> bool:
    """The schema's IncludedInVersions: string equality, and equality in the ecosystem's
    ordering when both parse (PEP 440 "1.0" is "1.0.0"; SemVer ignores build metadata)."""
    listed = tuple(versions)
    if version in listed:
        return True
    order = ECOSYSTEM_ORDERING.get(ecosystem)
    parsed = None if order is None else parse_version(order, version)
    if order is None or parsed is None:
        return False
    return any(parse_version(order, v) == parsed for v in listed)


def affected(advisory: Advisory, ecosystem: str, name: str, version: str) -> bool:
    """The schema's IsVulnerable for one package version; a withdrawn advisory affects
    nothing. `ecosystem` is compared exactly ("PyPI"), `name` after normalisation."""
    if advisory.withdrawn is not None:
        return False
    for entry in _entries(advisory, ecosystem, name):
        if in_versions(version, entry.versions, ecosystem):
            return True
        for range_ in entry.ranges:
            order = ordering(range_.type, ecosystem)
            if order is None:
                continue
            parsed = parse_version(order, version)
            ready = sort_range(range_, parser(order))
            if parsed is not None and ready is not None and in_range(parsed, ready):
                return True
    return False


def _fixes(advisory: Advisory, ecosystem: str, name: str
           ) -> list[tuple[Ordering, Comparable | None, str, bool]]:  # fmt: skip
    """Every fixed event of the package's ordered ranges: (ordering, parsed or None, as
    written, whether its range can be evaluated at all)."""
    found: list[tuple[Ordering, Comparable | None, str, bool]] = []
    for entry in _entries(advisory, ecosystem, name):
        for range_ in entry.ranges:
            order = ordering(range_.type, ecosystem)
            if order is None:
                continue  # a GIT fix is a commit, not a version to upgrade to
            evaluable = sort_range(range_, parser(order)) is not None
            found += [(order, parse_version(order, e.version), e.version, evaluable)
                      for e in range_.events if e.kind == "fixed"]  # fmt: skip
    return found


def fixed_versions(advisory: Advisory, ecosystem: str, name: str) -> list[str]:
    """The fixed events for a package, as written, once each, in version order (those that do
    not parse last, in record order)."""
    seen: set[str] = set()
    good: list[tuple[Ordering, Comparable, str]] = []
    bad: list[str] = []
    for order, key, text, _ in _fixes(advisory, ecosystem, name):
        if text in seen:
            continue
        seen.add(text)
        if key is None:
            bad.append(text)
        else:
            good.append((order, key, text))
    good.sort(key=lambda fix: (fix[0], fix[1]))  # versions of two orderings do not compare
    return [text for _, _, text in good] + bad


def first_fix_after(advisory: Advisory, ecosystem: str, name: str, version: str) -> str | None:
    """The smallest fixed version above `version` ("upgrade to 2.6.0"), or None. Fixes of
    ranges that cannot be evaluated do not count: nothing says they fix this version. Versions
    of two orderings do not compare: a PEP 440 fix is preferred to a SemVer one."""
    fixes = _fixes(advisory, ecosystem, name)
    for order in ORDERINGS:
        current = parse_version(order, version)
        above = [(key, text) for o, key, text, evaluable in fixes
                 if o == order and evaluable and key is not None and current is not None
                 and key > current]  # fmt: skip
        if above:
            return min(above, key=lambda fix: fix[0])[1]  # the first of equal ones, as written
    return None
