"""Write a report to a file: the one I/O edge of the reports package.

OSCAL documents are re-read with compliance-trestle before the file takes its final name, so a
caller only ever reports success for a document trestle accepts. The file is replaced
atomically: a failure leaves any previous report in place.
"""

from __future__ import annotations

import os
from pathlib import Path

from custos.assess.model import AssessmentReport
from custos.errors import CustosError
from custos.reports.base import ReportFormat

OSCAL_FORMATS = frozenset({ReportFormat.oscal_ssp, ReportFormat.oscal_ar, ReportFormat.oscal_poam})


def render_report(report: AssessmentReport, fmt: ReportFormat) -> bytes:
    return fmt.renderer().render(report)


def write_report(report: AssessmentReport, fmt: ReportFormat, out: Path) -> Path:
    """Render `report` as `fmt` into `out`; OSCAL is proven readable by trestle first."""
    data = render_report(report, fmt)
    # trestle picks the parser by suffix, so the temporary file keeps a .json suffix.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.json")
    try:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            if fmt in OSCAL_FORMATS:
                from custos.reports.oscal import read_oscal  # trestle: only for OSCAL

                read_oscal(tmp, fmt.value)
            tmp.replace(out)
        finally:
            if tmp.exists():
                tmp.unlink()
    except OSError as exc:
        raise CustosError(f"{out}: cannot write the report: {exc.strerror}") from exc
    return out
