"""`--format xlsx`: the auditors' workbook, read back with openpyxl."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from custos.assess.model import AssessmentReport
from custos.reports.xlsx import STATUS_FILL, XlsxRenderer
from tests.reports.conftest import S1, S2

SHEETS = ["Statement of Applicability", "Gaps", "Roadmap", "Risks"]


def _load(report: AssessmentReport) -> Any:
    return load_workbook(io.BytesIO(XlsxRenderer().render(report)))


@pytest.fixture
def wb(report: AssessmentReport) -> Any:
    return _load(report)


def _rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_sheets_and_row_counts(wb: Any, report: AssessmentReport) -> None:
    assert wb.sheetnames == SHEETS
    counts = {name: wb[name].max_row - 1 for name in SHEETS}
    assert counts == {
        "Statement of Applicability": len(report.soa),
        "Gaps": len(report.gaps),
        "Roadmap": len(report.roadmap),
        "Risks": len(report.risks),
    }


@pytest.mark.parametrize("name", SHEETS)
def test_header_frozen_filtered_and_sized(wb: Any, name: str) -> None:
    ws = wb[name]
    assert ws.freeze_panes == "A2"
    last_col = ws.cell(row=1, column=ws.max_column).column_letter
    assert ws.auto_filter.ref == f"A1:{last_col}{ws.max_row}"
    assert ws["A1"].font.b
    widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
    assert all(8 <= w <= 60 for w in widths)


def test_soa_has_a_status_column_per_system(wb: Any) -> None:
    rows = _rows(wb["Statement of Applicability"])
    header = rows[0]
    assert header[:7] == [
        "Control", "Framework", "Title", "Applicable", "Justification", "Exclusion", "Status",
    ]  # fmt: skip
    assert header[7:9] == [S1, S2]
    by_control = {r[0]: r for r in rows[1:]}
    excluded = by_control["iso27002:2022:7.1"]
    assert excluded[3] == "no"
    assert "hosting provider is certified" in excluded[5]
    assert excluded[7:9] == ["Not applicable", "Not applicable"]
    assert by_control["iso42001:2023:A.6.2.8"][7:9] == [
        "Not implemented (inferred)", "Partial (inferred)",
    ]  # fmt: skip


def test_status_cells_are_colour_coded(wb: Any) -> None:
    ws = wb["Statement of Applicability"]
    colours = {}
    for row in ws.iter_rows(min_row=2):
        for cell in row[6:9]:  # worst status, then one column per system
            colours[cell.value] = cell.fill.fgColor.rgb[-6:]
    assert colours["Implemented"] == STATUS_FILL["implemented"]
    assert colours["Not implemented"] == STATUS_FILL["not_implemented"]
    assert colours["Partial"] == STATUS_FILL["partial"]
    assert colours["Partial (inferred)"] == STATUS_FILL["partial"]
    assert colours["Unknown"] == STATUS_FILL["unknown"]


def test_gaps_roadmap_and_risks_content(wb: Any, report: AssessmentReport) -> None:
    gaps = _rows(wb["Gaps"])
    assert gaps[1][:2] == [report.gaps[0].system, report.gaps[0].control]
    assert "access log lacks caller identity" in gaps[1][7]
    roadmap = _rows(wb["Roadmap"])
    assert [r[0] for r in roadmap[1:]] == [1, 2, 3, 4, 5]
    assert roadmap[1][8] == "0-30"
    risks = {r[0]: r for r in _rows(wb["Risks"])[1:]}
    assert risks["R-01"][7:9] == [20, "critical"]
    assert risks["R-01"][13] == "yes"


def test_text_that_looks_like_a_formula_stays_text(report: AssessmentReport) -> None:
    gap = dataclasses.replace(report.gaps[0], title='=HYPERLINK("x","y")')
    wb = _load(dataclasses.replace(report, gaps=(gap, *report.gaps[1:])))
    cell = wb["Gaps"]["D2"]
    assert cell.value == '=HYPERLINK("x","y")'
    assert cell.data_type == "s"
