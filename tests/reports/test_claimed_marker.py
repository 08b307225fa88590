"""Evidence pushed without a verified ledger proof is marked "claimed" wherever reports list
evidence or findings; local evidence carries no marker."""

from __future__ import annotations

import dataclasses
import io
import json

from openpyxl import load_workbook

from custos.assess.evidence import judge_evidence
from custos.assess.model import AssessmentReport
from custos.assess.status import Inputs, derive_status
from custos.catalog.catalog import Catalog
from custos.provenance import Provenance
from custos.reports.base import ReportFormat
from custos.reports.write import render_report

CLAIMED = Provenance("claimed", reason="bad-proof", message="proof gives another root")


def _claimed(report: AssessmentReport) -> AssessmentReport:
    first = dataclasses.replace(report.evidence[0], provenance=CLAIMED)
    finding = dataclasses.replace(report.findings[0], provenance="claimed")
    return dataclasses.replace(
        report,
        evidence=(first, *report.evidence[1:]),
        findings=(finding, *report.findings[1:]),
    )


def test_reports_mark_claimed_evidence_and_findings(report: AssessmentReport) -> None:
    claimed = _claimed(report)
    assert b'class="badge claimed"' not in render_report(report, ReportFormat.html)
    for fmt in (ReportFormat.md, ReportFormat.oscal_ar):
        assert b"claimed" not in render_report(report, fmt), fmt
    html = render_report(claimed, ReportFormat.html).decode()
    assert html.count('class="badge claimed"') == 2  # the evidence row and the finding
    md = render_report(claimed, ReportFormat.md).decode()
    assert f"{claimed.findings[0].check} (claimed)" in md
    ar = json.loads(render_report(claimed, ReportFormat.oscal_ar))
    observations = ar["assessment-results"]["results"][0]["observations"]
    marked = [o for o in observations if "(claimed" in o["title"]]
    assert len(marked) == 1
    assert {"name": "provenance", "value": "claimed"} in [
        {"name": p["name"], "value": p["value"]} for p in marked[0]["props"]
    ]


def test_json_report_carries_provenance(report: AssessmentReport) -> None:
    data = json.loads(render_report(_claimed(report), ReportFormat.json))
    assert data["evidence"][0]["provenance"] == CLAIMED.to_dict()
    assert data["evidence"][1]["provenance"] == {"kind": "local"}
    assert [f["provenance"] for f in data["findings"][:2]] == ["claimed", "local"]


def test_the_workbook_marks_claimed_evidence_in_gap_reasons(
    report: AssessmentReport, shipped: Catalog
) -> None:
    """The workbook lists evidence through each gap's reasons, as the assessment words them."""
    failed = dataclasses.replace(report.evidence[0], result="fail", provenance=CLAIMED)
    inputs = Inputs(
        system=failed.system, control=shipped.control("custos:ai:model-signing"),
        applicable=True, applicability_reason="required", expected_checks=frozenset(),
        evidence=[judge_evidence(failed, report.generated_at, {})], attestations=[],
        exclusion=None,
    )  # fmt: skip
    reasons = derive_status(inputs).reasons
    gap = dataclasses.replace(report.gaps[0], reasons=reasons)
    with_gap = dataclasses.replace(report, gaps=(gap, *report.gaps[1:]))
    data = render_report(with_gap, ReportFormat.xlsx)
    cell = str(load_workbook(io.BytesIO(data))["Gaps"]["H2"].value)
    assert "[claimed: bad-proof]" in cell
