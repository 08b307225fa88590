"""`custos scan-repo`: a repository read statically (docs/secdev.md): ML code that loads models
or data unsafely, secrets (masked), dependencies that are unpinned or known to be vulnerable,
Dockerfiles and CI workflows. Like `scan-gateway`, a lean argparse command for CI steps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from custos.cli import lean
from custos.cli.scan_model import STYLE, Formatter, cell, write_json
from custos.errors import EXIT_FINDINGS, EXIT_OK

if TYPE_CHECKING:
    from custos.intel.index import Index
    from custos.repo.model import RepoReport

FORMATS = ("table", "json", "sarif")
SUMMARY = (
    "Scan a repository: unsafe model and data loading in Python and notebooks, secrets, "
    "unpinned or vulnerable dependencies, Dockerfiles and CI workflows."
)
DETAILS = (
    "Files are read as text and parsed, never imported or run; secrets are shown masked. "
    "Known vulnerabilities come from the advisories loaded with `custos intel import`. "
    "Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: usage errors or a "
    "path that does not exist. A file that cannot be parsed is reported (repo/unreadable) and "
    "the rest is scanned."
)
EXAMPLE = "Example: custos scan-repo . --format sarif > custos-repo.sarif"


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos scan-repo", description=f"{SUMMARY} {DETAILS}", epilog=EXAMPLE,
        formatter_class=Formatter,
    )  # fmt: skip
    add = built.add_argument
    add("path", type=Path, metavar="PATH", help="the repository (or one file) to scan")
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a finding is at or above this severity (default: medium)")  # fmt: skip
    add("--intel", type=Path, metavar="DIR",
        help="the advisory store (default: $CUSTOS_HOME/intel)")  # fmt: skip
    return built


def run(argv: list[str]) -> int:
    """Parse `argv` (after `scan-repo`), scan, print; returns the exit code."""
    args = parser().parse_args(argv)
    limit = lean.threshold(args.fail_on)
    (root,) = lean.existing([args.path])
    from custos.intel.store import load_index

    index = load_index(args.intel)
    report = _scan(root, index)
    if args.output_format == "json":
        write_json(report.to_json())
    elif args.output_format == "sarif":
        from custos.repo.sarif import to_sarif

        write_json(to_sarif(report, base=Path.cwd()))
    else:
        print_table(report)
    for path, line, message in report.errors:
        where = f"{report.shown(path)}:{line}" if line else report.shown(path)
        print(f"custos: {where}: not scanned: {message}", file=sys.stderr)
    failed = any(f.severity >= limit for f in report.findings)
    return EXIT_FINDINGS if failed else EXIT_OK


def _scan(root: Path, index: Index | None) -> RepoReport:
    from custos.repo.scan import scan

    if not sys.stderr.isatty():
        return scan(root, index=index)
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from custos.cli.output import err_console

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console,
                  transient=True) as progress:  # fmt: skip
        task = progress.add_task("scanning", total=None)
        return scan(root, index=index,
                    progress=lambda n: progress.update(task, description=f"{n} files"))  # fmt: skip


def print_table(report: RepoReport) -> None:
    from rich.table import Table

    from custos.cli.output import console

    code = console.encoding
    table = Table(title=f"Repository scan: {report.root} ({report.files} files, "
                        f"{len(report.dependencies)} dependencies)")  # fmt: skip
    for column in ("file:line", "severity", "rule", "message"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        style = STYLE.get(f.severity.name, "")
        table.add_row(cell(f.location(report.shown(f.path)), code),
                      f"[{style}]{f.severity.name}[/{style}]" if style else f.severity.name,
                      f.rule, cell(f.message, code))  # fmt: skip
    console.print(table)
    if not report.findings:
        console.print("no findings")
