"""`--format md`: the assessment as GitHub-flavoured Markdown, for pull requests and wikis.

Statuses carry a text mark (✓ ◐ ✗ ? ∅) and their name, never colour only; statuses reached
through a mapping are suffixed "(inferred)".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from custos.assess.model import AssessmentReport, Basis, FindingView, Status
from custos.reports import _view as v
from custos.reports.renderer import Renderer


def _cell(text: object) -> str:
    """One table cell: pipes and angle brackets escaped (no raw HTML), newlines flattened."""
    flat = " ".join(str(text).split())
    return flat.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return [*lines, ""]


def _status(status: Status, basis: Basis = "direct") -> str:
    text = f"{v.STATUS_MARK[status]} {v.status_label(status)}"
    return f"{text} ({v.INFERRED})" if basis == "mapping" else text


def _summary(r: AssessmentReport) -> list[str]:
    counts = v.status_counts(s for s in r.statuses if s.framework in ("custos-ai", "iso27002"))
    out = [
        f"# AI security assessment: {_cell(r.organisation)}",
        "",
        f"- Scope: {_cell(r.scope)}",
        f"- Generated: {v.day(r.generated_at)} by Custos {r.custos_version}",
        f"- Overall score: **{v.pct(r.overall_score)}**",
        f"- Gaps: {len(r.gaps)}; critical/high findings: {v.critical_high(r)}; "
        f"risks above appetite: {sum(1 for x in r.risks if x.above_appetite)}",
        "- Controls by status (AI requirements and ISO 27002): "
        + ", ".join(f"{v.status_label(s)} {counts.get(s, 0)}" for s in v.STATUS_LABEL),
        "",
        "## AI systems",
        "",
    ]
    out += _table(
        ["System", "Name", "Tier", "Role", "Lifecycle", "Owner", "Score"],
        (
            [
                s.id,
                s.name,
                s.tier + (" (derived)" if s.tier_derived else ""),
                s.role,
                s.lifecycle,
                s.owner or "",
                v.pct(s.score),
            ]
            for s in r.systems
        ),
    )
    duties = [(s, o) for s in r.systems for o in s.obligations]
    if duties:
        out += ["## EU AI Act obligations", ""]
        out += _table(
            ["System", "Regimes", "Citation", "Role", "Duty", "Applies from"],
            (
                [s.id, ", ".join(s.regimes) or "minimal", o.citation, o.role, o.duty,
                 o.applies_from.isoformat()]
                for s, o in duties
            ),
        )  # fmt: skip
    out += ["## Posture", ""]
    out += _table(
        ["Framework", "Score"],
        ([v.framework_label(f), v.pct(x)] for f, x in r.framework_scores.items()),
    )
    out += _table(["ISO 27002 theme", "Score"], ([t, v.pct(x)] for t, x in r.theme_scores.items()))
    return out


def _soa(r: AssessmentReport) -> list[str]:
    index = v.status_index(r)
    systems = [s.id for s in r.systems]

    def per_system(control: str, sid: str, status: Status | None) -> str:
        found = v.cell(index, sid, control, status)
        return _status(found.status, "mapping" if found.inferred else "direct") if found else ""

    rows = [
        [
            e.control,
            e.title,
            "yes" if e.applicable else "no",
            "; ".join(e.justification) if e.applicable else f"excluded: {e.exclusion or ''}",
            *(per_system(e.control, sid, e.per_system.get(sid)) for sid in systems),
            e.owner or "",
            v.day(e.target_date),
        ]
        for e in r.soa
    ]
    header = ["Control", "Title", "Applicable", "Justification", *systems, "Owner", "Target"]
    return ["## Statement of Applicability", "", *_table(header, rows)]


def _requirements(r: AssessmentReport) -> list[str]:
    """Everything outside the SoA: AI requirements and the frameworks reached by mapping."""
    soa = {e.control for e in r.soa}
    systems = [s.id for s in r.systems]
    index = v.status_index(r)
    controls: dict[str, tuple[str, str]] = {}
    for s in r.statuses:
        if s.control not in soa:
            controls.setdefault(s.control, (s.framework, s.title))
    rows = []
    for control, (framework, title) in controls.items():
        cells = []
        for sid in systems:
            found = index.get((sid, control))
            cells.append(_status(found.status, found.basis) if found else "")
        rows.append([control, v.framework_label(framework), title, *cells])
    header = ["Control", "Framework", "Title", *systems]
    return ["## AI requirements and mapped obligations", "", *_table(header, rows)]


def _gaps(r: AssessmentReport) -> list[str]:
    rows = [
        [
            g.control,
            g.title,
            g.system,
            _status(g.status),
            g.risk_score,
            ", ".join(g.risks),
            "; ".join(x.text for x in g.reasons),
        ]
        for g in r.gaps
    ]
    header = ["Control", "Title", "System", "Status", "Risk", "Risks", "Reasons"]
    return ["## Gaps (riskiest first)", "", *_table(header, rows)]


def _roadmap(r: AssessmentReport) -> list[str]:
    rows = [
        [
            i.rank,
            i.control,
            i.title,
            ", ".join(i.systems),
            v.PHASE_LABEL[i.phase],
            v.day(i.start),
            v.day(i.due),
            i.effort,
            i.risk_reduction,
            i.owner or "",
        ]
        for i in r.roadmap
    ]
    header = ["#", "Control", "Title", "Systems", "Phase", "Start", "Due", "Effort",
              "Risk reduction", "Owner"]  # fmt: skip
    return ["## Roadmap", "", *_table(header, rows)]


def _risks(r: AssessmentReport) -> list[str]:
    rows = [
        [x.id, x.title, ", ".join(x.systems), f"{x.inherent} {x.inherent_level}",
         f"{x.residual} {x.residual_level}", "yes" if x.above_appetite else "no",
         x.treatment, x.owner or "", v.day(x.review_date) + (" (overdue)" if x.overdue else "")]
        for x in r.risks
    ]  # fmt: skip
    header = ["Risk", "Title", "Systems", "Inherent", "Residual", "Above appetite",
              "Treatment", "Owner", "Review"]  # fmt: skip
    return [f"## Risks (appetite: {r.risk_appetite})", "", *_table(header, rows)]


def _check(f: FindingView) -> str:
    """The check, marked when its evidence was pushed without a verified ledger proof."""
    return f"{f.check} (claimed)" if f.provenance == "claimed" else f.check


def _findings(r: AssessmentReport) -> list[str]:
    ordered = sorted(r.findings, key=lambda f: (-f.severity, f.system, f.rule))
    rows = [
        [f.severity.name, f.system, f.asset or "", _check(f), f.rule, f.message, f.location]
        for f in ordered
    ]
    header = ["Severity", "System", "Asset", "Check", "Rule", "Message", "Location"]
    return ["## Findings", "", *_table(header, rows)]


def _attestations(r: AssessmentReport) -> list[str]:
    rows = [
        [
            a.id,
            a.control,
            ", ".join(a.systems),
            a.author,
            v.day(a.date),
            v.day(a.expires),
            "valid" if a.valid else "not valid",
            a.note,
        ]
        for a in r.attestations
    ]
    header = ["Attestation", "Control", "Systems", "Author", "Date", "Expires", "State", "Note"]
    return ["## Attestations", "", *_table(header, rows)]


def _trend(r: AssessmentReport) -> list[str]:
    if len(r.trend) < 2:
        return ["## Trend", "", "First run: trends appear after the next assessment.", ""]
    rows = [[v.day(t.at), v.pct(t.score)] for t in r.trend]
    return ["## Trend", "", *_table(["Run", "Score"], rows)]


def render_markdown(report: AssessmentReport) -> str:
    lines = [
        *_summary(report),
        *_soa(report),
        *_requirements(report),
        *_gaps(report),
        *_roadmap(report),
        *_risks(report),
        *_findings(report),
        *_attestations(report),
        *_trend(report),
        "Statuses marked (inferred) were reached through Custos' mappings, not shown directly.",
    ]
    return "\n".join(lines) + "\n"


class MarkdownRenderer(Renderer):
    media_type = "text/markdown; charset=utf-8"
    suffix = ".md"

    def render(self, report: AssessmentReport) -> bytes:
        return render_markdown(report).encode("utf-8")
