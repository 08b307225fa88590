"""The finished assessment: what every report renders. Frozen data, no I/O.

Statuses are per (AI system, control). `basis` says how a status was reached:
- `direct`: from evidence, attestations or exclusions for that very control;
- `rollup`: an ISO 27002 control from the AI requirements that extend it (and any direct
  evidence);
- `mapping`: inferred through Custos' mappings into ISO 42001, the EU AI Act or the AI RMF.
Reports must keep `mapping` statuses visibly apart from shown ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from custos.catalog.ai_act import Obligation
from custos.checks.model import Evidence, Severity
from custos.provenance import ProvenanceKind

Status = Literal["implemented", "partial", "not_implemented", "not_applicable", "unknown"]
STATUSES: tuple[Status, ...] = (
    "implemented",
    "partial",
    "not_implemented",
    "unknown",
    "not_applicable",
)
Basis = Literal["direct", "rollup", "mapping"]
ReasonKind = Literal[
    "evidence", "attestation", "exclusion", "applicability", "rollup", "mapping", "missing"
]
Phase = Literal["0-30", "31-90", "91-180"]


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    text: str
    ref: str | None = None  # evidence "check@system/asset", attestation id, control id


@dataclass(frozen=True)
class ControlStatus:
    system: str
    control: str
    framework: str
    title: str
    status: Status
    reasons: tuple[Reason, ...]
    basis: Basis = "direct"
    via: tuple[str, ...] = ()


@dataclass(frozen=True)
class SystemSummary:
    id: str
    name: str
    purpose: str
    owner: str | None
    lifecycle: str
    role: str
    tier: str
    tier_derived: bool
    tier_reasons: tuple[str, ...]
    score: float  # percent of applicable Custos AI requirements met (partial counts half)
    framework_scores: Mapping[str, float]
    theme_scores: Mapping[str, float]  # ISO 27002 themes
    counts: Mapping[str, int]  # status -> number of controls (custos-ai + iso27002)
    # EU AI Act scoping (custos.catalog.ai_act): the regimes that stack, the operator's roles
    # (with those Art. 25 adds), and each obligation cited to its point with its date.
    regimes: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    obligations: tuple[Obligation, ...] = ()


@dataclass(frozen=True)
class RiskView:
    id: str
    title: str
    systems: tuple[str, ...]
    assets: tuple[str, ...]
    threats: tuple[str, ...]
    likelihood: int
    impact: int
    inherent: int
    inherent_level: str
    residual_likelihood: int
    residual_impact: int
    residual: int
    residual_level: str
    above_appetite: bool
    treatment: str
    controls: tuple[str, ...]
    open_controls: tuple[str, ...]  # chosen controls not yet implemented for its systems
    owner: str | None
    review_date: dt.date | None
    overdue: bool


@dataclass(frozen=True)
class SoAEntry:
    control: str
    framework: str
    title: str
    applicable: bool
    justification: tuple[str, ...]  # why applicable (risk / legal / contract / best practice)
    exclusion: str | None  # why not applicable
    status: Status  # worst status over the systems it applies to
    per_system: Mapping[str, Status]
    owner: str | None
    target_date: dt.date | None


@dataclass(frozen=True)
class Gap:
    system: str
    control: str
    framework: str
    title: str
    status: Status
    risk_score: int  # sum of residual scores of the risks that rely on this control
    risks: tuple[str, ...]
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class RoadmapItem:
    rank: int
    control: str
    title: str
    systems: tuple[str, ...]
    risks: tuple[str, ...]
    risk_reduction: int
    effort: int  # 1 (hours) .. 5 (a quarter), Custos' estimate
    owner: str | None
    phase: Phase
    start: dt.date
    due: dt.date


@dataclass(frozen=True)
class FindingView:
    system: str
    asset: str | None
    check: str
    rule: str
    severity: Severity
    message: str
    location: str
    controls: tuple[str, ...]
    provenance: ProvenanceKind = "local"  # of the evidence that reported it


@dataclass(frozen=True)
class AttestationView:
    id: str
    control: str
    systems: tuple[str, ...]
    author: str
    date: dt.date
    expires: dt.date | None
    valid: bool
    note: str


@dataclass(frozen=True)
class TrendPoint:
    at: dt.datetime
    score: float
    system_scores: Mapping[str, float]


@dataclass(frozen=True)
class AssessmentReport:
    generated_at: dt.datetime
    organisation: str
    scope: str
    custos_version: str
    overall_score: float
    systems: tuple[SystemSummary, ...]
    statuses: tuple[ControlStatus, ...]
    soa: tuple[SoAEntry, ...]
    gaps: tuple[Gap, ...]
    roadmap: tuple[RoadmapItem, ...]
    risks: tuple[RiskView, ...]
    findings: tuple[FindingView, ...]
    evidence: tuple[Evidence, ...]
    attestations: tuple[AttestationView, ...]
    framework_scores: Mapping[str, float]
    theme_scores: Mapping[str, float]
    risk_levels: tuple[tuple[str, int], ...]  # (level name, max score), ascending
    risk_appetite: int
    trend: tuple[TrendPoint, ...] = field(default_factory=tuple)
