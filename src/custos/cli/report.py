"""`custos report`: render the current assessment in a format for people or other tools."""

from __future__ import annotations

from pathlib import Path

import typer

from custos.cli.options import DbOption, PathArg
from custos.cli.output import console, err_console
from custos.errors import UserError
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
    made = _folders_for(target)
    write_report(report, output_format, target)
    if made:
        err_console.print(f"created {len(made)} folder(s): {', '.join(str(d) for d in made)}")
    console.print(f"Wrote {output_format.value} report: {target.resolve()}")


def _folders_for(target: Path) -> list[Path]:
    """Make the folders `target` needs, and name the ones made (a typo in --out must not
    silently build a tree); one line and exit 2 where one cannot be made."""
    missing = []
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out {target}: cannot create {target.parent}: {exc.strerror}") from None
    return list(reversed(missing))
