"""`write_report`: the only function that writes; atomic, and names the file on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from custos.assess.model import AssessmentReport
from custos.errors import CustosError
from custos.reports import ReportFormat, write_report


def test_writes_the_rendered_bytes(report: AssessmentReport, tmp_path: Path) -> None:
    out = write_report(report, ReportFormat.md, tmp_path / "a" / "report.md")
    assert out.read_text(encoding="utf-8").startswith("# AI security assessment")
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.md"]


def test_unwritable_target_is_a_clear_error(report: AssessmentReport, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CustosError, match=r"file/report\.md: cannot write the report"):
        write_report(report, ReportFormat.md, blocker / "report.md")
    assert blocker.read_text() == "x"
