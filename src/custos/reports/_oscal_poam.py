"""The roadmap as an OSCAL Plan of Action and Milestones.

- system-id: the same scope identifier the SSP uses, so the two documents name one system;
- poam-items: one per roadmap item, in rank order, with rank, control, phase, start, due,
  effort, risk reduction, owner and systems as props, linked to the risks it reduces;
- risks: every risk a roadmap item reduces, each with one planned remediation per item whose
  milestone task runs from the item's start to its due date.
With no gaps the roadmap is empty; OSCAL needs one item, so a "No open actions" item (prop
`placeholder`) stands in.
"""

from __future__ import annotations

from collections import defaultdict

from trestle.oscal import common, poam

from custos.assess.model import AssessmentReport, RoadmapItem
from custos.reports import _oscal_common as oc
from custos.reports._view import PHASE_LABEL

_RFC4122 = "https://ietf.org/rfc/rfc4122"


def _item_uid(report: AssessmentReport, item: RoadmapItem) -> str:
    return oc.uid(report, "roadmap", item.control, *item.systems)


def _remediation(report: AssessmentReport, item: RoadmapItem) -> common.Response:
    return common.Response(
        uuid=oc.uid(report, "remediation", item.control, *item.systems),
        lifecycle="planned",
        title=oc.line(f"Roadmap item {item.rank}: {item.control}"),
        description=f"Implement {item.control} ({item.title}) for {', '.join(item.systems)}.",
        tasks=[
            common.Task(
                uuid=oc.uid(report, "milestone", item.control, *item.systems),
                type="milestone",
                title=oc.line(f"{item.control} done by {item.due.isoformat()}"),
                timing=common.TimingWithinDateRange(
                    within_date_range=common.WithinDateRange(
                        start=oc.at_midnight(item.start), end=oc.at_midnight(item.due)
                    )
                ),
                responsible_roles=oc.owner_roles(report, item.owner),
            )
        ],
    )


def _poam_item(report: AssessmentReport, item: RoadmapItem, risks: set[str]) -> poam.PoamItem:
    systems = ", ".join(item.systems)
    return poam.PoamItem(
        uuid=_item_uid(report, item),
        title=oc.line(f"{item.rank}. {item.control}: {item.title}"),
        description=(
            f"Close the gap on {item.control} ({item.title}) for {systems}. "
            f"{PHASE_LABEL[item.phase]}: start {item.start.isoformat()}, due "
            f"{item.due.isoformat()}. Effort {item.effort} of 5; reduces risk by "
            f"{item.risk_reduction}."
        ),
        props=oc.props(
            ("rank", item.rank),
            ("custos-id", item.control),
            ("phase", item.phase),
            ("start", item.start.isoformat()),
            ("due", item.due.isoformat()),
            ("effort", item.effort),
            ("risk-reduction", item.risk_reduction),
            ("owner", item.owner),
            *(("system", s) for s in item.systems),
        ),
        related_risks=[
            common.AssociatedRisk(risk_uuid=oc.uid(report, "risk", r))
            for r in item.risks
            if r in risks
        ]
        or None,
    )


def _nothing_open(report: AssessmentReport) -> poam.PoamItem:
    """OSCAL needs at least one item; with no gaps, say so rather than fail a CI pipeline."""
    return poam.PoamItem(
        uuid=oc.uid(report, "roadmap", "none"),
        title="No open actions",
        description="The assessment found no gaps, so the roadmap is empty.",
        props=oc.props(("placeholder", "true")),
    )


def build_poam(report: AssessmentReport) -> poam.PlanOfActionAndMilestones:
    reduced_by: dict[str, list[RoadmapItem]] = defaultdict(list)
    for item in report.roadmap:
        for rid in item.risks:
            reduced_by[rid].append(item)
    risks = [r for r in report.risks if r.id in reduced_by]
    risk_ids = {r.id for r in risks}
    return poam.PlanOfActionAndMilestones(
        uuid=oc.document_uid(report, "poam"),
        metadata=oc.metadata(report, f"{report.organisation}: AI security roadmap"),
        system_id=common.SystemId(identifier_type=_RFC4122, id=oc.uid(report, "scope")),
        local_definitions=poam.LocalDefinitions(
            components=[oc.system_component(report, s) for s in report.systems] or None
        ),
        risks=[
            oc.oscal_risk(report, r, [_remediation(report, i) for i in reduced_by[r.id]])
            for r in risks
        ]
        or None,
        poam_items=[_poam_item(report, i, risk_ids) for i in report.roadmap]
        or [_nothing_open(report)],
    )
