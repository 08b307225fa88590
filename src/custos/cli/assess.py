"""`custos assess`: derive each control's status per AI system, the SoA, gaps and roadmap."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from custos.cli.options import DbOption, PathArg
from custos.cli.output import TableOrJson, console, emit_json, err_console
from custos.cli.scan import parse_severity
from custos.errors import EXIT_FINDINGS, UserError
from custos.reports.json_schema import report_to_dict
from custos.workspace import build_report, open_workspace, save_assessment


def assess_cmd(
    path: Path = PathArg,
    db: str | None = DbOption,
    output_format: TableOrJson = typer.Option(TableOrJson.table, "--format", "-f"),
    fail_under: float | None = typer.Option(
        None, "--fail-under", help="Exit 1 if the overall score (percent) is below this."
    ),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 if any current finding is at or above this severity."
    ),
    push_url: str | None = typer.Option(
        None, "--push", help="Also send the manifest to this Custos server, which re-assesses."
    ),
) -> None:
    """Assess every AI system from the latest evidence and attestations, and keep the result.

    Example: custos assess examples/fraud-detection --fail-under 60 --format json
    """
    if fail_under is not None and not 0 <= fail_under <= 100:
        raise UserError("--fail-under takes a percentage between 0 and 100")
    threshold = parse_severity(fail_on)
    ws = open_workspace(path, db)
    report = build_report(ws)
    assessment_id = save_assessment(ws, report)
    if push_url is not None:
        from custos.push import manifest_payload, send

        pushed = send(push_url, "assessment", manifest_payload(ws))
        err_console.print(f"pushed to {push_url}: server score {pushed.get('overall_score')}")
    if output_format is TableOrJson.json:
        emit_json(report_to_dict(report))
    else:
        table = Table(title=f"Assessment {assessment_id}: {report.organisation}")
        for column in ("system", "tier", "score", "implemented", "partial", "gaps"):
            table.add_column(column)
        for s in report.systems:
            gaps = s.counts.get("not_implemented", 0) + s.counts.get("unknown", 0)
            table.add_row(
                s.id, s.tier, f"{s.score:.1f}%", str(s.counts.get("implemented", 0)),
                str(s.counts.get("partial", 0)), str(gaps),
            )  # fmt: skip
        console.print(table)
        console.print(
            f"overall {report.overall_score:.1f}%; {len(report.gaps)} gaps, "
            f"{len(report.roadmap)} roadmap items; next: custos report --format html"
        )
    failed = fail_under is not None and report.overall_score < fail_under
    if threshold is not None and any(f.severity >= threshold for f in report.findings):
        failed = True
    if failed:
        raise typer.Exit(EXIT_FINDINGS)
