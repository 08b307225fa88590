"""OSV advisories (https://ossf.github.io/osv-schema/) as frozen data: `parse` turns one JSON
document into an `Advisory` (ValueError, naming the advisory and the field, when it is
malformed), `read` reads one `.json` file, and `iter_archive` streams the advisories of a
directory tree of `.json` files or of a zip such as OSV's per-ecosystem `all.zip`, member by
member in memory (never extracted to disk), skipping and tallying malformed members.

Only what matching and reporting need is kept: ids, summary, severity, dates, the affected
packages with their ranges and explicit versions, and the reference URLs. Package names are
normalised here (PEP 503 for PyPI) so that everything downstream compares names as strings.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

from custos.findings import Severity
from custos.intel.cvss import base_score, rating

EventKind = Literal["introduced", "fixed", "last_affected", "limit"]
EVENT_KINDS: tuple[EventKind, ...] = ("introduced", "fixed", "last_affected", "limit")
MAX_MEMBER_BYTES = 16 * 1024 * 1024  # an OSV record is a few kB; anything far larger is hostile

# GitHub's advisory database labels (database_specific.severity) and the usual synonyms.
_LABELS = {
    "CRITICAL": Severity.critical,
    "HIGH": Severity.high,
    "MODERATE": Severity.medium,
    "MEDIUM": Severity.medium,
    "LOW": Severity.low,
}
UNRATED = Severity.medium  # neither dropped by `--fail-on high` nor inflated to high
_SUMMARY_CHARS = 200
_PEP503 = re.compile(r"[-_.]+")


def normalise_name(ecosystem: str, name: str) -> str:
    """A package name as OSV records and lockfiles are compared: PEP 503 for PyPI (lower case,
    runs of `-_.` as one `-`), unchanged elsewhere (npm names are case-sensitive)."""
    if ecosystem == "PyPI":
        return _PEP503.sub("-", name).lower()
    return name


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a range's timeline, e.g. `{"fixed": "2.6.0"}`."""

    kind: EventKind
    version: str


@dataclass(frozen=True, slots=True)
class Range:
    """`affected[].ranges[]`: its type (SEMVER, ECOSYSTEM, GIT) and events as written."""

    type: str
    events: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class Affected:
    """One affected package: ecosystem exactly as OSV spells it ("PyPI"), normalised name."""

    ecosystem: str
    name: str
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Advisory:
    """One OSV record, reduced to what matching and reporting use."""

    id: str
    modified: datetime
    aliases: tuple[str, ...] = ()
    summary: str = ""  # `summary`, else the start of `details`
    severity: Severity = UNRATED  # from the CVSS v3 score, else the label, else UNRATED
    severity_label: str | None = None  # database_specific.severity as given, e.g. "MODERATE"
    cvss_vector: str | None = None  # the first CVSS vector given (v3 preferred; v4 kept as is)
    cvss_score: float | None = None  # the v3 base score computed from the vector
    published: datetime | None = None
    withdrawn: datetime | None = None
    affected: tuple[Affected, ...] = ()
    references: tuple[str, ...] = ()  # reference URLs, in the record's order

    @property
    def rated(self) -> bool:
        """Whether the record states a severity (a score or a label)."""
        return self.cvss_score is not None or self.severity_label in _LABELS


@dataclass
class ArchiveTally:
    """What `iter_archive` read: advisories yielded, and each malformed member with why."""

    advisories: int = 0
    malformed: list[tuple[str, str]] = field(default_factory=list)


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def _string(doc: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _fail(where, f"{key!r} must be a non-empty string" if required
                    else f"{key!r} must be a string")  # fmt: skip
    return value


def _list(doc: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(where, f"{key!r} must be a list")
    return value


def _strings(doc: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _list(doc, key, where)
    if not all(isinstance(v, str) for v in values):
        raise _fail(where, f"{key!r} must be a list of strings")
    return tuple(values)


def _timestamp(doc: Mapping[str, Any], key: str, where: str, *, required: bool = False
               ) -> datetime | None:  # fmt: skip
    value = doc.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _fail(where, f"{key!r} must be an RFC 3339 timestamp string")
    try:
        # 3.11's fromisoformat takes RFC 3339 ("Z", fractions); no offset is taken as UTC
        when = datetime.fromisoformat(value)
    except ValueError:
        raise _fail(where, f"{key!r} is not an RFC 3339 timestamp: {value!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _event(raw: Any, where: str) -> Event:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise _fail(where, "an event must be an object with exactly one of "
                    "introduced, fixed, last_affected, limit")  # fmt: skip
    ((kind, version),) = raw.items()
    if kind not in EVENT_KINDS:
        raise _fail(where, f"unknown event {kind!r}")
    if not isinstance(version, str) or not version:
        raise _fail(where, f"the {kind} version must be a non-empty string")
    return Event(kind, version)


def _range(raw: Any, where: str) -> Range:
    if not isinstance(raw, dict):
        raise _fail(where, "a range must be an object")
    kind = _string(raw, "type", where, required=True)
    events = tuple(_event(e, f"{where}.events[{i}]")
                   for i, e in enumerate(_list(raw, "events", where)))  # fmt: skip
    if not any(e.kind == "introduced" for e in events):
        # such a range never matches: rejecting the record surfaces it instead of hiding it
        raise _fail(where, "a range needs at least one introduced event")
    # fixed and last_affected in one range break a "should" of the schema, not evaluation
    return Range(kind, events)


def _affected(raw: Any, where: str) -> Affected | None:
    if not isinstance(raw, dict):
        raise _fail(where, "an affected entry must be an object")
    package = raw.get("package")
    ranges = tuple(_range(r, f"{where}.ranges[{i}]")
                   for i, r in enumerate(_list(raw, "ranges", where)))  # fmt: skip
    versions = _strings(raw, "versions", where)
    if package is None:
        return None  # allowed for GIT-only C/C++ records; nothing to match a name against
    if not isinstance(package, dict):
        raise _fail(where, "'package' must be an object")
    ecosystem = _string(package, "ecosystem", f"{where}.package", required=True)
    name = _string(package, "name", f"{where}.package", required=True)
    return Affected(ecosystem, normalise_name(ecosystem, name), ranges, versions)


def _severity_entries(doc: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for i, raw in enumerate(_list(doc, "severity", where)):
        at = f"{where}.severity[{i}]"
        if not isinstance(raw, dict):
            raise _fail(at, "a severity must be an object")
        entries.append((_string(raw, "type", at, required=True),
                        _string(raw, "score", at, required=True)))  # fmt: skip
    return entries


def _summary(doc: Mapping[str, Any], where: str) -> str:
    summary = _string(doc, "summary", where).strip()
    if summary:
        return summary
    details = _string(doc, "details", where).strip()
    first = details.split("\n\n", 1)[0].replace("\n", " ").strip()
    if len(first) > _SUMMARY_CHARS:
        first = first[: _SUMMARY_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return first


def parse(document: Any) -> Advisory:
    """One OSV JSON document (as `json.load` returns it) as an Advisory."""
    if not isinstance(document, dict):
        raise ValueError("an OSV record must be a JSON object")
    if not isinstance(document.get("id"), str) or not document["id"]:
        raise ValueError("OSV record: 'id' must be a non-empty string")
    where = str(document["id"])
    modified = _timestamp(document, "modified", where, required=True)
    assert modified is not None  # required=True
    affected: list[Affected] = []
    entries = _severity_entries(document, where)
    per_package: list[tuple[str, str]] = []
    for i, raw in enumerate(_list(document, "affected", where)):
        entry = _affected(raw, f"{where}: affected[{i}]")
        if entry is not None:
            affected.append(entry)
        if isinstance(raw, dict):
            per_package += _severity_entries(raw, f"{where}: affected[{i}]")
    # the schema allows per-package severities only when the top level has none
    entries = entries or per_package
    label = None
    specific = document.get("database_specific")
    if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
        label = specific["severity"].strip().upper() or None
    vector, score = _cvss(entries)
    if score is not None:
        severity = rating(score)
    elif label in _LABELS:
        severity = _LABELS[label]
    else:
        severity = UNRATED
    references = tuple(r["url"] for r in _list(document, "references", where)
                       if isinstance(r, dict) and isinstance(r.get("url"), str))  # fmt: skip
    return Advisory(
        id=where,
        modified=modified,
        aliases=_strings(document, "aliases", where),
        summary=_summary(document, where),
        severity=severity,
        severity_label=label,
        cvss_vector=vector,
        cvss_score=score,
        published=_timestamp(document, "published", where),
        withdrawn=_timestamp(document, "withdrawn", where),
        affected=tuple(affected),
        references=references,
    )


def _cvss(entries: list[tuple[str, str]]) -> tuple[str | None, float | None]:
    """The vector to show and the highest v3 base score among the entries. A v3 vector that
    does not compute is kept unscored (the label then decides) rather than failing the
    record: the ranges are what matter."""
    best: tuple[str, float] | None = None
    for kind, vector in entries:
        if kind != "CVSS_V3":  # v2 is obsolete; v4 needs FIRST's lookup tables: label instead
            continue
        try:
            score = base_score(vector)
        except ValueError:
            continue
        if best is None or score > best[1]:
            best = (vector, score)
    if best is not None:
        return best
    shown = next((v for k, v in entries if k.startswith("CVSS_")), None)
    return shown, None


def read(path: str | os.PathLike[str]) -> Advisory:
    """One `.json` OSV file; ValueError (with the path) when it is not a valid record."""
    data = Path(path).read_bytes()
    return _parse_bytes(data, str(path))


def _parse_bytes(data: bytes, where: str) -> Advisory:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{where}: not JSON ({exc})") from None
    except RecursionError:  # "[[[[..." deep enough to exhaust the parser's stack
        raise ValueError(f"{where}: not JSON (nested too deeply)") from None
    try:
        return parse(document)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def iter_archive(path: str | os.PathLike[str], tally: ArchiveTally | None = None
                 ) -> Iterator[Advisory]:  # fmt: skip
    """Every advisory of a directory tree of `.json` files (sorted walk, symlinked folders not
    followed), of a zip (members in archive order, each read into memory alone), or of one
    `.json` file. A malformed member is skipped and noted in `tally` (member, reason)."""
    root = Path(path)
    tally = tally if tally is not None else ArchiveTally()
    if root.is_dir():
        yield from _iter_tree(root, tally)
    elif zipfile.is_zipfile(root):
        yield from _iter_zip(root, tally)
    elif root.is_file() and root.suffix == ".json":
        yield from _counted(_read_member(lambda: _capped(root), str(root), tally), tally)
    else:
        raise ValueError(f"{root}: neither a directory, a zip nor a .json file")


def _counted(advisory: Advisory | None, tally: ArchiveTally) -> Iterator[Advisory]:
    if advisory is not None:
        tally.advisories += 1
        yield advisory


def _capped(file: Path) -> bytes:
    # one byte past the cap is enough to tell an oversized file
    with file.open("rb") as handle:
        return handle.read(MAX_MEMBER_BYTES + 1)


def _read_member(load: Callable[[], bytes], name: str, tally: ArchiveTally) -> Advisory | None:
    try:
        data = load()
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError, RuntimeError,
            NotImplementedError) as exc:  # fmt: skip  # corrupt, encrypted, unknown method
        tally.malformed.append((name, f"unreadable: {exc}"))
        return None
    if len(data) > MAX_MEMBER_BYTES:
        tally.malformed.append((name, f"larger than {MAX_MEMBER_BYTES} bytes"))
        return None
    try:
        return _parse_bytes(data, name)
    except ValueError as exc:
        tally.malformed.append((name, str(exc)))
        return None


def _iter_tree(root: Path, tally: ArchiveTally) -> Iterator[Advisory]:
    for folder, dirs, files in os.walk(root):
        dirs.sort()  # a deterministic order, whatever the file system's
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            file = Path(folder) / name
            shown = file.relative_to(root).as_posix()
            yield from _counted(_read_member(partial(_capped, file), shown, tally), tally)


def _iter_zip(path: Path, tally: ArchiveTally) -> Iterator[Advisory]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: not a readable zip ({exc})") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue

            def load(info: zipfile.ZipInfo = info) -> bytes:
                # read at most one byte past the cap: a zip bomb member costs no more than that
                with archive.open(info) as handle:
                    return handle.read(MAX_MEMBER_BYTES + 1)

            yield from _counted(_read_member(load, info.filename, tally), tally)
