"""Small builders for the intel tests: an advisory from a compact list of events, a pinned
dependency, and the hand-written real advisories in `advisories/`.

The records in `advisories/` are written out by hand in the OSV format from the public
GitHub and PyPA advisories: ids, aliases, package names, summaries and fixed versions are the
real ones; timestamps, the CVSS vectors and the GIT commit of PYSEC-2021-142 are plausible
stand-ins, not copies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from custos.intel.osv import Advisory, Affected, Event, EventKind, Range, read
from custos.repo.model import Dependency

ADVISORIES = Path(__file__).parent / "advisories"
WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def events(*pairs: tuple[str, str]) -> tuple[Event, ...]:
    """("introduced", "0"), ("fixed", "1.0") ... as events."""
    out: list[Event] = []
    for kind, version in pairs:
        assert kind in ("introduced", "fixed", "last_affected", "limit")
        k: EventKind = kind  # type: ignore[assignment]
        out.append(Event(k, version))
    return tuple(out)


def advisory(
    *pairs: tuple[str, str],
    name: str = "pkg",
    ecosystem: str = "PyPI",
    type: str = "ECOSYSTEM",
    versions: tuple[str, ...] = (),
    id: str = "TEST-1",
    withdrawn: datetime | None = None,
    modified: datetime = WHEN,
) -> Advisory:
    """One advisory with one affected package and (when pairs are given) one range."""
    ranges = (Range(type, events(*pairs)),) if pairs else ()
    return Advisory(id=id, modified=modified, summary=f"{id} summary",
                    affected=(Affected(ecosystem, name, ranges, versions),),
                    withdrawn=withdrawn)  # fmt: skip


def dep(name: str, version: str | None, ecosystem: str = "PyPI") -> Dependency:
    spec = f"=={version}" if version else ">=1"
    return Dependency(name, spec, version, version is not None, False, ecosystem,  # type: ignore[arg-type]
                      Path("requirements.txt"), 1)  # fmt: skip


def real() -> list[Advisory]:
    """The hand-written real advisories, by file name."""
    return [read(path) for path in sorted(ADVISORIES.glob("*.json"))]
