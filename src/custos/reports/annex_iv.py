"""The technical documentation of EU AI Act Annex IV for one AI system, filled from what Custos
knows: the manifest (purpose, assets, roles), the assessment (statuses, evidence of every
check, attestations, risks, the SoA) and the ledger's recorded events. Each of the nine
sections lists what is there, with its source, and every gap with how to fill it. No I/O here;
the renderers are in annex_iv_render.

Section titles are Custos' summaries of Annex IV's points, not the Act's wording.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from custos.assess.model import AssessmentReport, ControlStatus, SystemSummary
from custos.checks.model import Evidence
from custos.inventory.schema import AISystem

TITLES = (
    "General description of the AI system",
    "Its elements and how it was developed",
    "Monitoring, functioning and control",
    "Appropriateness of the performance metrics",
    "Risk management system (Art. 9)",
    "Changes made through the life cycle",
    "Standards and specifications applied",
    "EU declaration of conformity (Art. 47)",
    "Post-market monitoring (Art. 72)",
)


@dataclass(frozen=True)
class Entry:
    label: str
    text: str
    source: str  # where it comes from: "custos.yaml", "check model-file@sys/asset", ...


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    entries: tuple[Entry, ...]
    gaps: tuple[str, ...]


@dataclass(frozen=True)
class AnnexIV:
    system: str
    name: str
    generated_at: dt.datetime
    applies: str  # whether Annex IV is this system's duty, and why
    sections: tuple[Section, ...]

    @property
    def gaps(self) -> list[tuple[int, str]]:
        return [(s.number, g) for s in self.sections for g in s.gaps]


@dataclass(frozen=True)
class _Ctx:
    """What every section reads: the system's part of the assessment."""

    report: AssessmentReport
    system: AISystem
    summary: SystemSummary
    evidence: list[Evidence]
    statuses: dict[str, ControlStatus]
    events: Sequence[tuple[dt.datetime, str]]


@dataclass
class _Build:
    entries: list[Entry] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    def add(self, label: str, text: str, source: str) -> None:
        self.entries.append(Entry(label, text, source))


def build(
    report: AssessmentReport,
    system: AISystem,
    events: Sequence[tuple[dt.datetime, str]] = (),
) -> AnnexIV:
    """Annex IV for `system` from the assessment; `events`: the ledger's recorded training and
    deployment events of the system (when, what), oldest first."""
    summary = next(s for s in report.systems if s.id == system.id)
    c = _Ctx(
        report, system, summary, [e for e in report.evidence if e.system == system.id],
        {s.control: s for s in report.statuses if s.system == system.id}, events,
    )  # fmt: skip
    makers = (
        _general, _development, _operation, _metrics, _risks, _changes, _standards,
        _declaration, _post_market,
    )  # fmt: skip
    sections = []
    for number, (title, make) in enumerate(zip(TITLES, makers, strict=True), start=1):
        part = _Build()
        make(part, c)
        sections.append(Section(number, title, tuple(part.entries), tuple(part.gaps)))
    return AnnexIV(system.id, system.name, report.generated_at, _applies(summary), tuple(sections))


def _applies(summary: SystemSummary) -> str:
    high = [r for r in summary.regimes if r.startswith("high-risk")]
    if high and "provider" in summary.roles:
        return (
            f"Annex IV applies: the operator is the provider of a high-risk system "
            f"({', '.join(high)}; Art. 11(1))."
        )
    if high:
        return (
            "The provider draws up Annex IV (Art. 11(1)); as "
            f"{' and '.join(summary.roles)}, keep this as the information you rely on."
        )
    return (
        f"Annex IV is a duty for providers of high-risk systems; this system is "
        f"{summary.tier}. Kept here as good practice."
    )


def _check(evidence: Sequence[Evidence], check: str) -> list[Evidence]:
    return [e for e in evidence if e.check == check]


def _ref(e: Evidence) -> str:
    return f"check {e.check}@{e.system}/{e.asset}" if e.asset else f"check {e.check}@{e.system}"


def _evidence_lines(
    part: _Build, evidence: Sequence[Evidence], check: str, label: str, missing: str
) -> None:
    # "Not applicable" (no policy set, nothing of that kind) documents nothing: still a gap.
    found = [e for e in _check(evidence, check) if e.result != "not_applicable"]
    for e in found:
        when = e.collected_at.date().isoformat()
        part.add(f"{label} ({e.asset or 'system'})", f"{e.result} on {when}: {e.summary}", _ref(e))
    if not found:
        part.gaps.append(missing)


def _status_line(
    part: _Build, statuses: dict[str, ControlStatus], control: str, label: str, missing: str
) -> None:
    status = statuses.get(control)
    if status is None or status.status in ("unknown", "not_implemented"):
        part.gaps.append(missing)
    if status is not None:
        why = "; ".join(r.text for r in status.reasons[:2])
        part.add(label, f"{status.status.replace('_', ' ')}: {why}", f"control {control}")


def _general(part: _Build, c: _Ctx) -> None:
    part.add("Intended purpose", c.system.purpose, "custos.yaml")
    part.add("Organisation", f"{c.report.organisation}: {c.report.scope}", "custos.yaml")
    part.add(
        "Roles under the EU AI Act",
        ", ".join(c.summary.roles or (c.summary.role,)),
        "custos.yaml, custos.catalog.ai_act",
    )
    part.add("Regimes", ", ".join(c.summary.regimes) or "minimal risk", "custos.catalog.ai_act")
    for why in c.summary.tier_reasons:
        part.add("Why", why, "custos.catalog.ai_act")
    part.add("Life-cycle stage", c.system.lifecycle, "custos.yaml")
    if c.system.owner:
        part.add("Accountable owner", c.system.owner, "custos.yaml")
    else:
        part.gaps.append("no accountable owner: set `owner` on the system in custos.yaml")
    for asset in c.system.assets:
        extra = f", classified {asset.classification}" if asset.classification else ""
        part.add(f"Asset {asset.id}", f"{asset.kind} at {asset.location}{extra}", "custos.yaml")
    if not any(a.kind == "model" for a in c.system.assets):
        part.gaps.append("no model asset declared: add the model files to the system's assets")
    if "TODO" in c.system.purpose:
        part.gaps.append("the intended purpose still says TODO: describe it in custos.yaml")


def _development(part: _Build, c: _Ctx) -> None:
    _evidence_lines(
        part,
        c.evidence,
        "model-file",
        "Model files scanned",
        "no model-file scan: run custos scan (model assets)",
    )
    _evidence_lines(
        part,
        c.evidence,
        "model-signature",
        "Model integrity",
        "no model signature verified: custos sign, then custos scan",
    )
    _evidence_lines(
        part,
        c.evidence,
        "dataset",
        "Training and test data",
        "no dataset examined: declare dataset assets and run custos scan",
    )
    _evidence_lines(
        part,
        c.evidence,
        "data-integrity",
        "Data quality and poisoning",
        "no data-integrity evidence: set `label` on the training dataset asset",
    )
    _evidence_lines(
        part,
        c.evidence,
        "repository",
        "Code and dependencies",
        "no repository scanned: declare the code as a repository asset",
    )
    _evidence_lines(
        part,
        c.evidence,
        "robustness",
        "Robustness under attack",
        "no robustness evidence: set `robustness:` on the model asset (docs/assurance.md)",
    )
    _status_line(
        part,
        c.statuses,
        "custos:ai:human-oversight",
        "Human oversight (Art. 14)",
        "human oversight measures are not evidenced: attest "
        "custos:ai:human-oversight with the measures in place",
    )
    _status_line(
        part,
        c.statuses,
        "custos:ai:adversarial-robustness",
        "Cybersecurity and robustness (Art. 15)",
        "Art. 15 measures are not evidenced: see custos:ai:adversarial-robustness",
    )


def _operation(part: _Build, c: _Ctx) -> None:
    _evidence_lines(
        part,
        c.evidence,
        "model-card",
        "Capabilities and limitations (model card)",
        "no model card examined: write one beside the model",
    )
    for check, label in (
        ("endpoint", "Inference endpoint"),
        ("access-log", "Access logs"),
        ("gateway-config", "Gateway"),
    ):
        for e in _check(c.evidence, check):
            part.add(f"{label} ({e.asset})", f"{e.result}: {e.summary}", _ref(e))
    _status_line(
        part,
        c.statuses,
        "custos:ai:access-logging",
        "Logging (Art. 12)",
        "automatic logging is not evidenced: declare the system's logs as a log_source asset "
        "and run custos scan (Art. 12)",
    )


def _metrics(part: _Build, c: _Ctx) -> None:
    _evidence_lines(
        part,
        c.evidence,
        "evaluation",
        "Measured performance",
        "no evaluation on held-out data: set `evaluation:` on the model asset (docs/assurance.md)",
    )


def _risks(part: _Build, c: _Ctx) -> None:
    mine = [r for r in c.report.risks if c.system.id in r.systems]
    for r in mine:
        part.add(
            f"Risk {r.id}",
            f"{r.title}: {r.inherent_level} -> {r.residual_level} "
            f"({r.treatment}; {', '.join(r.controls) or 'no controls'})",
            "risk register",
        )
        if r.above_appetite:
            part.gaps.append(f"risk {r.id} stays above the risk appetite: treat it further")
        if r.overdue:
            part.gaps.append(f"risk {r.id} is overdue for review")
    if not mine:
        part.gaps.append("no risk in the register for this system: add risks to custos.yaml")


def _changes(part: _Build, c: _Ctx) -> None:
    for when, what in c.events:
        part.add(when.date().isoformat(), what, "ledger")
    for point in c.report.trend[-5:]:
        score = point.system_scores.get(c.system.id)
        if score is not None:
            part.add(
                f"Assessment {point.at.date().isoformat()}", f"score {score:.1f}%", "assessments"
            )
    if not c.events:
        part.gaps.append(
            "no training or deployment event recorded: record them in the ledger "
            "from the pipeline (custos ledger record)"
        )


def _standards(part: _Build, c: _Ctx) -> None:
    applicable = [e for e in c.report.soa if e.applicable and c.system.id in e.per_system]
    part.add(
        "Controls applied",
        f"ISO/IEC 27002:2022 and Custos AI requirements: "
        f"{len(applicable)} applicable in the Statement of Applicability",
        "SoA",
    )
    for framework, score in sorted(c.summary.framework_scores.items()):
        part.add(f"Posture {framework}", f"{score:.1f}%", "assessment")
    part.gaps.append(
        "no harmonised standard under the AI Act is cited yet: name the ones "
        "applied when published, or the other specifications used"
    )


def _attested(report: AssessmentReport, system: str, control: str) -> list[str]:
    return [
        f"{a.id} by {a.author} on {a.date.isoformat()}"
        for a in report.attestations
        if a.control == control and a.valid and (not a.systems or system in a.systems)
    ]


def _declaration(part: _Build, c: _Ctx) -> None:
    found = _attested(c.report, c.system.id, "euaiact:art47")
    for line in found:
        part.add("Declaration", line, "attestation on euaiact:art47")
    if not found:
        part.gaps.append(
            "no EU declaration of conformity: attest euaiact:art47 with the "
            "signed declaration as its evidence file"
        )


def _post_market(part: _Build, c: _Ctx) -> None:
    for line in _attested(c.report, c.system.id, "euaiact:art72"):
        part.add("Post-market monitoring plan", line, "attestation on euaiact:art72")
    _status_line(
        part,
        c.statuses,
        "custos:ai:behaviour-monitoring",
        "Behaviour monitoring",
        "monitoring in operation is not evidenced: declare log_source assets "
        "(the access-log check) and attest the plan on euaiact:art72",
    )
