"""`custos report`: render the current assessment in a format for people or other tools."""

from __future__ import annotations

from pathlib import Path

import typer

from custos.cli.options import DbOption, PathArg
from custos.cli.output import console
from custos.reports.base import ReportFormat
from custos.reports.write import write_report
from custos.workspace import build_report, open_workspace


def report_cmd(
    path: Path = PathArg,
    output_format: ReportFormat = typer.Option(ReportFormat.html, "--format", "-f"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="File to write (default: custos-report.<suffix> in the project)."
    ),
    db: str | None = DbOption,
) -> None:
    """Write a report: html, md, json, xlsx, junit, oscal-ssp, oscal-ar, oscal-poam or pdf.

    OSCAL output is re-read with compliance-trestle before it replaces the target file.

    Example: custos report examples/fraud-detection --format html --out report.html
    """
    renderer = output_format.renderer()
    ws = open_workspace(path, db)
    report = build_report(ws)
    target = out or ws.base_dir / f"custos-report{renderer.suffix}"
    write_report(report, output_format, target)
    console.print(f"Wrote {output_format.value} report: {target.resolve()}")
