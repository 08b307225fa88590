"""`custos probe URL`: deterministic checks against a running inference endpoint (TLS,
authentication, rate limiting, leakage, headers and CORS), each finding with the request and
the answer that show it. The key is read from an environment variable and never printed. Like
`scan-data`, a lean argparse command for CI steps.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from custos.cli import lean
from custos.cli.scan_model import STYLE, Formatter, cell, write_json
from custos.errors import EXIT_FINDINGS, EXIT_OK, UserError

if TYPE_CHECKING:
    from custos.endpoint.scan import ProbeReport

FORMATS = ("table", "json", "sarif")
SUMMARY = (
    "Probe a running inference endpoint: TLS, authentication, rate limiting, leakage, headers "
    "and CORS."
)
DETAILS = (
    "Traffic goes only to the scheme, host and port of URL. The key (from --key-env) is sent "
    "only over verified TLS or to a loopback host, and never printed. Bursts (at most 200 "
    "requests) and the key in the query string only with --owned or on a loopback host. "
    "Exit 0: nothing at or above --fail-on; 1: findings at or above it; 2: usage errors or an "
    "endpoint that cannot be probed (unreachable, no TLS handshake, no answer)."
)
EXAMPLE = "Example: API_KEY=... custos probe https://models.example.com/v1/score --key-env API_KEY"


def parser() -> argparse.ArgumentParser:
    built = argparse.ArgumentParser(
        prog="custos probe", description=f"{SUMMARY} {DETAILS}", epilog=EXAMPLE,
        formatter_class=Formatter,
    )  # fmt: skip
    add = built.add_argument
    add("url", metavar="URL", help="the endpoint's prediction URL (http:// or https://)")
    add("--key-env", metavar="VAR",
        help="the environment variable holding the API key (the key itself is never an "
        "argument)")  # fmt: skip
    add("--key-header", default="Authorization", metavar="NAME",
        help="the header carrying the key (default Authorization, as `Bearer KEY`; any other "
        "header carries the key alone)")  # fmt: skip
    add("--owned", action="store_true",
        help="you operate this endpoint: allow the rate-limit burst and the key in the query "
        "string (always allowed on loopback)")  # fmt: skip
    add("--format", "-f", choices=FORMATS, default="table", dest="output_format")
    add("--fail-on", default="medium", metavar="SEVERITY",
        help="exit 1 if a finding is at or above this severity (default: medium)")  # fmt: skip
    add("--ca", type=Path, metavar="FILE",
        help="trust only this CA certificate (PEM) instead of the system store")  # fmt: skip
    add("--timeout", default="5", metavar="S",
        help="seconds to wait for each connection and answer (default 5)")  # fmt: skip
    add("--data", default="{}", metavar="JSON",
        help="the JSON body of the prediction request (default {}); a valid input lets the "
        "probes see a real prediction")  # fmt: skip
    return built


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= 300):
        raise UserError(f"--timeout: {text!r} is not a number of seconds between 0 and 300")
    return value


def run(argv: list[str]) -> int:
    """Parse `argv` (after `probe`), probe, print; returns the exit code."""
    args = parser().parse_args(argv)
    threshold = lean.threshold(args.fail_on)
    timeout = _timeout(args.timeout)
    key = None
    if args.key_env is not None:
        key = os.environ.get(args.key_env)
        if not key:
            raise UserError(f"--key-env: ${args.key_env} is not set or empty")
    header = args.key_header.strip()
    if not header or not all(c.isalnum() or c in "-_" for c in header):
        raise UserError(f"--key-header: {args.key_header!r} is not a header name")
    ca: Path | None = args.ca
    if ca is not None and not ca.is_file():
        raise UserError(f"--ca {ca}: no such file")
    try:
        json.loads(args.data)
    except ValueError:
        raise UserError("--data: not JSON") from None
    from custos.endpoint.probe import Settings, trust_context
    from custos.endpoint.scan import probe_endpoint

    if ca is not None:
        trust_context(ca)  # a bad file is a usage error before any traffic
    settings = Settings(args.url, key, header, args.owned, ca, timeout, args.data)
    report = probe_endpoint(settings)
    if args.output_format == "json":
        write_json(report.to_json())
    elif args.output_format == "sarif":
        from custos.endpoint.sarif import to_sarif

        write_json(to_sarif(report))
    else:
        _print_table(report)
    failed = any(f.finding.severity >= threshold for f in report.findings)
    return EXIT_FINDINGS if failed else EXIT_OK


def _print_table(report: ProbeReport) -> None:
    from rich.table import Table

    from custos.cli.output import console

    code = console.encoding
    recording = report.recording
    table = Table(title=f"Endpoint probe: {recording.url}")
    for column in ("severity", "rule", "finding", "where"):
        table.add_column(column, overflow="fold")
    for item in report.findings:
        f = item.finding
        style = STYLE[f.severity.name]
        table.add_row(f"[{style}]{f.severity.name}[/{style}]", f.rule, cell(f.message, code),
                      cell(f.location, code))  # fmt: skip
    console.print(table)
    tls = recording.tls
    if tls is not None:
        cert = tls.certificate
        until = f", certificate until {cert.not_after:%Y-%m-%d}" if cert else ""
        chain = "verified" if tls.chain_error is None else "not verified"
        console.print(cell(f"TLS: {tls.version or 'no TLS 1.2+ handshake'}{until}; chain: "
                           f"{chain} ({tls.trust})", code), soft_wrap=True)  # fmt: skip
        for attempt in tls.legacy:
            console.print(f"  {attempt.protocol}: {attempt.result}", cell(
                f" ({attempt.detail})" if attempt.detail else "", code), sep="")  # fmt: skip
    for probe, why in report.not_run:
        console.print(f"[dim]not run: {probe}: [/dim]", cell(why, code), sep="", soft_wrap=True)
    console.print(f"checks run: {', '.join(recording.checks_run)}; {len(report.findings)} "
                  f"finding(s) in {report.duration_s:.2f} s")  # fmt: skip
