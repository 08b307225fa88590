"""Reports: renderers from a finished `AssessmentReport` to documents.

    from custos.reports import ReportFormat, write_report

    write_report(report, ReportFormat("html"), Path("out/report.html"))
    data = ReportFormat.oscal_ssp.renderer().render(report)   # bytes, nothing written

Formats: html, md, json, xlsx, junit, oscal-ssp, oscal-ar, oscal-poam, pdf (docs/reports.md).
Renderers never touch a store or a request; `write_report` is the only function that writes.
"""

from custos.reports.base import Renderer, ReportFormat
from custos.reports.write import render_report, write_report

__all__ = ["Renderer", "ReportFormat", "render_report", "write_report"]
