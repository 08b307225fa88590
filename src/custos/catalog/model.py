"""The catalog's domain objects: frameworks, controls and mappings (frozen, no I/O)."""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NewType

ControlId = NewType("ControlId", str)
FrameworkId = NewType("FrameworkId", str)
Relationship = Literal["equal", "subset", "superset", "intersect", "no-relationship"]
Origin = Literal["shipped", "user"]


@dataclass(frozen=True)
class AttestationPrompt:
    prompt: str
    evidence_examples: tuple[str, ...]


@dataclass(frozen=True)
class Verification:
    checks: tuple[str, ...]
    attestation: AttestationPrompt | None


@dataclass(frozen=True)
class Control:
    """A node of a framework: a group (theme, tactic...) or a control / requirement."""

    id: ControlId
    framework: FrameworkId
    ref: str
    title: str
    kind: str
    group: bool = False
    parent: ControlId | None = None
    guidance: str | None = None
    statement: str | None = None
    rationale: str | None = None
    verification: Verification | None = None
    counters: tuple[ControlId, ...] = ()
    applicability: MappingType[str, str] = field(default_factory=dict)
    attributes: MappingType[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyDate:
    date: str
    label: str
    applies_to: tuple[ControlId, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class Framework:
    id: FrameworkId
    name: str
    version: str
    prefix: str
    publisher: str
    source_url: str
    licence: str
    attribution: str
    description: str | None
    notice: str | None
    dates: tuple[KeyDate, ...]
    control_ids: tuple[ControlId, ...]
    origin: Origin
    path: Path

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Mapping:
    """`source <relationship> target`, in NIST IR 8477 terms; target None = no counterpart."""

    source: ControlId
    target: ControlId | None
    relationship: Relationship
    rationale: str
    mapping_set: str
