"""`--format xlsx`: the workbook auditors ask for, one row per control, filterable.

Sheets: "Statement of Applicability" (one row per SoA control, a status column per system),
"Gaps", "Roadmap" and "Risks". Each sheet has a frozen, bold header row, an autofilter over
the data and column widths fitted to the content. Status cells are colour-coded and always
hold the status name too; inferred statuses say "(inferred)".
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from custos.assess.model import AssessmentReport, Status
from custos.reports import _view as v
from custos.reports.renderer import Renderer

# Light fills that stay readable in greyscale print; the text says the status anyway.
STATUS_FILL: dict[Status, str] = {
    "implemented": "C6EFCE",
    "partial": "FFEB9C",
    "not_implemented": "FFC7CE",
    "unknown": "E7E6E6",
    "not_applicable": "F2F2F2",
}
LEVEL_FILLS = ("C6EFCE", "FFEB9C", "F8CBAD", "FFC7CE", "E6B9B8")
_HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_MAX_WIDTH = 60


_FILLS = {rgb: PatternFill("solid", fgColor=rgb) for rgb in (*STATUS_FILL.values(), *LEVEL_FILLS)}
# One shared style object per look: openpyxl hashes styles per cell, so reuse keeps it fast.
_HEAD_ALIGN = Alignment(vertical="center", wrap_text=True)
_BODY_ALIGN = Alignment(vertical="top", wrap_text=True)


def _sheet(wb: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    ws = wb.create_sheet(title)
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
    for cell in ws[1]:
        cell.fill = _HEADER_FILL
        cell.font = _HEADER_FONT
        cell.alignment = _HEAD_ALIGN
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"
    for idx, name in enumerate(header):
        longest = max((len(str(r[idx])) for r in rows if r[idx] is not None), default=0)
        width = min(_MAX_WIDTH, max(8, len(name) + 2, longest + 2))
        ws.column_dimensions[get_column_letter(idx + 1)].width = width
    for row_cells in ws.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = _BODY_ALIGN
            # Text from custos.yaml that starts with "=" must stay text, never a formula.
            if cell.data_type == "f":
                cell.data_type = "s"
    return ws


def _colour_statuses(ws: Any, columns: Sequence[int]) -> None:
    """Fill status cells by the status their text names."""
    by_label = {v.status_label(s): s for s in STATUS_FILL}
    for row in ws.iter_rows(min_row=2):
        for col in columns:
            cell = row[col - 1]
            label = str(cell.value or "").removesuffix(f" ({v.INFERRED})")
            if label in by_label:
                cell.fill = _FILLS[STATUS_FILL[by_label[label]]]


def _soa_sheet(wb: Workbook, r: AssessmentReport) -> None:
    index = v.status_index(r)
    systems = [s.id for s in r.systems]
    rows = []
    for e in r.soa:
        per_system = []
        for sid in systems:
            found = v.cell(index, sid, e.control, e.per_system.get(sid))
            text = v.status_label(found.status) if found else ""
            per_system.append(f"{text} ({v.INFERRED})" if found and found.inferred else text)
        rows.append(
            [
                e.control,
                v.framework_label(e.framework),
                e.title,
                "yes" if e.applicable else "no",
                "; ".join(e.justification),
                e.exclusion or "",
                v.status_label(e.status),
                *per_system,
                e.owner or "",
                e.target_date,
            ]
        )
    header = ["Control", "Framework", "Title", "Applicable", "Justification", "Exclusion",
              "Status", *systems, "Owner", "Target date"]  # fmt: skip
    ws = _sheet(wb, "Statement of Applicability", header, rows)
    _colour_statuses(ws, range(7, 8 + len(systems)))


def _gaps_sheet(wb: Workbook, r: AssessmentReport) -> None:
    rows = [
        [
            g.system,
            g.control,
            v.framework_label(g.framework),
            g.title,
            v.status_label(g.status),
            g.risk_score,
            ", ".join(g.risks),
            "\n".join(x.text for x in g.reasons),
        ]
        for g in r.gaps
    ]
    header = ["System", "Control", "Framework", "Title", "Status", "Risk score", "Risks",
              "Reasons"]  # fmt: skip
    _colour_statuses(_sheet(wb, "Gaps", header, rows), [5])


def _roadmap_sheet(wb: Workbook, r: AssessmentReport) -> None:
    rows = [
        [
            i.rank,
            i.control,
            i.title,
            ", ".join(i.systems),
            ", ".join(i.risks),
            i.risk_reduction,
            i.effort,
            i.owner or "",
            i.phase,
            i.start,
            i.due,
        ]
        for i in r.roadmap
    ]
    header = ["Rank", "Control", "Title", "Systems", "Risks", "Risk reduction", "Effort (1-5)",
              "Owner", "Phase (days)", "Start", "Due"]  # fmt: skip
    _sheet(wb, "Roadmap", header, rows)


def _risks_sheet(wb: Workbook, r: AssessmentReport) -> None:
    rows = [
        [
            x.id,
            x.title,
            ", ".join(x.systems),
            ", ".join(x.assets),
            ", ".join(x.threats),
            x.likelihood,
            x.impact,
            x.inherent,
            x.inherent_level,
            x.residual_likelihood,
            x.residual_impact,
            x.residual,
            x.residual_level,
            "yes" if x.above_appetite else "no",
            x.treatment,
            ", ".join(x.controls),
            ", ".join(x.open_controls),
            x.owner or "",
            x.review_date,
            "yes" if x.overdue else "no",
        ]
        for x in r.risks
    ]
    header = ["Risk", "Title", "Systems", "Assets", "Threats", "Likelihood", "Impact",
              "Inherent", "Inherent level", "Residual likelihood", "Residual impact",
              "Residual", "Residual level", "Above appetite", "Treatment", "Controls",
              "Open controls", "Owner", "Review date", "Review overdue"]  # fmt: skip
    ws = _sheet(wb, "Risks", header, rows)
    for row in ws.iter_rows(min_row=2):
        for col in (9, 13):
            cell = row[col - 1]
            rank = v.level_rank(str(cell.value), r.risk_levels)
            cell.fill = _FILLS[LEVEL_FILLS[min(rank, len(LEVEL_FILLS) - 1)]]


def build_workbook(report: AssessmentReport) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _soa_sheet(wb, report)
    _gaps_sheet(wb, report)
    _roadmap_sheet(wb, report)
    _risks_sheet(wb, report)
    # Fixed document times keep the workbook's metadata a function of the report.
    stamp = report.generated_at.replace(tzinfo=None)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = f"Custos {report.custos_version}"
    wb.properties.title = f"AI security assessment: {report.organisation}"
    return wb


class XlsxRenderer(Renderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    suffix = ".xlsx"

    def render(self, report: AssessmentReport) -> bytes:
        buffer = io.BytesIO()
        build_workbook(report).save(buffer)
        return buffer.getvalue()
