"""The `custos-scan-repo` pre-commit hook (.pre-commit-hooks.yaml): the repository scanner of
`custos scan-repo` on the staged Python files and notebooks pre-commit passes as arguments.

    python -m custos.cli.precommit [--fail-on SEVERITY] FILE...

Each file is scanned by `custos.repo.scan.scan` and the findings are shown in one table, as
`custos scan-repo` shows them. Exit 0: nothing at or above --fail-on (default medium); 1:
findings at or above it; 2: usage errors or a file that does not exist. Lean: no typer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from custos.cli import lean
from custos.cli.scan_model import Formatter
from custos.errors import EXIT_FINDINGS, EXIT_OK

PROG = "python -m custos.cli.precommit"


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog=PROG,
        description="Scan the given Python files and notebooks for unsafe model and data "
        "loading and secrets (the pre-commit hook custos-scan-repo).",
        epilog=f"Example: {PROG} train.py notebooks/explore.ipynb",
        formatter_class=Formatter,
    )
    built.add_argument("files", nargs="*", type=Path, metavar="FILE", help="files to scan")
    built.add_argument(
        "--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a finding is at or above this severity (default: medium)",
    )  # fmt: skip
    return built


def run(argv: list[str]) -> int:
    """Parse `argv`, scan each file, print one table; returns the exit code."""
    from custos.cli.scan_repo import print_table
    from custos.repo.model import RepoReport
    from custos.repo.scan import scan

    args = parser().parse_args(argv)
    limit = lean.threshold(args.fail_on)
    files = lean.existing(args.files)
    merged = RepoReport(Path.cwd())  # pre-commit runs hooks at the repository's root
    for path in files:
        one = scan(path)
        merged.files += one.files
        merged.findings += one.findings
        merged.errors += one.errors
    if merged.findings:  # quiet when all is well, as pre-commit hooks are
        print_table(merged)
    failed = any(f.severity >= limit for f in merged.findings)
    return EXIT_FINDINGS if failed else EXIT_OK


def main() -> None:
    """`python -m custos.cli.precommit`: errors and exit codes as the `custos` command has them."""
    from custos.cli.entry import guarded

    guarded(lambda: run(sys.argv[1:]), debug=False)


if __name__ == "__main__":
    main()
