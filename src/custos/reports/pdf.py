"""`--format pdf`: the HTML report printed by WeasyPrint (optional extra `custos[pdf]`).

WeasyPrint needs system libraries (Pango), so it is not a core dependency. The HTML report is
self-contained and has print CSS, so the PDF is the same document laid out on A4 pages.
"""

from __future__ import annotations

import importlib
from typing import Any

from custos.assess.model import AssessmentReport
from custos.errors import UserError
from custos.reports.html import render_html
from custos.reports.renderer import Renderer

MISSING = "PDF reports need the optional extra: pip install 'custos[pdf]'"


def weasyprint_module() -> Any:
    try:
        return importlib.import_module("weasyprint")
    except ImportError as exc:
        raise UserError(MISSING) from exc
    except OSError as exc:  # installed, but its system libraries (Pango) are missing
        raise UserError(f"{MISSING} (and its system libraries: {exc})") from exc


class PdfRenderer(Renderer):
    media_type = "application/pdf"
    suffix = ".pdf"

    def render(self, report: AssessmentReport) -> bytes:
        weasyprint = weasyprint_module()
        html = render_html(report)
        # The report references nothing outside itself; refusing every fetch keeps it so.
        document = weasyprint.HTML(string=html, base_url=None, url_fetcher=refuse_fetch)
        pdf: bytes = document.write_pdf()
        return pdf


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"the PDF report fetches nothing, refused: {url}")
