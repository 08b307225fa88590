"""Shared CLI output helpers: consoles, formats and machine-readable writers.

Results go to stdout; progress, warnings and errors go to stderr, so `--format json` output can
be piped into other tools untouched.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Any

from rich.console import Console

# Not a terminal and no COLUMNS (under make, in a CI log, piped): rich would assume 80 columns
# and cut table cells with "…"; a wide console keeps them whole. --format json is untouched.
PIPED_WIDTH = 200


def _stdout_width() -> int | None:
    if "COLUMNS" in os.environ:
        return None  # rich reads it
    try:
        return None if sys.stdout.isatty() else PIPED_WIDTH
    except (AttributeError, ValueError):  # no stdout, or a closed one
        return PIPED_WIDTH


console = Console(highlight=False, width=_stdout_width())
err_console = Console(stderr=True, highlight=False)


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


class ShowFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def emit_json(value: Any) -> None:
    """Write JSON to stdout exactly (no rich markup, no wrapping)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def emit_yaml(value: Any) -> None:
    import yaml  # only here: `scan-model`'s table view uses this module and never writes YAML

    sys.stdout.write(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100))


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {message}", markup=True, soft_wrap=True)
