"""`--format html`: one self-contained file an auditor can open offline.

No network at all: CSS is inline, charts are inline SVG (geometry from `_charts`), fonts are
the platform's, no JavaScript. Rendered with Jinja2 from `templates/` (autoescape on: every
string from custos.yaml is untrusted). Long lists are capped so a big organisation still gets
a readable file; the JSON and XLSX reports carry everything.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from custos.assess.model import AssessmentReport, ControlStatus, Reason, Status
from custos.checks.model import Evidence
from custos.reports import _charts
from custos.reports import _view as v
from custos.reports.renderer import Renderer

MAX_ROWS = 250  # gaps, findings, evidence rows drawn; the rest is counted
COMPACT_AFTER = 6  # systems; beyond this, per-system columns become a summary
SOA_ORDER = ("iso27002", "iso42001")


def summary(cells: Sequence[v.Cell | None]) -> list[tuple[Status, int]]:
    """Status counts over systems, in the fixed status order (for the compact layout)."""
    return _ordered(Counter(c.status for c in cells if c is not None))


def _ordered(counts: Counter[Status]) -> list[tuple[Status, int]]:
    return [(s, counts[s]) for s in v.STATUS_LABEL if counts[s]]


def _row(
    r: AssessmentReport,
    index: dict[tuple[str, str], ControlStatus],
    control: str,
    per_system: Mapping[str, Status],
) -> tuple[list[v.Cell | None], list[tuple[Status, int]]]:
    """A control's cells, one per system, and their status counts. The compact layout (many
    systems) shows only the counts, so it builds no cells: one object fewer per system and
    control, 300,000 at 1,000 systems."""
    if len(r.systems) <= COMPACT_AFTER:
        cells = [v.cell(index, s.id, control, per_system.get(s.id)) for s in r.systems]
        return cells, summary(cells)
    found = (v.cell_status(index, s.id, control, per_system.get(s.id)) for s in r.systems)
    return [], _ordered(Counter(status for status in found if status is not None))


def _soa_rows(r: AssessmentReport, index: dict[tuple[str, str], ControlStatus]) -> list[Any]:
    groups = []
    frameworks = [f for f in SOA_ORDER if any(e.framework == f for e in r.soa)]
    frameworks += sorted({e.framework for e in r.soa} - set(frameworks))
    for fw in frameworks:
        entries = []
        for e in r.soa:
            if e.framework == fw:
                entries.append((e, *_row(r, index, e.control, e.per_system)))
        groups.append((v.framework_label(fw), entries))
    return groups


def _other_rows(r: AssessmentReport, index: dict[tuple[str, str], ControlStatus]) -> list[Any]:
    """AI requirements and mapped frameworks: everything not already in the SoA."""
    in_soa = {e.control for e in r.soa}
    by_fw: dict[str, dict[str, str]] = {}
    for s in r.statuses:
        if s.control not in in_soa:
            by_fw.setdefault(s.framework, {}).setdefault(s.control, s.title)
    order = ["custos-ai", *sorted(set(by_fw) - {"custos-ai"})]
    groups = []
    for fw in order:
        if fw not in by_fw:
            continue
        rows = []
        for control, title in by_fw[fw].items():
            rows.append((control, title, *_row(r, index, control, {})))
        groups.append((v.framework_label(fw), rows))
    return groups


def _gap_evidence(reasons: Sequence[Reason], evidence: dict[str, Evidence]) -> list[Evidence]:
    found = [evidence[x.ref] for x in reasons if x.kind == "evidence" and x.ref in evidence]
    return list(dict.fromkeys(found))


def context(report: AssessmentReport) -> dict[str, Any]:
    """Everything the template needs, computed once (the template only lays it out)."""
    r = report
    index = v.status_index(r)
    evidence = v.evidence_index(r)
    shown = [s for s in r.statuses if s.framework in ("custos-ai", "iso27002")]
    counts = v.status_counts(shown)
    applicable = sum(n for s, n in counts.items() if s != "not_applicable")
    today = r.generated_at.date()
    findings = sorted(r.findings, key=lambda f: (-f.severity, f.system, f.rule))
    return {
        "r": r,
        "v": v,
        "statuses": list(v.STATUS_LABEL),
        "counts": counts,
        "total_shown": sum(counts.values()),
        "applicable": applicable,
        "critical_high": v.critical_high(r),
        "above_appetite": sum(1 for x in r.risks if x.above_appetite),
        "expired": sum(1 for a in r.attestations if not a.valid),
        "compact": len(r.systems) > COMPACT_AFTER,
        "donut": _charts.donut(r.overall_score),
        "framework_bars": _charts.bars(
            {v.framework_label(k): x for k, x in r.framework_scores.items()}
        ),
        "theme_bars": _charts.bars(dict(r.theme_scores)),
        "system_bars": {s.id: _charts.bars({"": s.score}, track=120)[0] for s in r.systems},
        "frameworks": list(r.framework_scores),
        "heat_maps": [
            _charts.heat_map("Inherent risk", r.risks, False, r.risk_levels, r.risk_appetite),
            _charts.heat_map("Residual risk", r.risks, True, r.risk_levels, r.risk_appetite),
        ],
        "soa_groups": _soa_rows(r, index),
        "other_groups": _other_rows(r, index),
        "gaps": [(g, _gap_evidence(g.reasons, evidence)) for g in r.gaps[:MAX_ROWS]],
        "top_gaps": r.gaps[:5],
        "gap_counts": Counter(g.system for g in r.gaps),
        "gantt": _charts.gantt(r.roadmap, today),
        "findings": findings[:MAX_ROWS],
        "severity_counts": v.severity_counts(r),
        "evidence": r.evidence[:MAX_ROWS],
        "trend": _charts.trend(r.trend) if len(r.trend) >= 2 else None,
        "max_rows": MAX_ROWS,
    }


@functools.cache
def _environment() -> Environment:
    """Built once per process: compiling the templates costs more than rendering them."""
    env = Environment(
        loader=PackageLoader("custos.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = v.pct
    env.filters["day"] = v.day
    env.filters["status_label"] = v.status_label
    return env


def render_html(report: AssessmentReport) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(**context(report))


class HtmlRenderer(Renderer):
    media_type = "text/html; charset=utf-8"
    suffix = ".html"

    def render(self, report: AssessmentReport) -> bytes:
        return render_html(report).encode("utf-8")
