"""`--format html`: one self-contained, accessible file with every part of the assessment."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import pytest

from custos.assess.model import AssessmentReport
from custos.reports._view import STATUS_LABEL
from custos.reports.html import HtmlRenderer, render_html

SECTIONS = ("summary", "posture", "risks", "soa", "requirements", "gaps", "roadmap",
            "findings", "attestations", "evidence", "trend")  # fmt: skip


class _Collector(HTMLParser):
    """Collects tags and attributes, and proves the document parses."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.fixture
def html(report: AssessmentReport) -> str:
    return HtmlRenderer().render(report).decode("utf-8")


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Collector()
    parser.feed(html)
    return parser.tags


def test_nothing_is_loaded_from_the_network(html: str) -> None:
    external = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert external == []
    assert re.findall(r"""url\(\s*["']?\s*(?:https?:)?//""", html, re.I) == []
    assert "@import" not in html
    tags = _tags(html)
    assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe", "object")]
    hrefs = [a.get("href") for t, a in tags if t == "a"]
    assert hrefs
    assert all((h or "").startswith("#") for h in hrefs)


def test_every_section_is_there_with_a_heading(html: str) -> None:
    tags = _tags(html)
    ids = {a.get("id") for _, a in tags}
    for section in SECTIONS:
        assert section in ids
        assert f"h-{section}" in ids  # labelled by its h2
    assert [t for t, _ in tags].count("h1") == 1
    assert '<h2 id="h-soa">Statement of Applicability</h2>' in html


def test_header_names_organisation_scope_time_and_version(html: str) -> None:
    assert "Acme Payments &lt;Ltd&gt;" in html  # autoescaped
    assert "<Ltd>" not in html
    assert "Card-fraud scoring &amp; customer support AI" in html
    assert "2025-03-14 09:30 UTC" in html
    assert "Custos 0.1.0" in html or "<dd>0.1.0</dd>" in html


def test_every_status_is_shown_as_text(html: str) -> None:
    for label in STATUS_LABEL.values():
        assert f"</span>{label}</span>" in html, label


def test_inferred_statuses_are_tagged(html: str, report: AssessmentReport) -> None:
    tag = re.compile(r'<span class="tag"[^>]*>inferred</span>')
    inferred_cells = sum(1 for s in report.statuses if s.basis == "mapping")
    # one per inferred (system, control) cell, plus the explanations in text and footer
    assert len(tag.findall(html)) == inferred_cells + 2
    soa_row = html.split("iso42001:2023:A.6.2.8", 1)[1].split("</tr>", 1)[0]
    assert len(tag.findall(soa_row)) == 2
    direct_row = html.split("<code>custos:ai:model-signing</code> Sign", 1)[1].split("</tr>")[0]
    assert not tag.findall(direct_row)


def test_tables_have_header_cells(html: str) -> None:
    tags = _tags(html)
    assert sum(1 for t, _ in tags if t == "table") >= 10
    assert sum(1 for t, a in tags if t == "th" and a.get("scope") == "col") > 40


def test_charts_are_inline_svg_with_labels(html: str) -> None:
    svgs = [a for t, a in _tags(html) if t == "svg"]
    # donut, 2 bar charts, 2 mini bars, 2 heat maps, gantt, trend
    assert len(svgs) == 9
    assert all(a.get("role") == "img" and a.get("aria-label") for a in svgs)
    assert 'class="appetite"' in html
    assert html.count('class="gbar') == 5
    assert "Inherent risk" in html
    assert "Residual risk" in html


def test_gaps_show_reasons_and_the_evidence_behind_them(html: str) -> None:
    gaps = html.split('id="h-gaps"', 1)[1].split('id="h-roadmap"', 1)[0]
    assert "access log lacks caller identity" in gaps
    assert "logs/access.log" in gaps
    assert "sha256 " + "ef" * 8 in gaps
    assert "no current evidence from check dataset-pii" in gaps


def test_findings_attestations_and_evidence(html: str) -> None:
    assert '<span class="sev sev-critical">critical</span>' in html
    assert "Expired or invalid" in html
    assert ">Valid</span>" in html
    assert "ab" * 32 in html  # full hash in the evidence appendix


def test_first_run_has_a_clear_empty_state(report: AssessmentReport) -> None:
    html = render_html(dataclasses.replace(report, trend=report.trend[:1]))
    trend = html.split('id="h-trend"', 1)[1]
    assert "<strong>First run</strong>" in trend
    assert "<svg" not in trend


def test_untrusted_text_is_escaped(report: AssessmentReport) -> None:
    system = dataclasses.replace(report.systems[0], name='<img src=x onerror="alert(1)">')
    html = render_html(dataclasses.replace(report, systems=(system, *report.systems[1:])))
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_many_systems_switch_to_a_compact_status_summary(report: AssessmentReport) -> None:
    base = report.systems[0]
    systems = (
        tuple(dataclasses.replace(base, id=f"sys-{i}", name=f"System {i}") for i in range(8))
        + report.systems
    )
    html = render_html(dataclasses.replace(report, systems=systems))
    assert "Status across systems" in html
    assert '<th scope="col"><span class="id">sys-3</span></th>' not in html


def test_print_styles_are_included(html: str) -> None:
    assert "@media print" in html
    assert "@page" in html


def test_empty_report_renders(report: AssessmentReport) -> None:
    empty = dataclasses.replace(
        report, systems=(), statuses=(), soa=(), gaps=(), roadmap=(), risks=(), findings=(),
        evidence=(), attestations=(), framework_scores={}, theme_scores={}, trend=(),
    )  # fmt: skip
    html = render_html(empty)
    for text in ("No gaps", "Nothing to plan", "No findings", "No risks recorded", "First run"):
        assert text in html
