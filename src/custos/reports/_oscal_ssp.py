"""The Statement of Applicability as an OSCAL System Security Plan.

- system-characteristics: the organisation's scope; system-implementation: a `this-system`
  component for the whole scope plus one component per AI system;
- control-implementation: one implemented-requirement per ISO 27002 and ISO 42001 SoA entry
  (applicable or excluded), with the applicability justification or exclusion as remarks and
  props, the owner as responsible role, and one by-component per AI system carrying that
  system's status (OSCAL implementation-status plus the exact Custos status, basis and reasons);
- control ids are the ones `custos catalog export --format oscal` writes, so the SSP resolves
  against those catalogs (listed in back-matter; the import-profile points there).
"""

from __future__ import annotations

from collections.abc import Mapping

from trestle.oscal import common, ssp

from custos.assess.model import AssessmentReport, ControlStatus, SoAEntry
from custos.errors import UserError
from custos.reports import _oscal_common as oc
from custos.reports._view import framework_label

_RFC4122 = "https://ietf.org/rfc/rfc4122"


def _baseline(report: AssessmentReport) -> common.Resource:
    frameworks = oc.unique(e.framework for e in report.soa)
    return common.Resource(
        uuid=oc.uid(report, "baseline"),
        title="Custos Statement of Applicability baseline",
        description="The control catalogs this plan's control ids come from, as written by "
        + "; ".join(
            f"`custos catalog export --format oscal --framework {fw}` ({framework_label(fw)})"
            for fw in frameworks
        ),
        rlinks=[common.Rlink(href=f"{fw}.oscal.json", media_type="application/oscal.catalog+json")
                for fw in frameworks],
    )  # fmt: skip


def _requirement(
    report: AssessmentReport, entry: SoAEntry, index: Mapping[tuple[str, str], ControlStatus]
) -> ssp.ImplementedRequirement:
    by_components = []
    for system in report.systems:
        status = entry.per_system.get(system.id)
        if status is None:
            continue
        found = index.get((system.id, entry.control))
        by_components.append(
            ssp.ByComponent(
                component_uuid=oc.component_uid(report, system.id),
                uuid=oc.uid(report, "soa", entry.control, system.id),
                description=oc.reasons_text(found, f"{system.name}: {status}"),
                props=oc.props(
                    ("custos-system-id", system.id),
                    *(oc.status_props(found) if found else [("custos-status", status)]),
                ),
                implementation_status=common.ImplementationStatus(
                    state=oc.IMPLEMENTATION_STATE[status], remarks=status.replace("_", " ")
                ),
            )
        )
    if not by_components:
        # Excluded (or applying to no system): say so for the whole scope.
        by_components.append(
            ssp.ByComponent(
                component_uuid=oc.uid(report, "this-system"),
                uuid=oc.uid(report, "soa", entry.control, "this-system"),
                description=entry.exclusion or "Not applicable to any AI system in scope.",
                implementation_status=common.ImplementationStatus(state="not-applicable"),
            )
        )
    why = (
        "Applicable: " + "; ".join(entry.justification)
        if entry.applicable
        else f"Excluded: {entry.exclusion or 'no justification recorded'}"
    )
    return ssp.ImplementedRequirement(
        uuid=oc.uid(report, "soa", entry.control),
        control_id=oc.oscal_id(entry.control),
        props=oc.props(
            ("custos-id", entry.control),
            ("framework", entry.framework),
            ("applicable", str(entry.applicable).lower()),
            ("custos-status", entry.status),
            *(("justification", j) for j in entry.justification),
            ("exclusion", entry.exclusion),
            ("target-date", entry.target_date.isoformat() if entry.target_date else None),
        ),
        responsible_roles=oc.owner_roles(report, entry.owner),
        by_components=by_components,
        remarks=why,
    )


def build_ssp(report: AssessmentReport) -> ssp.SystemSecurityPlan:
    entries = [e for e in report.soa if e.framework in ("iso27002", "iso42001")]
    if not entries:
        raise UserError("the Statement of Applicability is empty: nothing to put in an SSP")
    baseline = _baseline(report)
    index = {(s.system, s.control): s for s in report.statuses}
    scope = oc.line(f"{report.organisation}: {report.scope}")
    this_system = common.SystemComponent(
        uuid=oc.uid(report, "this-system"),
        type="this-system",
        title=scope,
        description=f"All AI systems in scope: {report.scope}",
        status=common.Status(state="operational"),
    )
    operational = any(s.lifecycle == "production" for s in report.systems)
    names = ", ".join(f"{s.name} ({s.id})" for s in report.systems) or "none"
    return ssp.SystemSecurityPlan(
        uuid=oc.document_uid(report, "ssp"),
        metadata=oc.metadata(report, f"{report.organisation}: Statement of Applicability"),
        import_profile=ssp.ImportProfile(href=f"#{baseline.uuid}"),
        system_characteristics=ssp.SystemCharacteristics(
            system_ids=[common.SystemId(identifier_type=_RFC4122, id=oc.uid(report, "scope"))],
            system_name=scope,
            description=f"{report.scope}. AI systems: {names}.",
            system_information=ssp.SystemInformation(
                information_types=[
                    ssp.InformationType(
                        uuid=oc.uid(report, "information-type", "ai-assets"),
                        title="AI system assets",
                        description="Models, datasets, endpoints, pipelines, repositories and "
                        "logs of the AI systems in scope, as declared in custos.yaml.",
                    )
                ]
            ),
            status=ssp.Status1(state="operational" if operational else "under-development"),
            authorization_boundary=ssp.AuthorizationBoundary(
                description=f"The AI systems declared in custos.yaml: {names}."
            ),
        ),
        system_implementation=ssp.SystemImplementation(
            components=[this_system] + [oc.system_component(report, s) for s in report.systems],
        ),
        control_implementation=ssp.ControlImplementation(
            description="The Statement of Applicability: every ISO/IEC 27002:2022 control and "
            "ISO/IEC 42001 Annex A control, applicable or excluded, with why and its status per "
            "AI system. Statuses with basis 'mapping' are inferred through Custos' mappings.",
            implemented_requirements=[_requirement(report, e, index) for e in entries],
        ),
        back_matter=common.BackMatter(resources=[baseline]),
    )
