"""`assess()`: manifest + catalog + evidence -> the finished AssessmentReport. No I/O.

The shell (CLI, server) gathers what the core cannot compute itself: the latest evidence from the
store, today's hashes of every artifact that evidence examined, today's hashes of attestation
evidence files, and the time. Everything else happens here, deterministically.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from custos import __version__
from custos.assess.applicability import article_applies, requirement_applies
from custos.assess.evidence import EvidenceIndex
from custos.assess.model import (
    AssessmentReport,
    AttestationView,
    Basis,
    ControlStatus,
    FindingView,
    Reason,
    Status,
    SystemSummary,
    TrendPoint,
)
from custos.assess.plan import build_gaps, build_roadmap, build_soa
from custos.assess.risks import asset_owners, risk_views, systems_of
from custos.assess.scoped import Scoped
from custos.assess.scores import iso_themes, score, system_scores
from custos.assess.status import Inputs, combine, derive_status
from custos.catalog.catalog import Catalog
from custos.catalog.crosswalk import INVERSE
from custos.catalog.model import Control, Relationship
from custos.checks.base import Check
from custos.checks.model import Evidence
from custos.inventory.attestations import Judgement, judge
from custos.inventory.schema import AISystem, Attestation, Exclusion, Manifest
from custos.inventory.tier import TierDecision, system_tier

MAPPED_FRAMEWORKS = ("iso42001", "eu-ai-act", "nist-ai-rmf")
SOURCE_FRAMEWORKS = frozenset({"custos-ai", "iso27002"})
COVERING = frozenset({"equal", "superset"})


@dataclass(frozen=True)
class AssessInput:
    catalog: Catalog
    manifest: Manifest
    evidence: Sequence[Evidence]
    current_hashes: Mapping[str, str | None]  # examined location -> sha256 today (None: gone)
    attestation_files: Mapping[str, str | None]  # attestation evidence path -> sha256 or None
    checks: Sequence[Check]
    now: dt.datetime
    trend: Sequence[TrendPoint] = field(default_factory=tuple)


class _Context:
    """Indexes built once per assessment so the per-system work stays linear."""

    def __init__(self, inp: AssessInput) -> None:
        self.inp = inp
        catalog = inp.catalog
        self.requirements = catalog.framework_controls("custos-ai")
        self.iso = catalog.framework_controls("iso27002")
        self.children: dict[str, list[Control]] = defaultdict(list)
        for req in self.requirements:
            if req.parent:
                self.children[req.parent].append(req)
        self.mapped: dict[str, list[Control]] = {
            fid: [
                c
                for c in catalog.framework_controls(fid)
                if fid != "eu-ai-act" or c.kind == "article"
            ]
            for fid in MAPPED_FRAMEWORKS
            if fid in catalog.frameworks
        }
        self.sources: dict[str, list[tuple[str, Relationship]]] = defaultdict(list)
        for m in catalog.mappings:
            if m.target is None or m.relationship == "no-relationship":
                continue
            src_fw = catalog.controls[m.source].framework
            dst_fw = catalog.controls[m.target].framework
            if src_fw in SOURCE_FRAMEWORKS and dst_fw not in SOURCE_FRAMEWORKS:
                self.sources[m.target].append((m.source, m.relationship))
            elif dst_fw in SOURCE_FRAMEWORKS and src_fw not in SOURCE_FRAMEWORKS:
                self.sources[m.source].append((m.target, INVERSE[m.relationship]))
        self.check_by_name = {c.name: c for c in inp.checks}
        # control -> names of the checks whose evidence speaks for it (`Check.evidences`),
        # and the other way round
        self.evidencing_names: dict[str, tuple[str, ...]] = {}
        self.evidenced_by: dict[str, set[str]] = defaultdict(set)
        for check in inp.checks:
            for control in check.evidences:
                names = self.evidencing_names.get(control, ())
                self.evidencing_names[control] = (*names, check.name)
                self.evidenced_by[check.name].add(control)
        # requirement -> the checks that can show it: its verification's, then the evidencing
        self.check_names: dict[str, tuple[str, ...]] = {
            req.id: (
                *(req.verification.checks if req.verification else ()),
                *self.evidencing_names.get(req.id, ()),
            )
            for req in self.requirements
        }
        # Per distinct input, what every system with that input gets (see `_Verdict`)
        self.verdicts: dict[tuple[object, ...], _Verdict] = {}
        # (article, roles, regimes) -> not applicable, and why; None: the article applies
        self.articles: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Verdict | None] = {}
        self._expected: dict[tuple[tuple[str, ...], frozenset[str]], frozenset[str]] = {}
        # Evidence about assets (or systems) since removed from the manifest no longer speaks
        # for anything.
        known: set[tuple[str, str | None]] = {
            (s.id, a.id) for s in inp.manifest.systems for a in s.assets
        }
        known |= {(s.id, None) for s in inp.manifest.systems}
        current = [e for e in inp.evidence if (e.system, e.asset) in known]
        self.evidence = EvidenceIndex(current, inp.now, inp.current_hashes)
        today = inp.now.date()
        self.attestations: dict[str, list[tuple[Attestation, Judgement]]] = defaultdict(list)
        self.attested: Scoped[tuple[Attestation, Judgement]] = Scoped()
        for att in inp.manifest.attestations:
            digest = inp.attestation_files.get(att.evidence) if att.evidence else None
            verdict = judge(att, today, digest is not None, digest)
            self.attestations[att.control].append((att, verdict))
            self.attested.add(att.control, att.systems, (att, verdict))
        self.exclusions: Scoped[Exclusion] = Scoped()
        for exclusion in inp.manifest.exclusions:
            self.exclusions.add(exclusion.control, exclusion.systems, exclusion)
        self.chosen_by: dict[tuple[str, str], list[str]] = defaultdict(list)
        owners = asset_owners(inp.manifest)
        for risk in inp.manifest.risks:
            for system in systems_of(risk, owners):
                for control in risk.controls:
                    self.chosen_by[(system, control)].append(risk.id)

    def exclusion(self, system: str, control: str) -> Exclusion | None:
        """The manifest's first exclusion of the control that covers the system."""
        return self.exclusions.first(system, control)

    def own_say(self, system: str) -> set[str]:
        """The controls that may have a say of their own on the system: excluded or attested
        for it, or named by its evidence, itself or as what a check that ran on it evidences.
        Any other ISO 27002 or mapped control takes its status from other controls alone, so
        most of them need no look-up of exclusions and direct evidence."""
        found = self.exclusions.controls(system) | self.attested.controls(system)
        found |= self.evidence.controls_named(system)
        for check in self.evidence.checks_run(system):
            found |= self.evidenced_by.get(check, set())
        return found

    def attestations_for(
        self, system: str, control: str
    ) -> Sequence[tuple[Attestation, Judgement]]:
        """The control's attestations that cover the system, in manifest order."""
        return self.attested.get(system, control)

    def expected(self, names: tuple[str, ...], kinds: frozenset[str]) -> frozenset[str]:
        """The named checks that apply to a system with assets of these kinds (memoised: the
        same few names and kinds recur across systems)."""
        found = self._expected.get((names, kinds))
        if found is None:
            found = self._expected[(names, kinds)] = frozenset(
                name
                for name in names
                if (check := self.check_by_name.get(name)) is not None
                and (not check.kinds or check.kinds & kinds)
            )
        return found


@dataclass(frozen=True)
class _Verdict:
    """A status less its system. Rollups and mappings depend on the statuses of a few other
    controls, not on the system itself, so every system with the same inputs gets the same
    verdict: computed once per distinct input (see `_Context.verdicts`) and shared."""

    status: Status
    reasons: tuple[Reason, ...]
    basis: Basis = "direct"
    via: tuple[str, ...] = ()

    def of(self, system: str, control: Control) -> ControlStatus:
        return ControlStatus(
            system, control.id, control.framework, control.title, self.status, self.reasons,
            self.basis, self.via,
        )  # fmt: skip


def _assess_system(ctx: _Context, system: AISystem) -> tuple[list[ControlStatus], TierDecision]:
    tier = system_tier(system.eu_ai_act)
    kinds = frozenset(a.kind for a in system.assets)
    statuses: dict[str, ControlStatus] = {}

    for req in ctx.requirements:
        exclusion = ctx.exclusion(system.id, req.id) or (
            ctx.exclusion(system.id, req.parent) if req.parent else None
        )
        applicable, why = requirement_applies(
            req, tier.scoping.requirement_tiers(), ctx.chosen_by.get((system.id, req.id), [])
        )
        names = ctx.check_names[req.id]
        statuses[req.id] = derive_status(
            Inputs(
                system=system.id,
                control=req,
                applicable=applicable,
                applicability_reason=why,
                expected_checks=ctx.expected(names, kinds),
                evidence=ctx.evidence.for_control(system.id, req.id, names),
                attestations=ctx.attestations_for(system.id, req.id),
                exclusion=exclusion,
            )
        )

    own = ctx.own_say(system.id)
    for control in ctx.iso:
        statuses[control.id] = _rollup(ctx, system, control, statuses, kinds, own)

    for controls in ctx.mapped.values():
        for control in controls:
            statuses[control.id] = _inferred(ctx, system, control, statuses, tier, kinds, own)
    return list(statuses.values()), tier


def _direct(
    ctx: _Context, system: AISystem, control: Control, kinds: frozenset[str]
) -> ControlStatus | None:
    """A status from evidence or attestations naming this very control, if there are any."""
    names = ctx.evidencing_names.get(control.id, ())
    evidence = ctx.evidence.for_control(system.id, control.id, names)
    attestations = ctx.attestations_for(system.id, control.id)
    if not evidence and not attestations:
        return None
    return derive_status(
        Inputs(
            system=system.id,
            control=control,
            applicable=True,
            applicability_reason="evidence or an attestation names this control",
            expected_checks=ctx.expected(names, kinds),
            evidence=evidence,
            attestations=attestations,
            exclusion=None,
        )
    )


def _excluded(control: Control, exclusion: Exclusion) -> _Verdict:
    return _Verdict(
        "not_applicable",
        (Reason("exclusion", f"excluded: {exclusion.justification}", control.id),),
    )


def _rollup(
    ctx: _Context,
    system: AISystem,
    control: Control,
    statuses: Mapping[str, ControlStatus],
    kinds: frozenset[str],
    own: set[str],
) -> ControlStatus:
    """`own`: `_Context.own_say` of the system."""
    exclusion = ctx.exclusion(system.id, control.id) if control.id in own else None
    if exclusion is not None:
        return _excluded(control, exclusion).of(system.id, control)
    children = tuple((c.id, statuses[c.id].status) for c in ctx.children.get(control.id, []))
    direct = _direct(ctx, system, control, kinds) if control.id in own else None
    if direct is not None:  # system-specific reasons (its evidence): not shared
        return _rollup_verdict(children, direct).of(system.id, control)
    key = ("rollup", control.id, children)
    verdict = ctx.verdicts.get(key)
    if verdict is None:
        verdict = ctx.verdicts[key] = _rollup_verdict(children, None)
    return verdict.of(system.id, control)


def _rollup_verdict(
    children: Sequence[tuple[str, Status]], direct: ControlStatus | None
) -> _Verdict:
    """An ISO 27002 control from the AI requirements extending it (id, status) and its own
    evidence or attestations, if any."""
    parts: list[Status] = [status for _, status in children]
    reasons = [
        Reason("rollup", f"{child}: {status.replace('_', ' ')}", child)
        for child, status in children
    ]
    if direct is not None:
        parts.append(direct.status)
        reasons.extend(r for r in direct.reasons if r.kind != "applicability")
    if not parts:
        return _Verdict(
            "unknown",
            (Reason("missing", "no Custos AI requirement extends it and no evidence or "
                    "attestation names it; attest it or exclude it with a justification"),),
        )  # fmt: skip
    status = combine(parts)
    if status == "not_applicable" and direct is None:
        reasons.insert(0, Reason("applicability", "none of its AI requirements applies"))
    basis: Basis = "rollup" if children else "direct"
    return _Verdict(status, tuple(reasons), basis, tuple(child for child, _ in children))


def _inferred(
    ctx: _Context,
    system: AISystem,
    control: Control,
    statuses: Mapping[str, ControlStatus],
    tier: TierDecision,
    kinds: frozenset[str],
    own: set[str],
) -> ControlStatus:
    """`own`: `_Context.own_say` of the system."""
    exclusion = ctx.exclusion(system.id, control.id) if control.id in own else None
    if exclusion is not None:
        return _excluded(control, exclusion).of(system.id, control)
    if control.framework == "eu-ai-act":
        not_applicable = _article_not_applicable(ctx, control, tier)
        if not_applicable is not None:
            return not_applicable.of(system.id, control)
    direct = _direct(ctx, system, control, kinds) if control.id in own else None
    if direct is not None:
        return direct
    sources = tuple(
        (s, rel, statuses[s].status) for s, rel in ctx.sources.get(control.id, []) if s in statuses
    )
    key = ("mapping", control.id, sources)
    verdict = ctx.verdicts.get(key)
    if verdict is None:
        verdict = ctx.verdicts[key] = _mapping_verdict(sources)
    return verdict.of(system.id, control)


def _article_not_applicable(ctx: _Context, article: Control, tier: TierDecision) -> _Verdict | None:
    """Not applicable, and why, when the article addresses none of the system's roles or
    regimes; None when it does. Once per (article, roles, regimes): a thousand systems share a
    few of them."""
    scoping = tier.scoping
    key = (article.id, scoping.roles, scoping.regimes)
    if key not in ctx.articles:
        label = "/".join(r for r in scoping.regimes if r != "baseline") or "minimal-risk"
        applies, why = article_applies(article, scoping.roles, scoping.act_tiers(), label)
        ctx.articles[key] = (
            None if applies else _Verdict("not_applicable", (Reason("applicability", why),))
        )
    return ctx.articles[key]


def _mapping_verdict(sources: Sequence[tuple[str, Relationship, Status]]) -> _Verdict:
    """A mapped control from the Custos requirements and ISO 27002 controls mapped to it:
    (control id, how it relates, its status on the system)."""
    if not sources:
        return _Verdict(
            "unknown",
            (Reason("missing", "no Custos requirement or ISO 27002 control maps to it; "
                    "attest it directly"),),
        )  # fmt: skip
    value = combine(status for _, _, status in sources)
    if value == "implemented" and not any(
        rel in COVERING for _, rel, status in sources if status == "implemented"
    ):
        value = "partial"
    reasons = [
        Reason("mapping", f"inferred from {s} ({rel}): {status.replace('_', ' ')}", s)
        for s, rel, status in sources
    ]
    if value == "partial" and all(
        status == "implemented" for _, _, status in sources if status != "not_applicable"
    ):
        reasons.append(
            Reason("mapping", "the mapped controls only partly cover it, so at most partial")
        )
    return _Verdict(value, tuple(reasons), "mapping", tuple(s for s, _, _ in sources))


def assess(inp: AssessInput) -> AssessmentReport:
    """Assess every AI system of the manifest; see the module doc for what the shell provides."""
    ctx = _Context(inp)
    manifest = inp.manifest
    all_statuses: list[ControlStatus] = []
    summaries: list[SystemSummary] = []
    # (system, control) -> status, for the risk views: only the controls risks chose, not
    # all 300 of every system
    chosen = {control for risk in manifest.risks for control in risk.controls}
    by_key: dict[tuple[str, str], Status] = {}
    themes = iso_themes(inp.catalog)
    for system in manifest.systems:
        statuses, tier = _assess_system(ctx, system)
        all_statuses.extend(statuses)
        for s in statuses:
            if s.control in chosen:
                by_key[(s.system, s.control)] = s.status
        fw_scores, theme_scores, counts = system_scores(statuses, themes)
        summaries.append(
            SystemSummary(
                id=system.id,
                name=system.name,
                purpose=system.purpose,
                owner=system.owner,
                lifecycle=system.lifecycle,
                role=system.eu_ai_act.role,
                tier=tier.tier,
                tier_derived=tier.derived,
                tier_reasons=tier.reasons,
                regimes=tuple(r for r in tier.scoping.regimes if r != "baseline"),
                roles=tier.scoping.roles,
                obligations=tier.scoping.obligations,
                score=fw_scores.get("custos-ai", 0.0),
                framework_scores=fw_scores,
                theme_scores=theme_scores,
                counts=counts,
            )
        )
    org_fw, org_themes, _ = system_scores(all_statuses, themes)
    today = inp.now.date()
    risks = risk_views(manifest, today, lambda system, control: by_key.get((system, control)))
    gaps = build_gaps(all_statuses, manifest, inp.catalog)
    roadmap = build_roadmap(gaps, manifest, inp.catalog, today)
    soa = build_soa(all_statuses, manifest, inp.catalog, roadmap, ctx.sources)
    overall = score(s.status for s in all_statuses if s.framework == "custos-ai")
    return AssessmentReport(
        generated_at=inp.now,
        organisation=manifest.organisation.name,
        scope=manifest.organisation.scope,
        custos_version=__version__,
        overall_score=overall,
        systems=tuple(summaries),
        statuses=tuple(all_statuses),
        soa=soa,
        gaps=gaps,
        roadmap=roadmap,
        risks=risks,
        findings=_findings(ctx),
        evidence=tuple(j.evidence for j in ctx.evidence.judged),
        attestations=_attestation_views(ctx),
        framework_scores=org_fw,
        theme_scores=org_themes,
        risk_levels=tuple(
            (lvl.name, lvl.max_score) for lvl in manifest.organisation.risk_matrix.levels
        ),
        risk_appetite=manifest.organisation.risk_matrix.appetite,
        trend=(*inp.trend, TrendPoint(inp.now, overall, {s.id: s.score for s in summaries})),
    )


def _findings(ctx: _Context) -> tuple[FindingView, ...]:
    # One finding per place and target: the same file and message in two systems (a shared
    # requirements file, a monorepo) is a finding of each, never only of whichever came first.
    seen: set[tuple[str, str | None, str, str, str]] = set()
    views: list[FindingView] = []
    for judged in ctx.evidence.judged:
        if not judged.valid:
            continue
        e = judged.evidence
        for f in e.findings:
            key = (e.system, e.asset, f.rule, f.location, f.message)
            if key in seen:
                continue
            seen.add(key)
            views.append(
                FindingView(
                    e.system,
                    e.asset,
                    e.check,
                    f.rule,
                    f.severity,
                    f.message,
                    f.location,
                    f.controls,
                    e.provenance.kind,
                )
            )
    views.sort(key=lambda v: (-v.severity, v.system, v.rule, v.location))
    return tuple(views)


def _attestation_views(ctx: _Context) -> tuple[AttestationView, ...]:
    return tuple(
        AttestationView(
            a.id, a.control, tuple(a.systems), a.author, a.date, a.expires, j.valid, j.note
        )
        for items in ctx.attestations.values()
        for a, j in items
    )
