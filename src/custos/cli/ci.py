"""`custos ci`: one command for a pipeline step (docs/ci.md). It scans the project as `custos
scan` does (every check on every system and asset: models, datasets, repositories, ...), keeps
the evidence, assesses as `custos assess` does, writes `custos.sarif`, `custos-junit.xml` and
`summary.json` into one folder, prints a short summary, pushes to a Custos server when
`CUSTOS_URL` and `CUSTOS_TOKEN` are set, and exits by the gate: 0 passed, 1 failed (a finding at
or above --fail-on, or the overall score under --fail-under), 2 bad input.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from custos._files import write_atomic
from custos.assess.model import AssessmentReport
from custos.checks.model import Evidence
from custos.checks.registry import all_checks
from custos.cli import lean
from custos.cli.ci_sarif import evidence_sarif
from custos.cli.options import DbOption, PathArg
from custos.cli.output import console, err_console, warn
from custos.cli.scan import print_claims
from custos.errors import EXIT_FINDINGS, CustosError, UserError
from custos.findings import Severity
from custos.push import TOKEN_ENV, scan_payload, send
from custos.reports.base import ReportFormat
from custos.reports.write import write_report
from custos.vulns.model import Record
from custos.workspace import (
    Workspace,
    build_report,
    decided,
    now,
    open_workspace,
    save_assessment,
    scan_recorded,
)

URL_ENV = "CUSTOS_URL"
SARIF_NAME = "custos.sarif"
JUNIT_NAME = "custos-junit.xml"
SUMMARY_NAME = "summary.json"
RESULT_ORDER = ("pass", "fail", "error", "not_applicable")


def ci_cmd(
    path: Path = PathArg,
    out: Path = typer.Option(
        Path("custos-ci"),
        "--out",
        "-o",
        help="Folder for custos.sarif, custos-junit.xml and summary.json (created if needed).",
    ),
    fail_on: str = typer.Option(
        "high", "--fail-on", help="Exit 1 if any finding is at or above this severity."
    ),
    fail_under: float | None = typer.Option(
        None, "--fail-under", help="Exit 1 if the overall score (percent) is below this."
    ),
    db: str | None = DbOption,
    no_push: bool = typer.Option(
        False, "--no-push", help="Do not push, even with CUSTOS_URL and CUSTOS_TOKEN set."
    ),
) -> None:
    """Scan, assess, write SARIF, JUnit and a summary, push, and exit by the gate: for CI.

    Pushes to $CUSTOS_URL when $CUSTOS_TOKEN is set too (never with --no-push).

    Exit 0: the gate passed; 1: a finding at or above --fail-on, or a score under --fail-under.

    See docs/ci.md for GitHub Actions, GitLab CI and pre-commit.

    Example: custos ci . --out custos-ci --fail-on high --fail-under 60
    """
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UserError("--fail-under takes a percentage between 0 and 100")
    threshold = lean.threshold(fail_on)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: not a folder")
    push_url = _push_url(no_push)
    ws = open_workspace(path, db)
    checks = all_checks()
    started = now()
    with err_console.status("scanning"):
        scanned = scan_recorded(ws, checks, None, started)
    finished = now()
    report = build_report(ws)
    assessment_id = save_assessment(ws, report)

    # Accepted vulnerabilities are notes, overdue ones findings (custos.vulns.apply).
    judged = decided(ws, scanned.evidence, started, _server_decisions(push_url, ws))
    sarif = evidence_sarif(ws.base_dir, judged, checks)
    summary = _summary(ws, scanned.run_id, judged, report, assessment_id, sarif, threshold,
                       fail_under)  # fmt: skip
    _write(out, sarif, report, summary)
    _print(summary, out)
    if push_url is not None:  # as `custos scan --push`: the server re-assesses itself
        payload = scan_payload(ws, scanned.evidence, started, finished, scanned.entries)
        pushed = send(push_url, "scan", payload)
        err_console.print(
            f"pushed to {push_url}: scan {pushed.get('scan_run')}, server score "
            f"{pushed.get('overall_score')}"
        )
        print_claims(pushed.get("claimed"))
    if not summary["gate"]["passed"]:
        raise typer.Exit(EXIT_FINDINGS)


def _summary(
    ws: Workspace,
    scan_run: int,
    evidence: Sequence[Evidence],
    report: AssessmentReport,
    assessment_id: int,
    sarif: dict[str, Any],
    threshold: Severity,
    fail_under: float | None,
) -> dict[str, Any]:
    """What summary.json holds; findings are counted as the SARIF log lists them (one per
    rule, place and message, however many systems report it)."""
    by_severity = Counter(r["properties"]["severity"] for r in sarif["runs"][0]["results"])
    blocking = sum(n for name, n in by_severity.items() if Severity[name] >= threshold)
    reasons = [f"{blocking} finding(s) at or above {threshold.name}"] if blocking else []
    if fail_under is not None and report.overall_score < fail_under:
        reasons.append(f"overall score {report.overall_score:.1f}% is below {fail_under:g}%")
    return {
        "project": str(ws.loaded.path),
        "organisation": report.organisation,
        "scan_run": scan_run,
        "assessment": assessment_id,
        "systems": [
            {"id": s.id, "tier": s.tier, "score": round(s.score, 1)} for s in report.systems
        ],
        "check_runs": len(evidence),
        "checks": len({e.check for e in evidence}),
        "results": {r: sum(1 for e in evidence if e.result == r) for r in RESULT_ORDER},
        "findings": {s.name: by_severity.get(s.name, 0) for s in reversed(Severity)},
        "overall_score": round(report.overall_score, 1),
        "gate": {
            "passed": not reasons,
            "fail_on": threshold.name,
            "fail_under": fail_under,
            "reasons": reasons,
        },
        "files": {"sarif": SARIF_NAME, "junit": JUNIT_NAME},
    }


def _server_decisions(push_url: str | None, ws: Workspace) -> list[Record]:
    """The server's acceptances for the project's systems, when there is a server to ask: a CI
    job starts from an empty database, and the decisions are taken on the server. A server
    that cannot be asked leaves the gate to the local decisions (with a warning)."""
    if push_url is None:
        return []
    from custos.push import server_acceptances

    try:
        return server_acceptances(push_url, [s.id for s in ws.loaded.manifest.systems])
    except CustosError as exc:
        warn(f"{exc}; gating without the server's vulnerability decisions")
        return []


def _push_url(no_push: bool) -> str | None:
    """The server to push to: $CUSTOS_URL when $CUSTOS_TOKEN is set too (and not --no-push)."""
    url = os.environ.get(URL_ENV, "").strip()
    token = os.environ.get(TOKEN_ENV, "").strip()
    if no_push or not url:
        return None
    if not token:
        warn(f"${URL_ENV} is set but ${TOKEN_ENV} is not: not pushing")
        return None
    return url


def _write(
    out: Path, sarif: dict[str, Any], report: AssessmentReport, summary: dict[str, Any]
) -> None:
    """The three files, each replaced whole (JUnit by the report writer of `custos report`)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_atomic(out / SARIF_NAME, _json(sarif))
        write_report(report, ReportFormat.junit, out / JUNIT_NAME)
        write_atomic(out / SUMMARY_NAME, _json(summary))
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write: {exc.strerror or exc}") from None


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _print(summary: dict[str, Any], out: Path) -> None:
    results = summary["results"]
    gate = summary["gate"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    systems = escape(", ".join(f"{s['id']} {s['score']:.1f}%" for s in summary["systems"]))
    grid.add_row("systems", f"{len(summary['systems'])}: {systems}")
    grid.add_row(
        "checks",
        f"{summary['check_runs']} runs of {summary['checks']} checks: "
        + ", ".join(f"{results[r]} {r.replace('_', ' ')}" for r in RESULT_ORDER),
    )
    grid.add_row("findings", ", ".join(f"{n} {s}" for s, n in summary["findings"].items()))
    grid.add_row("score", f"{summary['overall_score']:.1f}%")
    verdict = "[green]passed[/green]" if gate["passed"] else (
        "[red]FAILED[/red]: " + "; ".join(gate["reasons"]))  # fmt: skip
    grid.add_row("gate", verdict)
    grid.add_row("wrote", escape(f"{SARIF_NAME}, {JUNIT_NAME}, {SUMMARY_NAME} in {out}"))
    title = f"{summary['organisation']} ({summary['project']})"
    console.print(f"[bold]custos ci[/bold]: {escape(title)}")
    console.print(grid)
