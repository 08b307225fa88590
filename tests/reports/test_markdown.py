"""`--format md`: tables for every part of the assessment, checked against a golden file."""

from __future__ import annotations

import dataclasses

from custos.assess.model import AssessmentReport
from custos.reports.markdown import MarkdownRenderer, render_markdown
from tests.reports.conftest import check_golden


def test_markdown_matches_golden(report: AssessmentReport) -> None:
    check_golden("report.md", render_markdown(report))


def test_markdown_has_every_section_as_a_table(report: AssessmentReport) -> None:
    text = MarkdownRenderer().render(report).decode("utf-8")
    for heading in (
        "## AI systems", "## Posture", "## Statement of Applicability",
        "## AI requirements and mapped obligations", "## Gaps (riskiest first)", "## Roadmap",
        "## Risks (appetite: 9)", "## Findings", "## Attestations", "## Trend",
    ):  # fmt: skip
        assert heading in text
        after = text.split(heading, 1)[1].lstrip("\n")
        assert after.startswith("| "), f"{heading} is not followed by a table"


def test_markdown_rows_and_inferred_marks(report: AssessmentReport) -> None:
    text = render_markdown(report)
    lines = text.splitlines()
    soa_part = text.split("## Statement of Applicability", 1)[1].split("\n## ", 1)[0]
    soa = [ln for ln in soa_part.splitlines() if ln.startswith("| iso")]
    assert len(soa) == len(report.soa)
    row = next(ln for ln in lines if ln.startswith("| iso42001:2023:A.6.2.8 |"))
    assert "✗ Not implemented (inferred)" in row
    assert "◐ Partial (inferred)" in row
    direct = next(ln for ln in lines if ln.startswith("| custos:ai:model-signing |"))
    assert "(inferred)" not in direct
    assert sum(1 for ln in lines if ln.startswith("| custos:ai:") and "|" in ln[2:]) >= 4


def test_markdown_escapes_table_breakers_and_html(report: AssessmentReport) -> None:
    tricky = dataclasses.replace(report, scope="a | b <script>")
    text = render_markdown(tricky)
    assert "a \\| b &lt;script&gt;" in text
    assert "<script>" not in text
    assert "# AI security assessment: Acme Payments &lt;Ltd&gt;" in text


def test_first_run_says_so(report: AssessmentReport) -> None:
    text = render_markdown(dataclasses.replace(report, trend=report.trend[-1:]))
    assert "First run: trends appear after the next assessment." in text
