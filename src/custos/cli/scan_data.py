"""`custos scan-data`: personal data and credentials in datasets, per column, with a suggested
classification. Reads CSV/TSV, JSON Lines, Parquet and text (gzip, zstd, bzip2 or xz
compressed too), a reservoir sample of each (default 10,000 rows). Masked examples only: no
value found is ever printed whole. Like `scan-model`, a lean argparse command for CI steps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from custos.cli import lean
from custos.cli.scan_model import STYLE, Formatter, cell
from custos.errors import UserError

if TYPE_CHECKING:
    from custos.datascan.model import DataReport
    from custos.datascan.recognizers import PersonFinder
    from custos.datascan.scan import Settings

FORMATS = ("table", "json", "sarif")
LEVELS = ("public", "internal", "confidential", "restricted")
SUMMARY = (
    "Find personal data and credentials in datasets, per column, and suggest a classification."
)
DETAILS = (
    "Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: usage errors or a "
    "file that cannot be read as data (the other files are still reported)."
)
EXAMPLE = "Example: custos scan-data data/train.csv --classification internal --format sarif"


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos scan-data", description=f"{SUMMARY} {DETAILS}", epilog=EXAMPLE,
        formatter_class=Formatter,
    )  # fmt: skip
    add = built.add_argument
    add("paths", nargs="+", type=Path, metavar="PATH", help="data files and directories")
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--sample", default="10000", metavar="N|all",
        help="rows sampled per file, uniformly (default 10000); `all` reads every row")  # fmt: skip
    add("--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a finding is at or above this severity (default: medium)")  # fmt: skip
    add("--classification", choices=LEVELS, metavar="LEVEL",
        help="the declared classification of the data (content above it is a finding)")  # fmt: skip
    add("--region", default="US", metavar="CC",
        help="country of phone numbers written without +country code (default US)")  # fmt: skip
    add("--ner", metavar="MODEL",
        help="also find person names in running text with this installed spaCy pipeline "
        "(a package name or a directory; default $CUSTOS_NER_MODEL, else none: names are then "
        "found from name-like columns only)")  # fmt: skip
    add("--ids", default="us,gb", metavar="PACKS",
        help="national-id packs, comma-separated (us: SSN, gb: NINO; default both)")  # fmt: skip
    return built


def _sample(text: str) -> int | None:
    if text.lower() == "all":
        return None
    if not text.isdigit() or int(text) < 1:
        raise UserError(f"--sample: {text!r} is not a positive number of rows or 'all'")
    return int(text)


def run(argv: list[str]) -> int:
    """Parse `argv` (after `scan-data`), scan, print; returns the exit code."""
    args = parser().parse_args(argv)
    limit = lean.threshold(args.fail_on)
    sample = _sample(args.sample)
    paths = lean.existing(args.paths)
    from custos.datascan.recognizers import PACKS, Options
    from custos.datascan.scan import Settings

    packs = tuple(p.strip().lower() for p in args.ids.split(",") if p.strip())
    unknown = [p for p in packs if p not in PACKS]
    if unknown:
        raise UserError(f"--ids: unknown pack {unknown[0]!r}; use {', '.join(PACKS)}")
    region = args.region.upper()
    if len(region) != 2 or not region.isalpha():
        raise UserError(f"--region: {args.region!r} is not a two-letter country code")
    ner = _ner(args.ner)
    options = Options(packs, region) if ner is None else Options(
        packs, region, names_in_text=ner[0], names_method=ner[1])  # fmt: skip
    settings = Settings(sample, options, args.classification)
    reports = _scan(paths, settings, args.output_format == "table")

    def sarif() -> object:
        from custos.datascan.sarif import to_sarif  # only when SARIF is asked for

        return to_sarif(reports, base=Path.cwd())

    return lean.finish(reports, args.output_format, limit, sarif=sarif,
                       table=lambda: _print_table(reports))  # fmt: skip


def _ner(model: str | None) -> tuple[PersonFinder, str] | None:
    """--ner MODEL, else $CUSTOS_NER_MODEL, else no NER (names from column names only)."""
    from custos.datascan import ner

    return ner.spacy_names(model) if model else ner.from_environment()


def _scan(paths: list[Path], settings: Settings, show: bool) -> list[DataReport]:
    from custos.datascan.scan import scan_paths

    if not (show and sys.stderr.isatty()):
        return scan_paths(paths, settings)
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("scanning", total=None)
        return scan_paths(paths, settings,
                          lambda p: progress.update(task, description=f"scanning {p}"))  # fmt: skip


def _print_table(reports: list[DataReport]) -> None:
    from rich.table import Table

    from custos.cli.output import console

    code = console.encoding
    table = Table(title=f"Data scan: {len(reports)} file(s)")
    for column in ("file", "column", "found", "share", "examples (masked)", "suggested"):
        table.add_column(column, overflow="fold")
    for report in reports:
        path = cell(str(report.path), code)
        if report.error:
            table.add_row(path, "", f"[red]{cell(report.error, code)}[/red]", "", "", "")
            continue
        total = f"{report.rows_total:,}" if report.rows_total is not None else "?"
        rows = f"{report.rows_scanned:,} of {total} rows"
        table.add_row(path, f"[dim]{report.format}, {rows}[/dim]", "", "", "",
                      report.suggested_classification)  # fmt: skip
        for col in report.columns:
            for found in col.pii:
                table.add_row(
                    "", cell(col.name, code), found.kind, f"{found.share:.0%}",
                    cell(", ".join(found.examples_masked), code), col.suggested_classification,
                )  # fmt: skip
    console.print(table)
    for report in reports:
        for f in report.findings:
            style = STYLE[f.severity.name]
            console.print(f"[{style}]{f.severity.name}[/{style}] {f.rule}: ", cell(f.message, code),
                          " (", cell(str(report.path), code), ")", sep="")  # fmt: skip
