"""The gap analysis as OSCAL Assessment Results: one result for this assessment.

- reviewed-controls: every control the assessment gave a status to;
- local-definitions: one component per AI system (the subjects of observations);
- observations: one per evidence record (method TEST, with what was examined and its SHA-256)
  and one per attestation (method INTERVIEW: a person's statement);
- risks: the risk register, scores as facets;
- findings: one per gap, target objective-status `not-satisfied` with the OSCAL
  implementation-status and the exact Custos status, the reasons as description, linked to
  the observations about that system and control and to the risks the gap leaves open.
"""

from __future__ import annotations

from collections import defaultdict

from trestle.oscal import assessment_results as ar
from trestle.oscal import common

from custos.assess.model import AssessmentReport, AttestationView, Gap
from custos.checks.model import Evidence
from custos.reports import _oscal_common as oc
from custos.reports._view import evidence_ref, status_label


def _evidence_observation(report: AssessmentReport, e: Evidence) -> common.Observation:
    target = f"{e.system}/{e.asset}" if e.asset else e.system
    claimed = " (claimed, unverified push)" if e.provenance.kind == "claimed" else ""
    relevant = [
        common.RelevantEvidence(
            description=x.location,
            props=oc.props(("sha256", x.sha256), ("size", x.size)),
        )
        for x in e.examined
    ]
    return common.Observation(
        uuid=oc.uid(report, "evidence", evidence_ref(e), oc.aware(e.collected_at).isoformat()),
        title=oc.line(f"{e.check} v{e.check_version} on {target}: {e.result}{claimed}"),
        description=e.summary or e.result,
        props=oc.props(
            ("check", e.check),
            ("check-version", e.check_version),
            ("result", e.result),
            # Pushed without a verified ledger proof: never counted as a pass (docs/server.md).
            ("provenance", None if e.provenance.kind == "local" else e.provenance.kind),
            ("asset", e.asset),
            *(("control", c) for c in e.controls),
            *(("finding", f"{f.severity.name}: {f.rule} at {f.location}") for f in e.findings),
        ),
        methods=["TEST"],
        subjects=[
            common.SubjectReference(
                subject_uuid=oc.component_uid(report, e.system), type="component", title=e.system
            )
        ],
        relevant_evidence=relevant or None,
        collected=oc.aware(e.collected_at),
        expires=oc.aware(e.expires_at) if e.expires_at else None,
    )


def _attestation_observation(report: AssessmentReport, a: AttestationView) -> common.Observation:
    return common.Observation(
        uuid=oc.uid(report, "attestation", a.id),
        title=oc.line(f"Attestation {a.id} by {a.author} on {a.control}"),
        description=a.note or f"Attestation {a.id}",
        props=oc.props(
            ("attestation-id", a.id),
            ("control", a.control),
            ("author", a.author),
            ("valid", str(a.valid).lower()),
        ),
        methods=["INTERVIEW"],
        subjects=[
            common.SubjectReference(
                subject_uuid=oc.component_uid(report, s), type="component", title=s
            )
            for s in a.systems
        ]
        or None,
        collected=oc.at_midnight(a.date),
        expires=oc.at_midnight(a.expires) if a.expires else None,
    )


def _finding(
    report: AssessmentReport, gap: Gap, observations: list[str], risks: set[str]
) -> common.Finding:
    return common.Finding(
        uuid=oc.uid(report, "gap", gap.system, gap.control),
        title=oc.line(f"{gap.control} {gap.title} on {gap.system}: {status_label(gap.status)}"),
        description="\n".join(f"- {r.text}" for r in gap.reasons) or status_label(gap.status),
        props=oc.props(
            ("custos-id", gap.control),
            ("framework", gap.framework),
            ("system", gap.system),
            ("custos-status", gap.status),
            ("risk-score", gap.risk_score),
            *(("risk", r) for r in gap.risks),
        ),
        target=common.FindingTarget(
            type="objective-id",
            target_id=oc.oscal_id(gap.control),
            title=oc.line(gap.title),
            status=common.ObjectiveStatus(state="not-satisfied", reason="fail"),
            implementation_status=common.ImplementationStatus(
                state=oc.IMPLEMENTATION_STATE[gap.status], remarks=gap.status.replace("_", " ")
            ),
        ),
        related_observations=[common.RelatedObservation(observation_uuid=u) for u in observations]
        or None,
        related_risks=[
            common.AssociatedRisk(risk_uuid=oc.uid(report, "risk", r))
            for r in gap.risks
            if r in risks
        ]
        or None,
    )


def build_assessment_results(report: AssessmentReport) -> ar.AssessmentResults:
    evidence_obs = [(e, _evidence_observation(report, e)) for e in report.evidence]
    attestation_obs = [(a, _attestation_observation(report, a)) for a in report.attestations]
    # (system, control) -> observations about it, to link each finding to its evidence.
    about: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e, obs in evidence_obs:
        for control in e.controls:
            about[(e.system, control)].append(obs.uuid)
    for a, obs in attestation_obs:
        for system in a.systems:
            about[(system, a.control)].append(obs.uuid)
    risk_ids = {r.id for r in report.risks}
    controls = oc.unique(s.control for s in report.statuses)
    plan = common.Resource(
        uuid=oc.uid(report, "assessment-plan"),
        title="Custos continuous assessment",
        description="Custos runs its registered checks on every declared asset and weighs "
        "attestations and exclusions; there is no separate assessment plan document.",
    )
    start = min((oc.aware(e.collected_at) for e in report.evidence), default=None)
    end = oc.aware(report.generated_at)
    result = ar.Result(
        uuid=oc.uid(report, "result", end.isoformat()),
        title=oc.line(f"Custos assessment of {report.organisation}"),
        description=f"Gap assessment of {report.scope}: overall score "
        f"{report.overall_score:.1f}%, {len(report.gaps)} gaps.",
        start=min(start, end) if start else end,
        end=end,
        props=oc.props(
            ("overall-score", f"{report.overall_score:.1f}"),
            *((f"score-{fw}", f"{v:.1f}") for fw, v in report.framework_scores.items()),
        ),
        local_definitions=ar.LocalDefinitions1(
            components=[oc.system_component(report, s) for s in report.systems] or None
        ),
        reviewed_controls=common.ReviewedControls(
            control_selections=[
                common.ControlSelections(
                    include_controls=[
                        common.SelectControlById(control_id=oc.oscal_id(c)) for c in controls
                    ]
                )
                if controls
                else common.ControlSelectionsAll(include_all=common.IncludeAll())
            ]
        ),
        observations=[o for _, o in evidence_obs] + [o for _, o in attestation_obs] or None,
        risks=[oc.oscal_risk(report, r) for r in report.risks] or None,
        findings=[
            _finding(report, g, about.get((g.system, g.control), []), risk_ids) for g in report.gaps
        ]
        or None,
    )
    return ar.AssessmentResults(
        uuid=oc.document_uid(report, "assessment-results"),
        metadata=oc.metadata(report, f"{report.organisation}: AI security assessment results"),
        import_ap=ar.ImportAp(href=f"#{plan.uuid}"),
        results=[result],
        back_matter=common.BackMatter(resources=[plan]),
    )
