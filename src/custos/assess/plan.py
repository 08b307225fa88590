"""From statuses to decisions: the Statement of Applicability, ranked gaps and the roadmap."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from custos.assess.model import ControlStatus, Gap, Phase, RoadmapItem, SoAEntry, Status
from custos.assess.risks import asset_owners, systems_of
from custos.assess.status import worst
from custos.catalog.catalog import Catalog
from custos.catalog.model import Relationship
from custos.inventory.schema import Manifest, Risk

GAP_STATUSES = frozenset({"not_implemented", "partial", "unknown"})
SOA_FRAMEWORKS = ("iso27002", "iso42001")
# Effort points -> working days, and the number of parallel workstreams the plan assumes.
EFFORT_DAYS = {1: 2, 2: 5, 3: 10, 4: 20, 5: 40}
WORKSTREAMS = 4
PHASES: tuple[tuple[int, Phase], ...] = ((30, "0-30"), (90, "31-90"), (180, "91-180"))


def _relied_on(manifest: Manifest, catalog: Catalog) -> dict[tuple[str, str], list[Risk]]:
    """(system, control) -> risks that rely on the control: chosen directly, or chosen as a
    requirement whose ISO 27002 parent it is, or as the parent of a requirement."""
    relied: dict[tuple[str, str], list[Risk]] = defaultdict(list)
    owners = asset_owners(manifest)
    for risk in manifest.risks:
        for system in systems_of(risk, owners):
            controls = set(risk.controls)
            for cid in risk.controls:
                parent = catalog.control(cid).parent
                if parent:
                    controls.add(parent)
            for cid in controls:
                relied[(system, cid)].append(risk)
    return relied


def build_gaps(
    statuses: Sequence[ControlStatus], manifest: Manifest, catalog: Catalog
) -> tuple[Gap, ...]:
    """Applicable AI requirements and ISO 27002 controls not (fully) shown, riskiest first."""
    relied = _relied_on(manifest, catalog)
    gaps = []
    for s in statuses:
        if s.framework not in ("custos-ai", "iso27002") or s.status not in GAP_STATUSES:
            continue
        risks = relied.get((s.system, s.control))
        exposure = sum(r.likelihood * r.impact for r in risks) if risks else 0
        gaps.append(
            Gap(
                s.system, s.control, s.framework, s.title, s.status, exposure,
                tuple(r.id for r in risks) if risks else (), s.reasons,
            )
        )  # fmt: skip
    order = {"not_implemented": 0, "unknown": 1, "partial": 2}
    gaps.sort(
        key=lambda g: (
            -g.risk_score,
            order[g.status],
            g.framework != "custos-ai",
            g.control,
            g.system,
        )
    )
    return tuple(gaps)


def _effort(control_id: str, status: Status, catalog: Catalog) -> int:
    control = catalog.control(control_id)
    automated = bool(control.verification and control.verification.checks)
    base = 2 if automated else 3
    if status == "partial":
        base -= 1
    elif status == "not_implemented":
        base += 1
    return max(1, min(5, base))


def build_roadmap(
    gaps: Sequence[Gap], manifest: Manifest, catalog: Catalog, today: dt.date
) -> tuple[RoadmapItem, ...]:
    """One item per control with gaps (AI requirements; ISO 27002 controls no requirement
    extends), ordered by risk reduction per unit of effort, scheduled on parallel workstreams."""
    extended = {c.parent for c in catalog.framework_controls("custos-ai") if c.parent}
    grouped: dict[str, list[Gap]] = defaultdict(list)
    for gap in gaps:
        if gap.framework == "iso27002" and gap.control in extended:
            continue  # closed by closing its AI requirements
        grouped[gap.control].append(gap)
    owners = _owners(manifest)
    candidates = []
    for control, items in grouped.items():
        risks = sorted({r for g in items for r in g.risks})
        reduction = sum(g.risk_score for g in items) + len(items)  # every gap is worth something
        # over its distinct statuses: the effort depends on the status, not on the system
        effort = max(_effort(control, status, catalog) for status in {g.status for g in items})
        owner = next((owners[r] for r in risks if owners.get(r)), None) or next(
            (s.owner for s in manifest.systems if s.id == items[0].system and s.owner), None
        )
        candidates.append((reduction / effort, reduction, control, items, risks, effort, owner))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
    roadmap = []
    elapsed = 0.0
    assigned = {a.control: a for a in manifest.assignments}
    for rank, (_ratio, reduction, control, items, risks, effort, owner) in enumerate(candidates, 1):
        start_day = math.floor(elapsed)
        elapsed += EFFORT_DAYS[effort] / WORKSTREAMS
        end_day = max(start_day + 1, math.ceil(elapsed))
        limit, phase = next(((d, p) for d, p in PHASES if end_day <= d), PHASES[-1])
        start = today + dt.timedelta(days=min(start_day, limit - 1))
        due = today + dt.timedelta(days=min(end_day, limit))
        decision = assigned.get(control)
        if decision is not None and decision.due is not None:
            # A decided due date wins over the schedule (even a past one); the phase follows.
            due, start = decision.due, min(start, decision.due)
            days = (due - today).days
            phase = next((p for d, p in PHASES if days <= d), PHASES[-1][1])
        if decision is not None and decision.owner is not None:
            owner = decision.owner
        roadmap.append(
            RoadmapItem(
                rank=rank,
                control=control,
                title=items[0].title,
                systems=tuple(sorted({g.system for g in items})),
                risks=tuple(risks),
                risk_reduction=reduction,
                effort=effort,
                owner=owner,
                phase=phase,
                start=start,
                due=due,
            )
        )
    return tuple(roadmap)


def _owners(manifest: Manifest) -> dict[str, str]:
    return {r.id: r.owner for r in manifest.risks if r.owner}


def build_soa(
    statuses: Sequence[ControlStatus],
    manifest: Manifest,
    catalog: Catalog,
    roadmap: Sequence[RoadmapItem],
    sources: Mapping[str, list[tuple[str, Relationship]]],
) -> tuple[SoAEntry, ...]:
    """One entry per ISO 27002 and ISO 42001 Annex A control, with why it applies or not."""
    per: dict[str, dict[str, Status]] = defaultdict(dict)
    for s in statuses:
        if s.framework in SOA_FRAMEWORKS:
            per[s.control][s.system] = s.status
    relied = _relied_on(manifest, catalog)
    due = {item.control: item.due for item in roadmap}
    legal = _legal_reasons(statuses, catalog)
    owners = _owners(manifest)
    entries = []
    for fid in SOA_FRAMEWORKS:
        if fid not in catalog.frameworks:
            continue
        for control in catalog.framework_controls(fid):
            systems = per.get(control.id, {})
            applicable_systems = {k: v for k, v in systems.items() if v != "not_applicable"}
            exclusions = [e for e in manifest.exclusions if e.control == control.id]
            risk_ids = sorted({r.id for s in systems for r in relied.get((s, control.id), [])})
            linked = [c for c, _ in sources.get(control.id, [])] if fid == "iso42001" else []
            for cid in linked:
                risk_ids = sorted(
                    {*risk_ids, *(r.id for s in systems for r in relied.get((s, cid), []))}
                )
            justification: list[str] = []
            if risk_ids:
                justification.append(f"risk: {', '.join(risk_ids)}")
            justification.extend(sorted(legal.get(control.id, set())))
            if not justification and applicable_systems:
                justification.append("best practice: baseline control for an AI management system")
            exclusion = "; ".join(e.justification for e in exclusions) or None
            if not applicable_systems and exclusion is None:
                exclusion = "no AI requirement under it applies to any system"
            owner = next((owners[r] for r in risk_ids if r in owners), None)
            entries.append(
                SoAEntry(
                    control=control.id,
                    framework=fid,
                    title=control.title,
                    applicable=bool(applicable_systems),
                    justification=tuple(justification) if applicable_systems else (),
                    exclusion=exclusion,
                    status=worst(applicable_systems.values())
                    if applicable_systems
                    else "not_applicable",
                    per_system=dict(systems),
                    owner=owner,
                    target_date=due.get(control.id) or _child_due(control.id, catalog, due),
                )
            )
    return tuple(entries)


def _child_due(control_id: str, catalog: Catalog, due: Mapping[str, dt.date]) -> dt.date | None:
    dates = [due[c.id] for c in catalog.children(control_id) if c.id in due]
    return max(dates) if dates else None


def _legal_reasons(statuses: Sequence[ControlStatus], catalog: Catalog) -> dict[str, set[str]]:
    """ISO control -> "legal: EU AI Act Art. N" for applicable articles its requirements serve."""
    # Articles that apply to at least one system. Asking each system in turn, per mapping,
    # made this grow with mappings x systems for the same answer.
    applicable_articles = {
        s.control for s in statuses if s.framework == "eu-ai-act" and s.status != "not_applicable"
    }
    reasons: dict[str, set[str]] = defaultdict(set)
    for m in catalog.mappings:
        if m.target is None or not m.target.startswith("euaiact:"):
            continue
        source = catalog.control(m.source)
        if source.framework != "custos-ai" or not source.parent:
            continue
        if m.target in applicable_articles:
            article = catalog.control(m.target)
            reasons[source.parent].add(f"legal: EU AI Act {article.ref} ({article.title})")
    return reasons
