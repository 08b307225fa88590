"""Shared, pure helpers for the human-facing renderers: labels, lookups and formatting.

Kept in one place so the Markdown, HTML and XLSX reports name statuses, frameworks and risk
levels identically.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from custos.assess.model import AssessmentReport, ControlStatus, Status
from custos.checks.model import Evidence, Severity

STATUS_LABEL: dict[Status, str] = {
    "implemented": "Implemented",
    "partial": "Partial",
    "not_implemented": "Not implemented",
    "unknown": "Unknown",
    "not_applicable": "Not applicable",
}
# A text mark next to every status, so colour is never the only signal (also in print).
STATUS_MARK: dict[Status, str] = {
    "implemented": "✓",
    "partial": "◐",
    "not_implemented": "✗",
    "unknown": "?",
    "not_applicable": "∅",
}
FRAMEWORK_LABEL: dict[str, str] = {
    "iso27002": "ISO/IEC 27002:2022",
    "custos-ai": "Custos AI requirements",
    "iso42001": "ISO/IEC 42001 Annex A",
    "eu-ai-act": "EU AI Act",
    "nist-ai-rmf": "NIST AI RMF",
    "mitre-atlas": "MITRE ATLAS",
    "owasp-llm": "OWASP LLM Top 10",
    "owasp-ml": "OWASP ML Top 10",
}
PHASE_LABEL = {"0-30": "Days 0-30", "31-90": "Days 31-90", "91-180": "Days 91-180"}
INFERRED = "inferred"


def framework_label(framework: str) -> str:
    return FRAMEWORK_LABEL.get(framework, framework)


def status_label(status: Status) -> str:
    return STATUS_LABEL[status]


def pct(value: float) -> str:
    return f"{value:.1f}%"


def day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    return value.isoformat()


def status_index(report: AssessmentReport) -> dict[tuple[str, str], ControlStatus]:
    """(system, control) -> its status record, to look up basis and reasons."""
    return {(s.system, s.control): s for s in report.statuses}


@dataclass(frozen=True)
class Cell:
    """One system's status for one control, and whether it was inferred through a mapping."""

    status: Status
    inferred: bool


def cell(
    index: Mapping[tuple[str, str], ControlStatus],
    system: str,
    control: str,
    fallback: Status | None = None,
) -> Cell | None:
    """The status record if there is one, else `fallback` (an SoA entry's per-system status)."""
    found = index.get((system, control))
    if found is not None:
        return Cell(found.status, found.basis == "mapping")
    return Cell(fallback, False) if fallback else None


def cell_status(
    index: Mapping[tuple[str, str], ControlStatus],
    system: str,
    control: str,
    fallback: Status | None = None,
) -> Status | None:
    """The status `cell` would show, without making the cell (for counts over many systems)."""
    found = index.get((system, control))
    if found is not None:
        return found.status
    return fallback or None


def evidence_ref(e: Evidence) -> str:
    """The reference the assessment puts on evidence reasons: `check@system[/asset]`."""
    return f"{e.check}@{e.system}/{e.asset}" if e.asset else f"{e.check}@{e.system}"


def evidence_index(report: AssessmentReport) -> dict[str, Evidence]:
    return {evidence_ref(e): e for e in report.evidence}


def level_of(score: int, levels: tuple[tuple[str, int], ...]) -> str:
    """The name of the first level whose max score covers `score`."""
    for name, max_score in levels:
        if score <= max_score:
            return name
    return levels[-1][0] if levels else ""


def level_rank(name: str, levels: tuple[tuple[str, int], ...]) -> int:
    """0 for the lowest level; used to pick a colour from a fixed ramp."""
    names = [n for n, _ in levels]
    return names.index(name) if name in names else len(names) - 1


def status_counts(statuses: Iterable[ControlStatus]) -> Counter[Status]:
    return Counter(s.status for s in statuses)


def severity_counts(report: AssessmentReport) -> dict[Severity, int]:
    counts = Counter(f.severity for f in report.findings)
    return {sev: counts.get(sev, 0) for sev in sorted(Severity, reverse=True)}


def critical_high(report: AssessmentReport) -> int:
    return sum(1 for f in report.findings if f.severity >= Severity.high)


def system_names(report: AssessmentReport) -> dict[str, str]:
    return {s.id: s.name for s in report.systems}
