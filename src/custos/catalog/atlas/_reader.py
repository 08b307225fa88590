"""The shared reading helpers of the ATLAS importer: constants, intermediate records, `Reader`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from custos.errors import DataError

Layout = Literal["v5", "v6"]

FRAMEWORK_ID = "mitre-atlas"
PREFIX = "atlas"
SITE = "https://atlas.mitre.org"
SUPPORTED_FORMAT_MAJOR = 6

TACTICS_GROUP = f"{PREFIX}:tactics"
TECHNIQUES_GROUP = f"{PREFIX}:techniques"
MITIGATIONS_GROUP = f"{PREFIX}:mitigations"

# What an ATLAS id may look like here: it must also be a valid Custos control reference.
_ATLAS_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass
class Tactic:
    ref: str
    name: str
    description: str
    attack_refs: list[str]


@dataclass
class Technique:
    ref: str
    name: str
    description: str
    parent: str | None
    tactics: list[str]
    attack_refs: list[str]
    maturity: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)


@dataclass
class Mitigation:
    ref: str
    name: str
    description: str
    techniques: list[str]
    categories: list[str]
    lifecycle: list[str]
    attack_refs: list[str]


@dataclass
class Atlas:
    layout: Layout
    version: str
    format_version: str | None
    tactics: list[Tactic] = field(default_factory=list)
    techniques: list[Technique] = field(default_factory=list)
    mitigations: list[Mitigation] = field(default_factory=list)


class Reader:
    """Shared helpers: every problem becomes a one-line `DataError` naming the file."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.seen: set[str] = set()

    def fail(self, message: str) -> DataError:
        return DataError(self.source, message)

    def mapping(self, value: object, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(f"{where} must be a mapping, not {kind(value)}")
        return value

    def sequence(self, value: object, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(f"{where} must be a list, not {kind(value)}")
        return value

    def text(self, obj: Mapping[str, Any], key: str, where: str) -> str:
        value = obj.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            if value is None:
                raise self.fail(f"{where} has no {key!r}")
            raise self.fail(f"{where} has a {key!r} that is {kind(value)}, not text")
        text = str(value).strip()
        if not text:
            raise self.fail(f"{where} has an empty {key!r}")
        return text

    def atlas_id(self, obj: Mapping[str, Any], where: str) -> str:
        ident = self.text(obj, "id", where)
        if not _ATLAS_ID_RE.match(ident):
            raise self.fail(f"{where} has an id {ident!r} that is not a valid ATLAS id")
        if ident in self.seen:
            raise self.fail(f"duplicate ATLAS id {ident!r} ({where})")
        self.seen.add(ident)
        return ident

    def object_type(self, obj: Mapping[str, Any], expected: str, where: str) -> None:
        actual = obj.get("object-type")
        if actual is not None and actual != expected:
            raise self.fail(f"{where} has object-type {actual!r}, expected {expected!r}")

    def description(self, obj: Mapping[str, Any], where: str) -> str:
        value = obj.get("description")
        if value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(f"{where} has a 'description' that is {kind(value)}, not text")
        return value

    def strings(self, value: object, where: str) -> list[str]:
        """A list of strings (a lone string counts as a list of one); blanks are dropped."""
        items = [value] if isinstance(value, str) else self.sequence(value, where)
        out: list[str] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.fail(f"{where} must hold text, found {kind(item)}")
            text = str(item).strip()
            if text:
                out.append(text)
        return unique(out)

    def attack_refs(self, obj: Mapping[str, Any], where: str) -> list[str]:
        value = obj.get("attack-reference", obj.get("ATT&CK-reference"))
        if value is None:
            return []
        entries = value if isinstance(value, list) else [value]
        refs: list[str] = []
        for entry in entries:
            if isinstance(entry, str):
                refs.append(entry.strip())
            elif isinstance(entry, Mapping) and entry.get("id") is not None:
                refs.append(str(entry["id"]).strip())
            else:
                raise self.fail(f"{where} has an ATT&CK reference without an id")
        return unique(r for r in refs if r)


def unique(items: Iterable[str]) -> list[str]:
    """Drop repeats, keeping the first occurrence."""
    return list(dict.fromkeys(items))


def kind(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"
