"""The registry of report formats (the renderer contract is `reports.renderer`).

The CLI `--format` option and the web endpoint pick a renderer through
`ReportFormat.renderer()`, so adding a format is one module plus one enum member, and the
exhaustive `match` below makes a forgotten branch a type error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from custos.reports.renderer import Renderer

__all__ = ["Renderer", "ReportFormat"]


class ReportFormat(StrEnum):
    """Every format `custos report --format` accepts."""

    html = "html"
    md = "md"
    json = "json"
    xlsx = "xlsx"
    junit = "junit"
    oscal_ssp = "oscal-ssp"
    oscal_ar = "oscal-ar"
    oscal_poam = "oscal-poam"
    pdf = "pdf"

    def renderer(self) -> Renderer:
        """The renderer for this format.

        Imports happen here, per branch, because some renderers pull in heavy libraries
        (trestle costs about half a second) that other formats should not pay for.
        """
        match self:
            case ReportFormat.html:
                from custos.reports.html import HtmlRenderer

                return HtmlRenderer()
            case ReportFormat.md:
                from custos.reports.markdown import MarkdownRenderer

                return MarkdownRenderer()
            case ReportFormat.json:
                from custos.reports.json_report import JsonRenderer

                return JsonRenderer()
            case ReportFormat.xlsx:
                from custos.reports.xlsx import XlsxRenderer

                return XlsxRenderer()
            case ReportFormat.junit:
                from custos.reports.junit import JunitRenderer

                return JunitRenderer()
            case ReportFormat.oscal_ssp:
                from custos.reports.oscal import OscalSspRenderer

                return OscalSspRenderer()
            case ReportFormat.oscal_ar:
                from custos.reports.oscal import OscalArRenderer

                return OscalArRenderer()
            case ReportFormat.oscal_poam:
                from custos.reports.oscal import OscalPoamRenderer

                return OscalPoamRenderer()
            case ReportFormat.pdf:
                from custos.reports.pdf import PdfRenderer

                return PdfRenderer()
            case _:
                assert_never(self)
