"""`custos data-integrity`: poisoning and quality signals in tabular training data (exact and
near duplicates, label issues by confident learning, backdoor trigger candidates, outliers,
class balance against a baseline), each a review queue with counts, not a verdict. Reads
CSV/TSV, JSON Lines and Parquet through the data scanner's readers, every row. Like
`scan-data`, a lean argparse command for CI steps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custos.cli import lean
from custos.cli.scan_model import STYLE, Formatter, cell, write_json
from custos.errors import EXIT_FINDINGS, EXIT_OK, UserError

if TYPE_CHECKING:
    from custos.dataintegrity.model import IntegrityReport

FORMATS = ("table", "json")
SUMMARY = "Poisoning and quality signals in tabular training data, each a review queue."
DETAILS = (
    "Exact and near duplicates, label issues (confident learning on out-of-fold "
    "probabilities), backdoor trigger candidates, outliers and class balance against a "
    "baseline. Exit 0: nothing above the thresholds; 1: findings; 2: usage errors or a file "
    "that cannot be read as data. Needs pip install 'custos[integrity]'."
)
EXAMPLE = (
    "Example: custos data-integrity data/train.csv --label is_fraud --baseline-out "
    ".custos/data-baselines/train.json"
)
SHOWN = 10  # rows listed per signal in the table; json lists them all


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos data-integrity", description=f"{SUMMARY} {DETAILS}", epilog=EXAMPLE,
        formatter_class=Formatter,
    )  # fmt: skip
    add = built.add_argument
    add("path", type=Path, metavar="PATH",
        help="a data file, or a directory of shards with the same columns")  # fmt: skip
    add("--label", required=True, metavar="COLUMN", help="the label column")
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--baseline-out", type=Path, metavar="FILE",
        help="write this data's reference baseline (class shares, feature statistics)")  # fmt: skip
    add("--baseline", type=Path, metavar="FILE",
        help="compare with a recorded baseline; drift beyond tolerance is a finding")  # fmt: skip
    return built


def run(argv: list[str]) -> int:
    """Parse `argv` (after `data-integrity`), examine, print; returns the exit code."""
    args = parser().parse_args(argv)
    from custos.dataintegrity.extra import require

    require()
    from custos.dataintegrity.scan import data_files

    files = data_files([args.path])
    if args.baseline is not None and not args.baseline.is_file():
        raise UserError(f"{args.baseline}: no such baseline file")
    report, document = _examine(files, args)
    if args.baseline_out is not None:
        from custos.dataintegrity.baseline import dumps

        lean.write_baseline(args.baseline_out, dumps(document))
    if args.output_format == "json":
        write_json(report.to_json())
    else:
        _print_table(report, args.baseline_out)
    return EXIT_FINDINGS if report.findings else EXIT_OK


def _examine(files: list[Path], args: Any) -> tuple[IntegrityReport, dict[str, Any]]:
    from custos.dataintegrity.scan import examine

    where = str(args.path)
    if not sys.stderr.isatty():
        return examine(files, args.label, args.baseline, where=where)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from custos.cli.output import err_console

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("data-integrity", total=None)
        return examine(files, args.label, args.baseline, where=where,
                       progress=lambda step: progress.update(task, description=step))  # fmt: skip


def _rows(rows: list[int] | list[tuple[int, int]]) -> str:
    shown = [f"{r[0]} (of {r[1]})" if isinstance(r, tuple) else str(r) for r in rows[:SHOWN]]
    more = len(rows) - SHOWN
    return ", ".join(shown) + (f", ... {more:,} more" if more > 0 else "")


def _print_table(report: IntegrityReport, written: Path | None) -> None:
    from rich.table import Table

    from custos.cli.output import console

    code = console.encoding
    model = report.label_issues.model
    title = (f"Data integrity: {report.path} ({report.format}, {report.rows:,} rows, "
             f"label {report.label!r}, {len(report.class_balance.counts)} classes)")  # fmt: skip
    table = Table(title=cell(title, code))
    for column in ("signal", "rows", "row numbers (from 0)"):
        table.add_column(column, overflow="fold")
    dups = report.duplicates
    if model.skipped:
        how = f"not examined: {model.skipped}"
    else:
        accuracy = f", out-of-fold accuracy {model.accuracy:.1%}" if model.accuracy else ""
        how = (f"{len(report.label_issues.rows):,} ({report.label_issues.share:.1%} of "
               f"{model.rows:,}; {model.name}, {model.folds} folds{accuracy})")  # fmt: skip
    for name, count, rows in (
        ("exact duplicates", f"{len(dups.exact):,}", _rows(list(dups.exact))),
        ("near duplicates", f"{len(dups.near):,}", _rows(list(dups.near))),
        ("same features, other label", f"{len(dups.conflicting):,}",
         _rows(list(dups.conflicting))),
        ("label issues", how, _rows(list(report.label_issues.rows))),
        ("trigger candidates", f"{len(report.triggers.found):,} (of "
         f"{report.triggers.candidates:,} values and ranges tested)", ""),
        ("outliers", f"{len(report.outliers.rows):,}", _rows(list(report.outliers.rows))),
    ):  # fmt: skip
        table.add_row(name, count, rows)
    console.print(table)
    if report.triggers.found:
        triggers = Table(title="Trigger candidates")
        for column in ("feature", "value or range", "label", "rows", "purity", "base rate",
                       "from other features", "p (Bonferroni)"):  # fmt: skip
            triggers.add_column(column, overflow="fold")
        for t in report.triggers.found:
            value = (
                f"{t.value[0]:g} .. {t.value[1]:g}" if isinstance(t.value, tuple) else str(t.value)
            )
            triggers.add_row(cell(t.feature, code), cell(value, code), cell(t.label, code),
                             f"{len(t.rows):,}", f"{t.purity:.0%}", f"{t.base_rate:.0%}",
                             f"{t.explained:.0%}", f"{t.p_value:.2g}")  # fmt: skip
        console.print(triggers)
    _print_balance(report)
    if written is not None:
        console.print("baseline written to ", cell(str(written), code), sep="")
    for f in report.findings:
        style = STYLE[f.severity.name]
        console.print(f"[{style}]{f.severity.name}[/{style}] {f.rule}: ", cell(f.message, code),
                      sep="")  # fmt: skip
    if not report.findings:
        console.print("nothing to review above the thresholds")


def _print_balance(report: IntegrityReport) -> None:
    from rich.table import Table

    from custos.cli.output import console

    code = console.encoding
    balance = report.class_balance
    shares = balance.shares
    baseline = balance.baseline
    table = Table(title="Class balance" + (" against the baseline" if baseline else ""))
    for column in ("class", "rows", "share", *(("baseline", "change") if baseline else ())):
        table.add_column(column, overflow="fold")
    names = list(dict.fromkeys([*balance.counts, *(baseline or {})]))
    for name in names:
        row: list[Any] = [cell(name, code), f"{balance.counts.get(name, 0):,}"]
        row.append(f"{shares.get(name, 0):.1%}")
        if baseline is not None:
            before = baseline.get(name, 0.0)
            row += [f"{before:.1%}", f"{shares.get(name, 0.0) - before:+.1%}"]
        table.add_row(*row)
    if balance.unlabelled:
        table.add_row("(no label)", f"{balance.unlabelled:,}", "", *([""] * 2 if baseline else []))
    console.print(table)
    for d in report.drift:
        if d.kind != "class-balance":
            console.print("[dim]drift[/dim] ", cell(d.message, code), sep="")
