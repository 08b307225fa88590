"""`custos scan-gateway`: gateway and serving configurations read statically (LiteLLM proxy
configs, Kong declarative configs, Envoy AI Gateway resources): authentication, literal
secrets (masked), per-client and token limits, budgets, logging, guardrails, admin exposure and
TLS to upstreams. Like `scan-data`, a lean argparse command for CI steps.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from custos.cli import lean
from custos.cli.scan_model import STYLE, Formatter, cell

if TYPE_CHECKING:
    from custos.gateways.model import GatewayReport

FORMATS = ("table", "json", "sarif")
SUMMARY = (
    "Check LiteLLM, Kong and Envoy AI Gateway configurations for missing authentication, "
    "literal secrets, missing limits, logging and guardrails, and plain-text upstreams."
)
DETAILS = (
    "Files are parsed as YAML data, never run; directories are searched for gateway configs by "
    "content. Secrets are shown masked. Exit 0: nothing at or above --fail-on; 1: findings at "
    "or above it; 2: usage errors or a file that is not a readable gateway configuration (the "
    "other files are still reported)."
)
EXAMPLE = "Example: custos scan-gateway deploy/litellm-config.yaml k8s/ --format sarif"


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos scan-gateway", description=f"{SUMMARY} {DETAILS}", epilog=EXAMPLE,
        formatter_class=Formatter,
    )  # fmt: skip
    add = built.add_argument
    add("paths", nargs="+", type=Path, metavar="PATH",
        help="gateway config files, and directories to search for them")  # fmt: skip
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a finding is at or above this severity (default: medium)")  # fmt: skip
    return built


def run(argv: list[str]) -> int:
    """Parse `argv` (after `scan-gateway`), scan, print; returns the exit code."""
    args = parser().parse_args(argv)
    limit = lean.threshold(args.fail_on)
    paths = lean.existing(args.paths)
    from custos.gateways.scan import scan_paths

    reports = scan_paths(paths)

    def sarif() -> object:
        from custos.gateways.sarif import to_sarif  # only when SARIF is asked for

        return to_sarif(reports, base=Path.cwd())

    return lean.finish(reports, args.output_format, limit, sarif=sarif,
                       table=lambda: _print_table(reports))  # fmt: skip


def _print_table(reports: list[GatewayReport]) -> None:
    from rich.table import Table

    from custos.cli.output import console
    from custos.gateways.model import PRODUCT_NAMES

    code = console.encoding
    table = Table(title=f"Gateway scan: {len(reports)} file(s)")
    for column in ("file:line", "severity", "rule", "message"):
        table.add_column(column, overflow="fold")
    for report in reports:
        if report.error:
            table.add_row(cell(str(report.path), code), "[red]error[/red]", "",
                          cell(report.error, code))  # fmt: skip
            continue
        if not report.findings:
            product = PRODUCT_NAMES[report.product] if report.product else ""
            table.add_row(cell(str(report.path), code), "[green]clean[/green]", "",
                          cell(product, code))  # fmt: skip
        for f in report.findings:
            style = STYLE[f.severity.name]
            table.add_row(cell(f.location(), code), f"[{style}]{f.severity.name}[/{style}]",
                          cell(f.rule, code), cell(f.message, code))  # fmt: skip
    console.print(table)
