"""`custos scan-model`: scan model files, directories and archives without loading them.

This command runs on every CI job and pre-commit hook that touches a model, so it is kept
lean: its own argparse parser (no typer, no catalog, no database), rich only for the table
view, and format scanners imported only for the formats a scan meets. `custos.cli.entry`
calls `run()` directly; the typer stub below only lists it in `custos --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from custos.errors import EXIT_FINDINGS, EXIT_OK, UserError
from custos.findings import Severity

if TYPE_CHECKING:
    from rich.text import Text

    from custos.modelfile.report import FileReport

FORMATS = ("table", "json", "sarif")
STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
SUMMARY = "Scan model files for code-execution payloads and container tricks, statically."
DETAILS = (
    "Nothing is ever loaded, unpickled or executed. Exit 0: nothing at or above --fail-on; "
    "1: findings at or above it; 2: usage errors."
)
EXAMPLE = "Example: custos scan-model models/ --format sarif > model-scan.sarif"


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos scan-model",
        description=f"{SUMMARY} {DETAILS}",
        epilog=EXAMPLE,
        formatter_class=Formatter,
    )
    add = built.add_argument
    add("paths", nargs="+", type=Path, metavar="PATH",
        help="model files, archives, and directories (each scanned as one model)")  # fmt: skip
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a finding is at or above this severity (default: medium)")  # fmt: skip
    add("--policy", type=Path, metavar="FILE",
        help="YAML file extending the allow-list (see docs/model-scanner.md)")  # fmt: skip
    return built


class Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the width: left to itself it imports shutil (and bz2 and
    lzma with it) on every run, only to size help text that is rarely printed."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=_columns() - 2)


def _columns() -> int:
    """The terminal width the way shutil.get_terminal_size finds it."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def run(argv: list[str]) -> int:
    """Parse `argv` (after `scan-model`), scan, print; returns the exit code.
    argparse exits 2 itself on usage errors; bad input raises UserError."""
    args = parser().parse_args(argv)
    try:
        threshold = Severity.parse(args.fail_on)
    except ValueError as exc:
        raise UserError(f"--fail-on: {exc}") from None
    paths: list[Path] = args.paths
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        raise UserError(f"{missing[0]}: no such file or directory")
    from custos.modelfile.policy import Policy
    from custos.modelfile.scan import scan_paths

    policy = Policy.load(args.policy) if args.policy is not None else Policy.default()
    reports = scan_paths(paths, policy)
    if args.output_format == "json":
        write_json([r.to_json() for r in reports])
    elif args.output_format == "sarif":
        from custos.modelfile.sarif import to_sarif

        write_json(to_sarif(reports, base=Path.cwd()))
    else:
        _print_table(reports)
    failed = any(f.severity >= threshold for r in reports for f in r.findings)
    return EXIT_FINDINGS if failed else EXIT_OK


def write_json(value: object) -> None:
    """JSON is UTF-8 whatever the locale says; strings were made encodable (`safe_json`)."""
    from custos.modelfile.report import safe_json

    text = json.dumps(safe_json(value), indent=2, ensure_ascii=False) + "\n"
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def cell(text: str, encoding: str = "utf-8") -> Text:
    """Scanned names as plain text: never rich markup, and control, format (bidi) and other
    unprintable characters and lone surrogates shown as escapes, never sent to the terminal;
    so are characters a non-UTF-8 terminal cannot show."""
    from rich.text import Text

    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
    if not text.isascii() and not encoding.replace("-", "").startswith("utf"):
        text = text.encode(encoding, "backslashreplace").decode(encoding)
    return Text(text)


def _escape(ch: str) -> str:
    return ch.encode("unicode_escape", "backslashreplace").decode("ascii")


def _print_table(reports: list[FileReport]) -> None:
    from rich.table import Table

    from custos.cli.output import console

    table = Table(title=f"Model scan: {len(reports)} file(s)")
    for column in ("file", "format", "severity", "rule", "message"):
        table.add_column(column, overflow="fold")
    code = console.encoding
    for report in reports:
        if not report.findings:
            path = cell(str(report.path), code)
            table.add_row(path, cell(report.format, code), "[green]clean[/green]", "", "")
        for f in sorted(report.findings, key=lambda f: -f.severity):
            style = STYLE[f.severity.name]
            table.add_row(
                cell(f.location, code), cell(report.format, code),
                f"[{style}]{f.severity.name}[/{style}]", cell(f.rule, code),
                cell(f.message, code),
            )  # fmt: skip
    console.print(table)
