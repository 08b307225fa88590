"""What the lean (argparse) commands share: the --fail-on threshold, the paths given, a
baseline file written whole or not at all, and writing out per-file reports with the exit code
they imply: 0, 1 for findings at or above --fail-on, 2 when a file could not be read (the
others are still reported). `scan-model` keeps its own copy: its import budget is tested."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from custos.cli.scan_model import write_json
from custos.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UserError
from custos.findings import Severity


class _Found(Protocol):
    @property
    def severity(self) -> Severity: ...


class FileReport(Protocol):
    @property
    def error(self) -> str | None: ...

    @property
    def findings(self) -> Sequence[_Found]: ...

    def to_json(self) -> dict[str, Any]: ...


def threshold(text: str) -> Severity:
    """--fail-on SEVERITY, or one clear line."""
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise UserError(f"--fail-on: {exc}") from None


def existing(paths: Sequence[Path]) -> list[Path]:
    """The paths given, each of which must exist."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UserError(f"{missing[0]}: no such file or directory")
    return list(paths)


def write_baseline(path: Path, data: bytes) -> None:
    """--baseline-out FILE, written atomically; an unwritable place is one clear line."""
    from custos._files import write_atomic

    try:
        write_atomic(path, data)
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None


def finish(
    reports: Sequence[FileReport],
    output_format: str,
    limit: Severity,
    *,
    sarif: Callable[[], object],
    table: Callable[[], None],
) -> int:
    """Print the reports as asked (json, sarif or the table), each unreadable file's error on
    stderr, and return the exit code."""
    if output_format == "json":
        write_json([r.to_json() for r in reports])
    elif output_format == "sarif":
        write_json(sarif())
    else:
        table()
    errors = [r.error for r in reports if r.error]
    for error in errors:
        print(f"custos: {error}", file=sys.stderr)
    if errors:
        return EXIT_USAGE
    failed = any(f.severity >= limit for r in reports for f in r.findings)
    return EXIT_FINDINGS if failed else EXIT_OK
