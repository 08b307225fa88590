"""`custos report`: render the current assessment in a format for people or other tools."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from custos.cli.options import DbOption, PathArg
from custos.cli.output import console
from custos.errors import CustosError
from custos.reports.base import ReportFormat
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

    Example: custos report examples/fraud-detection --format html --out report.html
    """
    renderer = output_format.renderer()
    ws = open_workspace(path, db)
    report = build_report(ws)
    data = renderer.render(report)
    target = out or ws.base_dir / f"custos-report{renderer.suffix}"
    _write(target, data)
    console.print(f"Wrote {output_format.value} report: {target.resolve()}")


def _write(target: Path, data: bytes) -> None:
    """Atomic write, so a failed render never leaves half a report behind."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".custos-report-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CustosError(f"{target}: cannot write the report: {exc.strerror}") from exc
