"""The assessment as optimised for size gives what the straightforward code gives (issue 14).

`assess()` looks risks' systems, exclusions, attestations and applicable AI Act articles up in
indexes built once, skips controls with no say of their own on a system, and shares the
verdicts of rollups and mappings between systems with the same inputs; that keeps it linear in
the size of the organisation. The reference here is the per-system code as first written, every
look-up a scan of the manifest: quadratic, but plainly right. A moderate, varied synthetic
organisation (risks scoped to systems and to other systems' assets, per-system and global
exclusions and attestations, some expired, evidence naming controls, checks evidencing
controls, failing, erroring, expired, changed or from removed assets) is assessed both ways and
must give an equal report.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import ClassVar

import pytest

from custos.assess import engine, plan, risks
from custos.assess.applicability import article_applies, requirement_applies
from custos.assess.engine import COVERING, AssessInput, assess
from custos.assess.model import AssessmentReport, Basis, ControlStatus, Reason, Status
from custos.assess.scores import score
from custos.assess.status import Inputs, combine, derive_status
from custos.catalog.catalog import Catalog
from custos.catalog.check_names import CHECK_NAMES
from custos.catalog.model import Control
from custos.checks.base import Check, CheckContext, Target
from custos.checks.model import Evidence, Examined, Finding, Outcome, Severity
from custos.inventory.attestations import Judgement
from custos.inventory.schema import (
    ASSET_KINDS,
    AISystem,
    AssetKind,
    Attestation,
    Exclusion,
    Manifest,
    Risk,
)
from custos.inventory.tier import TierDecision, system_tier

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
SYSTEMS = 40


def _check(check_name: str, of_kinds: frozenset[AssetKind], controls: tuple[str, ...]) -> Check:
    class Synthetic(Check):
        name = check_name
        version = 1
        title = check_name
        kinds: ClassVar[frozenset[AssetKind]] = of_kinds
        evidences: ClassVar[tuple[str, ...]] = controls

        def run(self, target: Target, context: CheckContext) -> Outcome:
            raise AssertionError("never run: the evidence is made up")

    return Synthetic()


def organisation(catalog: Catalog, systems: int, seed: int) -> AssessInput:
    """A varied organisation of `systems` AI systems, deterministic for a seed."""
    rng = random.Random(seed)
    requirements = [c.id for c in catalog.framework_controls("custos-ai")]
    iso = [c.id for c in catalog.framework_controls("iso27002") if catalog.children(c.id)]
    mapped = [
        c.id
        for fw in ("iso42001", "eu-ai-act", "nist-ai-rmf")
        for c in catalog.framework_controls(fw)
    ]
    threats = [c.id for c in catalog.framework_controls("mitre-atlas")][:20]
    ids = [f"sys-{s:03d}" for s in range(systems)]
    docs = []
    assets: list[str] = []
    for sid in ids:
        owned = [f"{sid}-a{a}" for a in range(rng.randint(1, 4))]
        assets += owned
        docs.append(
            {"id": sid, "name": sid, "purpose": "synthetic", "owner": rng.choice(["o", None]),
             "lifecycle": "production",
             "eu_ai_act": {"role": rng.choice(["provider", "deployer", "importer"]),
                           "tier": rng.choice(["high", "limited", "minimal", "gpai"])},
             "assets": [{"id": a, "kind": rng.choice(ASSET_KINDS), "location": f"loc/{a}"}
                        for a in owned]}
        )  # fmt: skip
    risk_docs = []
    for r in range(systems * 2):
        scope: dict[str, list[str]] = {}
        if rng.random() < 0.6:
            scope["systems"] = rng.sample(ids, rng.randint(1, 2))
        if rng.random() < 0.6 or not scope:  # assets of any system, so risks cross systems
            scope["assets"] = rng.sample(assets, rng.randint(1, 3))
        risk_docs.append(
            {"id": f"R{r}", "title": "risk", "threats": [rng.choice(threats)], **scope,
             "likelihood": rng.randint(1, 5), "impact": rng.randint(1, 5),
             "treatment": "mitigate", "owner": rng.choice(["sec", None]),
             "controls": rng.sample(requirements, 2) + rng.sample(iso, rng.randint(0, 1))}
        )  # fmt: skip
    attestations = []
    for a in range(systems * 2):
        control = rng.choice(requirements + iso + mapped)
        attestations.append(
            {"id": f"A{a}", "control": control, "statement": "attested", "author": "cro",
             "systems": rng.choice([[], rng.sample(ids, 1), rng.sample(ids, 2)]),
             "date": "2026-01-01", "expires": rng.choice(["2026-06-01", "2027-06-01", None])}
        )  # fmt: skip
    exclusions = []
    for _ in range(systems):
        exclusions.append(
            {"control": rng.choice(requirements + iso + mapped),
             "systems": rng.choice([[], rng.sample(ids, 1), rng.sample(ids, 3)]),
             "justification": f"excluded for reason {rng.randint(0, 9)}"}
        )  # fmt: skip
    manifest = Manifest.model_validate(
        {"organisation": {"name": "Synthetic", "scope": "equivalence"}, "systems": docs,
         "risks": risk_docs, "attestations": attestations, "exclusions": exclusions}
    )  # fmt: skip
    names = sorted(CHECK_NAMES)
    checks = [
        _check(
            name,
            frozenset(rng.sample(ASSET_KINDS, rng.randint(0, 3))),
            tuple(rng.sample(requirements + iso + mapped, rng.randint(0, 2))),
        )
        for name in names
    ]
    evidence: list[Evidence] = []
    hashes: dict[str, str | None] = {}
    targets = [(s.id, a.id) for s in manifest.systems for a in s.assets]
    targets += [(sid, None) for sid in ids] + [("gone", None), (ids[0], "gone-asset")]
    for system, asset in targets:
        for name in rng.sample(names, 4):
            location = f"loc/{asset or system}/{name}"
            digest = f"{rng.getrandbits(64):016x}"
            hashes[location] = rng.choice([digest, digest, digest, None, "0" * 16])
            result = rng.choice(["pass", "pass", "fail", "error", "not_applicable"])
            findings = (
                (Finding(f"{name}/x", Severity.medium, "synthetic", location, (name,)),)
                if result == "fail"
                else ()
            )
            evidence.append(
                Evidence(
                    check=name, check_version=1, system=system, asset=asset, result=result,
                    summary=result, controls=tuple(rng.sample(requirements + mapped, 1)),
                    collected_at=NOW - dt.timedelta(days=rng.randint(0, 100)),
                    expires_at=NOW + dt.timedelta(days=rng.choice([-1, 30, 90])),
                    findings=findings, examined=(Examined(location, digest, 1),),
                )
            )  # fmt: skip
    return AssessInput(catalog, manifest, evidence, hashes, {}, checks, NOW)


# -- the reference: the per-system code as first written, every look-up a scan ---------------


def scan_systems_of(risk: Risk, manifest: Manifest) -> tuple[str, ...]:
    """A risk's systems, scanning every system's assets for the ones it names."""
    found = list(risk.systems)
    for asset in risk.assets:
        owner = None
        for system in manifest.systems:  # the last owner wins, as in a dict built in order
            if any(a.id == asset for a in system.assets):
                owner = system.id
        if owner is not None and owner not in found:
            found.append(owner)
    return tuple(found)


def scan_exclusion(manifest: Manifest, system: str, control: str) -> Exclusion | None:
    """The first exclusion of the manifest that covers the control on the system."""
    for exclusion in manifest.exclusions:
        if exclusion.control == control and (not exclusion.systems or system in exclusion.systems):
            return exclusion
    return None


def scan_attestations(
    judged: Sequence[tuple[Attestation, Judgement]], system: str, control: str
) -> list[tuple[Attestation, Judgement]]:
    """Every attestation of the control that covers the system, in manifest order."""
    return [
        (a, j) for a, j in judged if a.control == control and (not a.systems or system in a.systems)
    ]


def scan_legal_reasons(statuses: Sequence[ControlStatus], catalog: Catalog) -> dict[str, set[str]]:
    """ISO control -> legal reasons, asking of every system whether an article applies to it."""
    applicable = {
        (s.system, s.control)
        for s in statuses
        if s.framework == "eu-ai-act" and s.status != "not_applicable"
    }
    systems = {s.system for s in statuses}
    reasons: dict[str, set[str]] = defaultdict(set)
    for m in catalog.mappings:
        if m.target is None or not m.target.startswith("euaiact:"):
            continue
        source = catalog.control(m.source)
        if source.framework != "custos-ai" or not source.parent:
            continue
        if any((system, m.target) in applicable for system in systems):
            article = catalog.control(m.target)
            reasons[source.parent].add(f"legal: EU AI Act {article.ref} ({article.title})")
    return reasons


def scan_scores(
    statuses: Sequence[ControlStatus], catalog: Catalog
) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
    """Scores, looking each ISO 27002 control's theme up in the catalog."""
    by_framework: dict[str, list[Status]] = defaultdict(list)
    by_theme: dict[str, list[Status]] = defaultdict(list)
    counts: Counter[str] = Counter()
    for s in statuses:
        by_framework[s.framework].append(s.status)
        if s.framework == "iso27002":
            parent = catalog.control(s.control).parent
            by_theme[catalog.control(parent).title if parent else "other"].append(s.status)
        if s.framework in ("custos-ai", "iso27002"):
            counts[s.status] += 1
    return (
        {fw: score(values) for fw, values in sorted(by_framework.items())},
        {theme: score(values) for theme, values in by_theme.items()},
        dict(counts),
    )


def expected(
    checks: Sequence[Check], names: Sequence[str], kinds: frozenset[str]
) -> frozenset[str]:
    by_name = {c.name: c for c in checks}
    return frozenset(n for n in names if (c := by_name.get(n)) and (not c.kinds or c.kinds & kinds))


def evidencing(checks: Sequence[Check], control: str) -> list[str]:
    return [c.name for c in checks if control in c.evidences]


def reference_system(
    ctx: engine._Context, system: AISystem
) -> tuple[list[ControlStatus], TierDecision]:
    """Every status of one system, each computed on its own (nothing shared between systems)."""
    checks, manifest = ctx.inp.checks, ctx.inp.manifest
    tier = system_tier(system.eu_ai_act)
    kinds = frozenset(a.kind for a in system.assets)
    statuses: dict[str, ControlStatus] = {}
    chosen_by: dict[str, list[str]] = defaultdict(list)  # control -> risks choosing it here
    for risk in manifest.risks:
        for affected in scan_systems_of(risk, manifest):
            for control in risk.controls:
                if affected == system.id:
                    chosen_by[control].append(risk.id)
    for req in ctx.requirements:
        exclusion = scan_exclusion(manifest, system.id, req.id) or (
            scan_exclusion(manifest, system.id, req.parent) if req.parent else None
        )
        chosen = chosen_by.get(req.id, [])
        applicable, why = requirement_applies(req, tier.scoping.requirement_tiers(), chosen)
        names = list(req.verification.checks) if req.verification else []
        names += evidencing(checks, req.id)
        statuses[req.id] = derive_status(
            Inputs(
                system.id, req, applicable, why, expected(checks, names, kinds),
                ctx.evidence.for_control(system.id, req.id, names),
                scan_attestations(ctx.judged_attestations, system.id, req.id), exclusion,
            )
        )  # fmt: skip
    for control in ctx.iso:
        statuses[control.id] = reference_rollup(ctx, system, control, statuses, kinds)
    for controls in ctx.mapped.values():
        for control in controls:
            statuses[control.id] = reference_inferred(ctx, system, control, statuses, tier)
    return list(statuses.values()), tier


def reference_direct(
    ctx: engine._Context, system: AISystem, control: Control, kinds: frozenset[str]
) -> ControlStatus | None:
    names = evidencing(ctx.inp.checks, control.id)
    evidence = ctx.evidence.for_control(system.id, control.id, names)
    attestations = scan_attestations(ctx.judged_attestations, system.id, control.id)
    if not evidence and not attestations:
        return None
    return derive_status(
        Inputs(
            system.id, control, True, "evidence or an attestation names this control",
            expected(ctx.inp.checks, names, kinds), evidence, attestations, None,
        )
    )  # fmt: skip


def reference_rollup(
    ctx: engine._Context,
    system: AISystem,
    control: Control,
    statuses: Mapping[str, ControlStatus],
    kinds: frozenset[str],
) -> ControlStatus:
    exclusion = scan_exclusion(ctx.inp.manifest, system.id, control.id)
    if exclusion is not None:
        return ControlStatus(
            system.id, control.id, control.framework, control.title, "not_applicable",
            (Reason("exclusion", f"excluded: {exclusion.justification}", control.id),),
        )  # fmt: skip
    children = [statuses[c.id] for c in ctx.children.get(control.id, [])]
    direct = reference_direct(ctx, system, control, kinds)
    parts: list[Status] = [c.status for c in children]
    reasons = [
        Reason("rollup", f"{c.control}: {c.status.replace('_', ' ')}", c.control) for c in children
    ]
    if direct is not None:
        parts.append(direct.status)
        reasons.extend(r for r in direct.reasons if r.kind != "applicability")
    if not parts:
        return ControlStatus(
            system.id, control.id, control.framework, control.title, "unknown",
            (Reason("missing", "no Custos AI requirement extends it and no evidence or "
                    "attestation names it; attest it or exclude it with a justification"),),
        )  # fmt: skip
    status = combine(parts)
    if status == "not_applicable" and direct is None:
        reasons.insert(0, Reason("applicability", "none of its AI requirements applies"))
    return ControlStatus(
        system.id, control.id, control.framework, control.title, status, tuple(reasons),
        "rollup" if children else "direct", tuple(c.control for c in children),
    )  # fmt: skip


def reference_inferred(
    ctx: engine._Context,
    system: AISystem,
    control: Control,
    statuses: Mapping[str, ControlStatus],
    tier: TierDecision,
) -> ControlStatus:
    def status(
        value: Status, reasons: list[Reason], basis: Basis = "mapping", via: tuple[str, ...] = ()
    ) -> ControlStatus:
        return ControlStatus(
            system.id, control.id, control.framework, control.title, value, tuple(reasons),
            basis, via,
        )  # fmt: skip

    exclusion = scan_exclusion(ctx.inp.manifest, system.id, control.id)
    if exclusion is not None:
        return status(
            "not_applicable",
            [Reason("exclusion", f"excluded: {exclusion.justification}", control.id)],
            "direct",
        )
    if control.framework == "eu-ai-act":
        scoping = tier.scoping
        label = "/".join(r for r in scoping.regimes if r != "baseline") or "minimal-risk"
        applies, why = article_applies(control, scoping.roles, scoping.act_tiers(), label)
        if not applies:
            return status("not_applicable", [Reason("applicability", why)], "direct")
    direct = reference_direct(ctx, system, control, frozenset(a.kind for a in system.assets))
    if direct is not None:
        return direct
    sources = [(statuses[s], rel) for s, rel in ctx.sources.get(control.id, []) if s in statuses]
    if not sources:
        return status(
            "unknown",
            [Reason("missing", "no Custos requirement or ISO 27002 control maps to it; "
                    "attest it directly")],
            "direct",
        )  # fmt: skip
    value = combine(s.status for s, _ in sources)
    if value == "implemented" and not any(
        rel in COVERING for s, rel in sources if s.status == "implemented"
    ):
        value = "partial"
    reasons = [
        Reason(
            "mapping", f"inferred from {s.control} ({rel}): {s.status.replace('_', ' ')}", s.control
        )
        for s, rel in sources
    ]
    if value == "partial" and all(
        s.status == "implemented" for s, _ in sources if s.status != "not_applicable"
    ):
        reasons.append(
            Reason("mapping", "the mapped controls only partly cover it, so at most partial")
        )
    return status(value, reasons, "mapping", tuple(s.control for s, _ in sources))


def assess_by_reference(inp: AssessInput, monkeypatch: pytest.MonkeyPatch) -> AssessmentReport:
    """`assess()` with its per-system part and every indexed look-up replaced by the reference."""
    manifest, catalog = inp.manifest, inp.catalog
    with monkeypatch.context() as patch:
        for module in (engine, plan, risks):
            patch.setattr(
                module, "systems_of", lambda risk, _owners: scan_systems_of(risk, manifest)
            )
        patch.setattr(plan, "_legal_reasons", scan_legal_reasons)
        patch.setattr(engine, "system_scores", lambda statuses, _: scan_scores(statuses, catalog))
        patch.setattr(
            engine._Context,
            "judged_attestations",
            property(lambda ctx: [pair for pairs in ctx.attestations.values() for pair in pairs]),
            raising=False,
        )
        patch.setattr(engine, "_assess_system", reference_system)
        return assess(inp)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_assessment_equals_the_reference(
    shipped: Catalog, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    inp = organisation(shipped, SYSTEMS, seed)
    fast = assess(inp)
    slow = assess_by_reference(inp, monkeypatch)
    # The input exercises what the indexes replace, so an equal report says something.
    assert any(r.assets for r in inp.manifest.risks)
    assert any(s.reasons[0].kind == "exclusion" for s in fast.statuses)
    assert any(r.kind == "attestation" for s in fast.statuses for r in s.reasons)
    assert any(j.startswith("legal: ") for e in fast.soa for j in e.justification)
    assert fast.statuses == slow.statuses
    assert fast.risks == slow.risks
    assert fast.gaps == slow.gaps
    assert fast.soa == slow.soa
    assert fast == slow


def test_a_risk_on_another_systems_asset_reaches_that_system(shipped: Catalog) -> None:
    inp = organisation(shipped, SYSTEMS, 4)
    owners = risks.asset_owners(inp.manifest)
    for risk in inp.manifest.risks:
        assert risks.systems_of(risk, owners) == scan_systems_of(risk, inp.manifest)
