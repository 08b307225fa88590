"""`custos monitor`: abuse patterns in a served model's access logs (JSON Lines, nginx combined,
AWS ALB, OpenTelemetry GenAI spans; gzip and stdin too): per-key rate and volume, extraction by
synthetic probing (PRADA), near-duplicate and boundary probing, systematic sweeps, repeated
queries, key sharing, key rotation, authentication-failure sprays, an isolation forest over
per-key behaviour, and drift of the model's inputs and outputs. API keys are shown masked.
Like `data-integrity`, a lean argparse command for CI steps and cron jobs.
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
    from custos.accesslog.report import MonitorReport

FORMATS = ("table", "json")
LOG_FORMATS = ("auto", "jsonl", "nginx", "alb", "otel")
FIELD_NAMES = ("ts", "api_key", "client_ip", "endpoint", "method", "status", "latency_ms",
               "input", "output", "user_agent")  # fmt: skip
SUMMARY = "Abuse patterns and drift in a served model's access logs, each a review item."
DETAILS = (
    "Extraction (PRADA), probing, sweeps, repeated queries, rate and volume, key sharing and "
    "rotation, authentication-failure sprays, an isolation forest per key, input and output "
    "drift. Exit 0: nothing at or above --fail-on; 1: detections or drift at or above it; 2: "
    "usage errors or a file that cannot be read. Needs pip install 'custos[monitor]'."
)
EXAMPLE = (
    "Example: zcat access.jsonl.gz | custos monitor - --format json --fail-on high; "
    "custos monitor logs/ --baseline-out .custos/access-baselines/api.json"
)
SHOWN_BROKEN = 5


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos monitor", description=f"{SUMMARY} {DETAILS}", epilog=EXAMPLE,
        formatter_class=Formatter,
    )  # fmt: skip
    add = built.add_argument
    add("paths", nargs="+", metavar="FILE|DIR|-",
        help="log files, directories of them, or - for standard input")  # fmt: skip
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--log-format", choices=LOG_FORMATS, default="auto",
        help="the log format (default: recognised from the first lines)")  # fmt: skip
    add("--field", action="append", default=[], metavar="NAME=SOURCE",
        help="read field NAME (ts, api_key, client_ip, ...) from SOURCE in JSON Lines logs "
        "(a dotted name reaches into objects); for nginx and ALB, api_key=PARAM reads the key "
        "from a query-string parameter")  # fmt: skip
    add("--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a detection or drift is at or above this severity "
        "(default: medium)")  # fmt: skip
    add("--baseline-out", type=Path, metavar="FILE",
        help="write this log's baseline (input/output feature distributions, per-key usual "
        "rates by key digest)")  # fmt: skip
    add("--baseline", type=Path, metavar="FILE",
        help="compare with a recorded baseline instead of the log's first part")  # fmt: skip
    return built


def _mapping(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, source = pair.partition("=")
        if not sep or not source or name not in FIELD_NAMES:
            raise UserError(f"--field {pair!r}: use NAME=SOURCE with NAME one of "
                            f"{', '.join(FIELD_NAMES)}")  # fmt: skip
        out[name] = source
    return out


def run(argv: list[str]) -> int:
    """Parse `argv` (after `monitor`), examine, print; returns the exit code."""
    args = parser().parse_args(argv)
    threshold = lean.threshold(args.fail_on)
    mapping = _mapping(args.field)
    from custos.accesslog.extra import require

    require()
    if "-" in args.paths and len(args.paths) > 1:
        raise UserError("- (standard input) cannot be combined with files")
    paths: list[Path] | str = "-" if args.paths == ["-"] else [Path(p) for p in args.paths]
    if args.baseline is not None and not args.baseline.is_file():
        raise UserError(f"{args.baseline}: no such baseline file")
    report, document = _examine(paths, args, mapping)
    if args.baseline_out is not None:
        from custos.accesslog.drift import dumps

        lean.write_baseline(args.baseline_out, dumps(document))
    if args.output_format == "json":
        write_json(report.to_json())
    else:
        _print(report, args.baseline_out)
    failed = any(f.severity >= threshold for f in report.findings())
    return EXIT_FINDINGS if failed else EXIT_OK


def _examine(paths: list[Path] | str, args: Any,
             mapping: dict[str, str]) -> tuple[MonitorReport, dict[str, Any]]:  # fmt: skip
    from custos.accesslog.monitor import examine

    options: dict[str, Any] = {"log_format": args.log_format, "mapping": mapping,
                               "baseline": args.baseline,
                               "want_baseline": args.baseline_out is not None}  # fmt: skip
    if not sys.stderr.isatty():
        return examine(paths, **options)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from custos.cli.output import err_console

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("monitor", total=None)
        return examine(paths, **options,
                       progress=lambda step: progress.update(task, description=step))  # fmt: skip


def _print(report: MonitorReport, written: Path | None) -> None:
    from rich.table import Table

    from custos.accesslog.report import iso
    from custos.cli.output import console

    code = console.encoding
    formats = ", ".join(report.formats)
    span = f"{iso(report.start)} .. {iso(report.end)}" if report.start is not None else "empty"
    title = (f"Access log: {report.source} ({formats}; {report.rows:,} requests, "
             f"{report.keys:,} keys, {report.addresses:,} addresses; {span})")  # fmt: skip
    table = Table(title=cell(title, code))
    for column in ("severity", "detection", "key / address", "score", "first seen", "last seen",
                   "what"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for d in report.detections:
        style = STYLE[d.severity.name]
        table.add_row(f"[{style}]{d.severity.name}[/{style}]", d.kind,
                      cell(d.api_key or d.client_ip or "", code), f"{d.score:.2f}",
                      iso(d.first_seen) or "", iso(d.last_seen) or "",
                      cell(d.message, code))  # fmt: skip
    console.print(table)
    drifted = [d for d in report.drift if d.drifted]
    if report.drift:
        where = ("the baseline file" if report.reference.get("source") == "baseline"
                 else f"the first {report.reference.get('share', 0):.0%} of the rows")  # fmt: skip
        console.print(f"drift against {where}: {len(drifted)} of {len(report.drift)} "
                      "features", sep="")  # fmt: skip
        for f in drifted:
            console.print(f"  {f.side} ", cell(f.feature, code),
                          f": PSI {f.psi:.3f}, Jensen-Shannon {f.js:.3f}, Wasserstein "
                          f"{f.wasserstein:.3f} sd", sep="")  # fmt: skip
    if report.broken_count:
        console.print(f"{report.broken_count:,} broken line(s), not analysed:")
        for b in report.broken[:SHOWN_BROKEN]:
            console.print("  ", cell(f"{b.file}:{b.line}", code), f": {b.reason}", sep="")
    scored = report.model.get("keys_scored", 0)
    skipped = report.model.get("skipped")
    console.print(f"model: {skipped}" if skipped else
                  f"model: isolation forest over {scored:,} keys, "
                  f"{sum(s.flagged for s in report.scores)} flagged")  # fmt: skip
    if written is not None:
        console.print("baseline written to ", cell(str(written), code), sep="")
    if not report.detections and not drifted:
        console.print("nothing to review above the thresholds")
    stats = report.stats
    console.print(f"[dim]{stats.get('seconds', 0):.1f} s, peak memory "
                  f"{stats.get('peak_rss_mb', 0):,.0f} MB[/dim]")  # fmt: skip
