"""The on-disk format of catalog data files, validated with pydantic.

Two kinds of file live under `catalog/data/` (and under the user's catalog directory):

* a framework file (`format: custos-framework/1`): framework metadata plus its controls;
* a mapping file (`format: custos-mappings/1`): relationships between controls.

The format is documented for users in docs/catalog-format.md. These models are the edge of the
domain: the loader turns them into the frozen dataclasses of `custos.catalog.model`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

FRAMEWORK_FORMAT = "custos-framework/1"
MAPPING_FORMAT = "custos-mappings/1"

# A control id is `<framework prefix>:<reference>`: lowercase prefix segments, then a
# reference that may carry dots, dashes and colons (`owasp:LLM01:2025`, `atlas:AML.T0010.003`).
CONTROL_ID_RE = re.compile(r"^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)*:[A-Za-z0-9][A-Za-z0-9._:-]*$")
FRAMEWORK_ID_RE = r"^[a-z][a-z0-9-]*$"
PREFIX_RE = r"^[a-z][a-z0-9-]*(:[a-z0-9][a-z0-9-]*)*$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ControlId = Annotated[str, StringConstraints(pattern=CONTROL_ID_RE.pattern)]

Relationship = Literal["equal", "subset", "superset", "intersect", "no-relationship"]
"""NIST IR 8477 set-theory relationships, read as `source <relationship> target`.
`no-relationship` records, with a rationale, that a source has no counterpart (target: null)."""

Need = Literal["required", "recommended", "optional", "not-applicable"]
RiskTier = Literal["prohibited", "high", "limited", "minimal", "gpai"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KeyDate(_Strict):
    """A date that matters for a framework (e.g. when AI Act obligations apply)."""

    date: dt.date
    label: Text
    applies_to: list[ControlId] = Field(default_factory=list)
    note: str | None = None


class FrameworkMeta(_Strict):
    id: Annotated[str, StringConstraints(pattern=FRAMEWORK_ID_RE)]
    name: Text
    version: Text
    prefix: Annotated[str, StringConstraints(pattern=PREFIX_RE)]
    publisher: Text
    source_url: Text
    licence: Text
    attribution: Text
    description: str | None = None
    notice: str | None = None
    dates: list[KeyDate] = Field(default_factory=list)


class AttestationPrompt(_Strict):
    """What a person must state when a requirement cannot be checked automatically."""

    prompt: Text
    evidence_examples: list[Text] = Field(min_length=1)


class Verification(_Strict):
    """How a requirement is shown: automated checks by name and/or an attestation."""

    checks: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]] = Field(
        default_factory=list
    )
    attestation: AttestationPrompt | None = None

    @model_validator(mode="after")
    def _at_least_one_path(self) -> Verification:
        if not self.checks and self.attestation is None:
            raise ValueError("needs at least one automated check or an attestation prompt")
        return self


class TierApplicability(_Strict):
    """Default applicability of a requirement by EU AI Act risk tier."""

    prohibited: Need
    high: Need
    limited: Need
    minimal: Need
    gpai: Need


class ControlSpec(_Strict):
    """One node of a framework's tree: a group (theme, function, tactic...) or a control."""

    id: ControlId
    ref: Text
    title: Text
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")]
    group: bool = False
    parent: ControlId | None = None
    guidance: str | None = None
    statement: str | None = None
    rationale: str | None = None
    verification: Verification | None = None
    counters: list[ControlId] = Field(default_factory=list)
    applicability: TierApplicability | None = None
    attributes: dict[str, list[Text]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _complete(self) -> ControlSpec:
        if not self.group and not (self.guidance and self.guidance.strip()):
            raise ValueError("a control needs guidance (in Custos' own words)")
        if self.kind == "requirement":
            missing = [
                name
                for name in ("statement", "rationale", "verification", "applicability")
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(f"a requirement needs {', '.join(missing)}")
            if self.parent is None:
                raise ValueError("a requirement needs the parent control it extends")
        return self


class MappingSpec(_Strict):
    source: ControlId
    target: ControlId | None
    relationship: Relationship
    rationale: Text

    @model_validator(mode="after")
    def _target_matches_relationship(self) -> MappingSpec:
        if self.relationship == "no-relationship" and self.target is not None:
            raise ValueError("a no-relationship entry has target: null")
        if self.relationship != "no-relationship" and self.target is None:
            raise ValueError("target is required unless relationship is no-relationship")
        if self.source == self.target:
            raise ValueError("a control cannot map to itself")
        return self


class FrameworkFile(_Strict):
    format: Literal["custos-framework/1"]
    framework: FrameworkMeta
    controls: list[ControlSpec] = Field(min_length=1)


class MappingFile(_Strict):
    format: Literal["custos-mappings/1"]
    id: Annotated[str, StringConstraints(pattern=FRAMEWORK_ID_RE)]
    description: Text
    author: Text = "Custos"
    mappings: list[MappingSpec] = Field(min_length=1)
