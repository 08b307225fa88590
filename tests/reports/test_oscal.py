"""OSCAL SSP, assessment results and POA&M: written, then re-read with trestle's models."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from trestle.oscal import assessment_results, poam, ssp

from custos.assess.model import AssessmentReport
from custos.catalog.oscal import oscal_id
from custos.errors import DataError, UserError
from custos.reports import ReportFormat, write_report
from custos.reports.oscal import read_oscal
from tests.reports.conftest import S1, S2


def _roundtrip(report: AssessmentReport, fmt: ReportFormat, tmp_path: Path, model: Any) -> Any:
    out = tmp_path / f"{fmt.value}.json"
    out.write_bytes(fmt.renderer().render(report))
    reread = model.oscal_read(out)
    assert reread is not None
    return reread


def _props(obj: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in obj.props or []:
        found.setdefault(p.name, []).append(p.value)
    return found


def test_ssp_lists_every_soa_control_with_status_per_system(
    report: AssessmentReport, tmp_path: Path
) -> None:
    plan = _roundtrip(report, ReportFormat.oscal_ssp, tmp_path, ssp.SystemSecurityPlan)
    reqs = plan.control_implementation.implemented_requirements
    assert [r.control_id for r in reqs] == [oscal_id(e.control) for e in report.soa]
    components = {c.uuid: c for c in plan.system_implementation.components}
    assert len(components) == 1 + len(report.systems)
    by_id = {_props(r)["custos-id"][0]: r for r in reqs}

    crypto = by_id["iso27002:2022:8.24"]
    assert _props(crypto)["applicable"] == ["true"]
    assert "legal: EU AI Act Art. 15" in crypto.remarks
    states = {
        _props(b)["custos-system-id"][0]: (b.implementation_status.state, _props(b))
        for b in crypto.by_components
    }
    assert states[S1][0] == "implemented"
    assert states[S2][0] == "planned"
    assert states[S2][1]["custos-status"] == ["not_implemented"]
    assert all(b.component_uuid in components for b in crypto.by_components)

    excluded = by_id["iso27002:2022:7.1"]
    assert _props(excluded)["applicable"] == ["false"]
    assert excluded.remarks.startswith("Excluded: no on-premises facilities")
    assert [b.implementation_status.state for b in excluded.by_components] == ["not-applicable"]

    mapped = by_id["iso42001:2023:A.6.2.8"]
    assert {_props(b)["inferred"][0] for b in mapped.by_components} == {"true"}
    assert crypto.responsible_roles[0].role_id == "control-owner"


def test_ar_has_one_result_with_gap_findings_and_evidence_observations(
    report: AssessmentReport, tmp_path: Path
) -> None:
    doc = _roundtrip(report, ReportFormat.oscal_ar, tmp_path, assessment_results.AssessmentResults)
    assert len(doc.results) == 1
    result = doc.results[0]
    assert len(result.findings) == len(report.gaps)
    assert len(result.observations) == len(report.evidence) + len(report.attestations)
    assert len(result.risks) == len(report.risks)
    states = {f.target.status.state.value for f in result.findings}
    assert states == {"not-satisfied"}
    first = result.findings[0]
    assert first.target.target_id == oscal_id(report.gaps[0].control)
    assert _props(first)["system"] == [report.gaps[0].system]
    observations = {o.uuid: o for o in result.observations}
    linked = [observations[r.observation_uuid] for r in first.related_observations or []]
    assert [o.title for o in linked] == ["access-log v2 on fraud-scoring/api-logs: fail"]
    assert linked[0].relevant_evidence[0].description == "logs/access.log"
    assert _props(linked[0].relevant_evidence[0])["sha256"] == ["ef" * 32]
    methods = sorted(str(o.methods[0].value if hasattr(o.methods[0], "value") else o.methods[0])
                     for o in result.observations)  # fmt: skip
    assert methods.count("INTERVIEW") == len(report.attestations)
    reviewed = result.reviewed_controls.control_selections[0].include_controls
    assert len(reviewed) == len({s.control for s in report.statuses})


def test_poam_has_an_item_per_roadmap_item(report: AssessmentReport, tmp_path: Path) -> None:
    doc = _roundtrip(report, ReportFormat.oscal_poam, tmp_path, poam.PlanOfActionAndMilestones)
    items = doc.poam_items
    assert len(items) == len(report.roadmap)
    assert [_props(i)["rank"] for i in items] == [[str(r.rank)] for r in report.roadmap]
    assert _props(items[0])["due"] == [report.roadmap[0].due.isoformat()]
    risks = {r.uuid: r for r in doc.risks}
    reduced = {rid for item in report.roadmap for rid in item.risks}
    assert len(risks) == len(reduced)
    second = items[1]
    assert len(second.related_risks) == 2
    assert all(r.risk_uuid in risks for r in second.related_risks)
    tasks = [t for r in doc.risks for resp in r.remediations for t in resp.tasks]
    assert len(tasks) == sum(len(i.risks) for i in report.roadmap)
    assert all(t.timing.within_date_range.end >= t.timing.within_date_range.start for t in tasks)


def test_ssp_and_poam_name_the_same_system(report: AssessmentReport, tmp_path: Path) -> None:
    plan = _roundtrip(report, ReportFormat.oscal_ssp, tmp_path, ssp.SystemSecurityPlan)
    doc = _roundtrip(report, ReportFormat.oscal_poam, tmp_path, poam.PlanOfActionAndMilestones)
    assert doc.system_id.id == plan.system_characteristics.system_ids[0].id


@pytest.mark.parametrize("fmt", [ReportFormat.oscal_ssp, ReportFormat.oscal_ar,
                                 ReportFormat.oscal_poam])  # fmt: skip
def test_output_is_deterministic(report: AssessmentReport, fmt: ReportFormat) -> None:
    renderer = fmt.renderer()
    assert renderer.render(report) == renderer.render(report)


def test_empty_roadmap_gives_a_placeholder_item(report: AssessmentReport, tmp_path: Path) -> None:
    done = dataclasses.replace(report, roadmap=(), gaps=())
    doc = _roundtrip(done, ReportFormat.oscal_poam, tmp_path, poam.PlanOfActionAndMilestones)
    assert [i.title for i in doc.poam_items] == ["No open actions"]
    assert doc.risks is None


@pytest.mark.parametrize("fmt", [ReportFormat.oscal_ssp, ReportFormat.oscal_ar,
                                 ReportFormat.oscal_poam])  # fmt: skip
def test_write_report_rereads_oscal(
    report: AssessmentReport, fmt: ReportFormat, tmp_path: Path
) -> None:
    out = write_report(report, fmt, tmp_path / "sub" / "doc.json")
    assert read_oscal(out, fmt.value) is not None
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["doc.json"]


def test_reading_the_wrong_kind_is_a_data_error(report: AssessmentReport, tmp_path: Path) -> None:
    out = write_report(report, ReportFormat.oscal_ssp, tmp_path / "ssp.json")
    with pytest.raises(DataError, match=r"ssp\.json: not a valid OSCAL poam"):
        read_oscal(out, "oscal-poam")


def test_an_empty_soa_cannot_make_an_ssp(report: AssessmentReport) -> None:
    with pytest.raises(UserError, match="Statement of Applicability is empty"):
        ReportFormat.oscal_ssp.renderer().render(dataclasses.replace(report, soa=()))
