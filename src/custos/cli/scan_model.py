"""`custos scan-model`: scan model files, directories and archives without loading them."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from custos.checks.model import Severity
from custos.cli.output import console, emit_json
from custos.errors import EXIT_FINDINGS, UserError
from custos.modelfile.dispatch import scan_paths
from custos.modelfile.policy import Policy
from custos.modelfile.sarif import to_sarif

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


class ScanFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"


def scan_model_cmd(
    paths: list[Path] = typer.Argument(..., help="Model files, directories or archives."),
    output_format: ScanFormat = typer.Option(ScanFormat.table, "--format", "-f"),
    fail_on: str = typer.Option(
        "medium", "--fail-on", help="Exit 1 if a finding is at or above this severity."
    ),
    policy_file: Path | None = typer.Option(
        None, "--policy", help="YAML file extending the allow-list (see docs/model-scanner.md)."
    ),
) -> None:
    """Scan model files for code-execution payloads and container tricks, statically.

    Nothing is ever loaded, unpickled or executed. Exit 0: nothing at or above --fail-on;
    1: findings at or above it; 2: usage errors.

    Example: custos scan-model models/ --format sarif > model-scan.sarif
    """
    try:
        threshold = Severity.parse(fail_on)
    except ValueError as exc:
        raise UserError(f"--fail-on: {exc}") from None
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UserError(f"{missing[0]}: no such file or directory")
    policy = Policy.load(policy_file) if policy_file is not None else Policy.default()
    reports = scan_paths(paths, policy)
    if output_format is ScanFormat.json:
        emit_json([r.to_json() for r in reports])
    elif output_format is ScanFormat.sarif:
        emit_json(to_sarif(reports, base=Path.cwd()))
    else:
        table = Table(title=f"Model scan: {len(reports)} file(s)")
        for column in ("file", "format", "severity", "rule", "message"):
            table.add_column(column, overflow="fold")
        for report in reports:
            if not report.findings:
                table.add_row(str(report.path), report.format, "[green]clean[/green]", "", "")
            for f in sorted(report.findings, key=lambda f: -f.severity):
                style = STYLE[f.severity.name]
                table.add_row(
                    f.location, report.format, f"[{style}]{f.severity.name}[/{style}]", f.rule,
                    f.message,
                )  # fmt: skip
        console.print(table)
    if any(f.severity >= threshold for r in reports for f in r.findings):
        raise typer.Exit(EXIT_FINDINGS)
